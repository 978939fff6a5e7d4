"""``sklearn-semg predict``: a saved model applied to every file of a folder
(``.npz`` matrices or raw recordings); a CSV of predicted labels and
confidences."""

from ._apply import _predict_both, _prediction_data
from ._common import PROG, _echo, _input_dir, _input_file, _output_file, _write_csv
from ._model import _in_training_data, _load_model
from ._subjects import _model_subjects


def add_parser(sub, formatter):
    p = sub.add_parser(
        "predict",
        help="predict every file of a folder with a saved model",
        description=(
            "Apply MODEL (written by `sklearn-semg train`) to every file of "
            "DATA_DIR: .npz HHT matrices (labelled and unlabelled Test* "
            "files alike) for a model trained on matrices, raw text "
            "recordings for a model trained with --bundled. Writes a CSV with "
            "columns file, predicted_label, confidence (the probability of "
            "the predicted label) and in_training_data (the model was trained "
            "on this file's content; its accuracy line leaves those out). Model "
            "files written by `sklearn-semg train` load without running code "
            "from them; joblib/pickle files need --trust-pickle."
        ),
        formatter_class=formatter,
    )
    add_model_arguments(p, default_output="predictions.csv")
    p.set_defaults(func=run)


def add_model_arguments(p, *, default_output, extra=None):
    """The arguments of the commands that apply a model (predict, evaluate);
    ``extra(p)`` adds a command's own, after --output."""
    from ._options import _force_option, _n_jobs_option, _subject_options

    p.add_argument(
        "model", metavar="MODEL", help="model file written by `sklearn-semg train`"
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="also accept a joblib/pickle MODEL (older sklearn-semg model "
        "files, estimators saved with joblib.dump). Loading one runs code "
        "chosen by whoever wrote it: use only files from a trusted source",
    )
    p.add_argument(
        "data_dir",
        metavar="DATA_DIR",
        help="folder of .npz matrices or raw text recordings",
    )
    p.add_argument(
        "--output", default=default_output, metavar="CSV", help="CSV file to write"
    )
    if extra is not None:
        extra(p)
    p.add_argument(
        "--labels",
        metavar="CSV",
        default=None,
        help="labels of raw recordings: CSV with columns file,label",
    )
    p.add_argument(
        "--pattern",
        default=None,
        help="glob of the files of DATA_DIR to use: raw recordings (default "
        "*.txt) or .npz files (default: all; e.g. 'Test*')",
    )
    _n_jobs_option(p, "parallel HHT jobs for raw recordings")
    _subject_options(p, training=False)
    _force_option(p, "overwrite existing output files")


def run(args):
    """Predict every file of a folder with a saved model."""
    import numpy as np
    import pandas as pd

    model = _input_file(args.model, "MODEL")
    folder = _input_dir(args.data_dir, "DATA_DIR")
    output = _output_file(args.output, args.force, "--output")
    pipeline, metadata = _load_model(model, args.trust_pickle)
    X, files, y_true = _prediction_data(folder, pipeline, metadata, args)
    subjects = _model_subjects(files, args, metadata)
    trained_on = _in_training_data(X, files, metadata)
    proba, y_pred = _predict_both(pipeline, X, subjects)
    classes = [str(c) for c in pipeline.classes_]
    column = np.array([classes.index(str(p)) for p in y_pred.tolist()])
    confidence = proba[np.arange(len(y_pred)), column]
    table = pd.DataFrame(
        {"file": files, "predicted_label": y_pred, "confidence": confidence}
    )
    if subjects is not None:
        table.insert(1, "subject", subjects)
    table["confidence"] = table["confidence"].astype(float).round(6)
    table["in_training_data"] = trained_on
    _write_csv(table, output, force=args.force)
    _echo(
        f"{PROG} predict: {len(files)} file(s) from {str(folder)!r} with the "
        f"{metadata.get('method_name', 'model')} trained on "
        f"{metadata.get('trained_on', 'unknown data')}."
    )
    _summarise(table, y_pred, confidence, y_true, trained_on, output)
    return 0


def _summarise(table, y_pred, confidence, y_true, trained_on, output):
    """Counts per label, the accuracy on labelled new files, the unlabelled
    files' predictions (the first 20)."""
    import numpy as np

    files = table["file"].tolist()
    counts = table["predicted_label"].value_counts()
    _echo("Predicted: " + ", ".join(f"{label} {n}" for label, n in counts.items()))
    labelled = [
        i for i, lab in enumerate(y_true) if lab is not None and not trained_on[i]
    ]
    if labelled:
        correct = np.mean([str(y_pred[i]) == str(y_true[i]) for i in labelled])
        left_out = (
            f", {int(trained_on.sum())} training file(s) left out"
            if trained_on.any()
            else ""
        )
        _echo(
            f"Accuracy on the {len(labelled)} labelled file(s){left_out}: "
            f"{correct:.3f} (use `{PROG} evaluate` for the full report)."
        )
    unlabelled = [i for i, lab in enumerate(y_true) if lab is None]
    if unlabelled:
        shown = unlabelled[:20]
        _echo(f"Unlabelled file(s) ({len(unlabelled)}):")
        for i in shown:
            _echo(f"  {files[i]}: {y_pred[i]} (confidence: {confidence[i]:.4f})")
        if len(unlabelled) > len(shown):
            _echo(f"  ... {len(unlabelled) - len(shown)} more in {str(output)!r}")
    _echo(f"Wrote {str(output)!r} (columns " + ", ".join(table.columns) + ").")
