"""``sklearn-semg evaluate``: a saved model scored on labelled data (the files
it was trained on left out): accuracy, balanced accuracy, classification
report, confusion matrix figure."""

from pathlib import Path

from ._apply import _predict_both, _prediction_data
from ._common import (
    PROG,
    CLIError,
    _echo,
    _input_dir,
    _input_file,
    _output_file,
    _reported_warnings,
    _save_figure,
    _use_agg,
    _warn,
    _write_csv,
)
from ._model import _in_training_data, _load_model
from ._subjects import _model_subjects
from .predict import add_model_arguments


def add_parser(sub, formatter):
    p = sub.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description=(
            "Score MODEL on the labelled files of DATA_DIR (.npz files labelled "
            "by their names, or raw recordings labelled by --labels): "
            "accuracy, balanced accuracy, classification report (printed and "
            "written to --output) and a confusion matrix figure."
        ),
        formatter_class=formatter,
    )
    add_model_arguments(p, default_output="report.csv", extra=_evaluate_options)
    p.set_defaults(func=run)


def _evaluate_options(p):
    p.add_argument(
        "--figure",
        default=None,
        metavar="PNG",
        help="confusion matrix figure (default: next to "
        "--output, named OUTPUT_confusion.png)",
    )
    p.add_argument(
        "--include-training-files",
        action="store_true",
        help="also score the files the model was trained on (recognised "
        "by content; left out by default, as they test nothing)",
    )


def run(args):
    """Score a saved model on labelled data."""
    import numpy as np

    model = _input_file(args.model, "MODEL")
    folder = _input_dir(args.data_dir, "DATA_DIR")
    output = _output_file(args.output, args.force, "--output")
    figure = (
        Path(args.figure)
        if args.figure
        else output.with_name(output.stem + "_confusion.png")
    )
    _output_file(figure, args.force, "--figure")
    pipeline, metadata = _load_model(model, args.trust_pickle)
    # a per-subject model calibrates every subject on all its files, labelled
    # or not, exactly as predict does; the report then keeps the labelled ones
    per_subject = metadata.get("per_subject", False)
    X, files, y_true = _prediction_data(
        folder, pipeline, metadata, args, labelled_only=not per_subject
    )
    labelled = _scored_files(X, files, y_true, metadata, args, folder)
    subjects = _model_subjects(files, args, metadata)
    y_pred = np.asarray(_predict_both(pipeline, X, subjects, proba=False)).astype(str)
    y_true = np.asarray([y_true[i] for i in labelled], dtype=str)
    y_pred = y_pred[labelled]
    unknown = sorted({str(v) for v in y_true} - {str(c) for c in pipeline.classes_})
    if unknown:
        _warn(
            f"label(s) {unknown} of DATA_DIR are not among the model's classes "
            f"{[str(c) for c in pipeline.classes_]}; those files are always wrong."
        )
    _echo(
        f"{PROG} evaluate: {len(y_true)} labelled file(s) from {str(folder)!r} with "
        f"the {metadata.get('method_name', 'model')}."
    )
    labels = sorted({str(v) for v in y_true} | {str(v) for v in y_pred})
    _report(y_true, y_pred, labels, output, args.force)
    _use_agg()
    from ..plotting import plot_confusion_matrix

    fig = plot_confusion_matrix(
        y_true, y_pred, labels=labels, title=f"Confusion matrix ({folder.name})"
    )
    _save_figure(fig, figure, force=args.force)
    _echo(f"Wrote {str(output)!r} and {str(figure)!r}.")
    return 0


def _scored_files(X, files, y_true, metadata, args, folder):
    """The indices of the labelled files to score: the model's training
    files (recognised by content) are left out unless asked for."""
    labelled = [i for i, label in enumerate(y_true) if label is not None]
    if not labelled:
        raise CLIError(
            f"no labelled recording in DATA_DIR {str(folder)!r}; pass --labels CSV "
            "(columns file,label) for raw recordings."
        )
    trained_on = _in_training_data(X, files, metadata)
    if trained_on[labelled].any() and not args.include_training_files:
        labelled = [i for i in labelled if not trained_on[i]]
        if not labelled:
            raise CLIError(
                f"every labelled file of DATA_DIR {str(folder)!r} is in the model's "
                "training data: there is nothing left to test it on. Evaluate on "
                "files it was not trained on (or pass --include-training-files to "
                "score the training files anyway, which measures nothing but fit)."
            )
        _warn(
            "left out of the score: the training files above (pass "
            "--include-training-files to score them anyway)."
        )
    return labelled


def _report(y_true, y_pred, labels, output, force):
    """Scores and the classification report, printed and written as CSV."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import classification_report

    from ..evaluation import accuracy_summary

    with _reported_warnings():
        scores = accuracy_summary(y_true, y_pred)
    report = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=0
    )
    _echo(
        f"Accuracy {scores['accuracy']:.3f}, balanced accuracy "
        f"{scores['balanced_accuracy']:.3f}, chance {scores['chance']:.3f}\n"
    )
    _echo(
        classification_report(y_true, y_pred, labels=labels, zero_division=0, digits=3)
    )
    rows = []
    for name, values in report.items():
        if isinstance(values, dict):
            rows.append({"class": name, **values})
        else:
            rows.append(
                {
                    "class": name,
                    "precision": np.nan,
                    "recall": np.nan,
                    "f1-score": values,
                    "support": len(y_true),
                }
            )
    rows.append(
        {
            "class": "balanced_accuracy",
            "f1-score": scores["balanced_accuracy"],
            "support": len(y_true),
        }
    )
    _write_csv(pd.DataFrame(rows), output, force=force)
