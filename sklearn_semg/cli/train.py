"""``sklearn-semg train``: cross-validate a method on a folder of ``.npz``
matrices or on the bundled recordings (:mod:`sklearn_semg.evaluation`), fit it
on all the data and save it as a safe model file."""

import contextlib
import json
import time

from ._common import (
    CLIError,
    _atomic_write,
    _cache_folder,
    _echo,
    _input_dir,
    _output_file,
    _tty,
    _warn,
)
from ._methods import METHOD_NAMES
from ._model import _content_hashes, _model_device, _without_cache
from ._options import (
    _force_option,
    _int_at_least_zero,
    _method_option,
    _n_jobs_option,
    _positive_float,
    _positive_int,
    _subject_options,
    _window_options,
)
from ._recordings import _filter_recordings
from ._train_data import _bundled_data, _npz_data
from .demo import DEMO_SETTINGS


def add_parser(sub, formatter):
    p = sub.add_parser(
        "train",
        help="cross-validate, fit and save a model",
        description=(
            "Train method 1 (--method cnn-svm: HHT -> frozen CNN -> scaler -> "
            "SVM), method 2 (--method end-to-end: CNN trained end to end) or the "
            "recommended pipeline on DATA, a folder of .npz HHT matrices labelled "
            "by its index.csv (as `sklearn-semg hht` writes it) or by their "
            "names, or on the bundled MioTracker recordings (--bundled: raw "
            "recordings, HHT inside the saved pipeline, subject-wise folds). "
            "Prints a cross-validation report (accuracy, balanced accuracy, "
            "chance), fits on all data and saves a safe model file (no pickle): "
            "sklearn_semg.load_model(MODEL) is the fitted scikit-learn Pipeline, "
            "sklearn_semg.model_metadata(MODEL) what it was trained on."
        ),
        formatter_class=formatter,
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        default=None,
        help="folder of .npz HHT matrices (omit with --bundled)",
    )
    _method_option(p)
    _output_options(p)
    _data_options(p)
    _model_options(p)
    _checkpoint_options(p)
    _subject_options(p, training=True)
    p.set_defaults(func=run)


def _output_options(p):
    p.add_argument(
        "--output",
        default="model.semg",
        metavar="MODEL.semg",
        help="model file to write (a safe model file: skops and safetensors, "
        "no pickle; read it with sklearn_semg.load_model)",
    )
    _force_option(p, "overwrite an existing --output")


def _data_options(p):
    p.add_argument(
        "--bundled",
        action="store_true",
        help="train on the bundled MioTracker recordings",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="with --bundled: keep the cache of decompositions here, for later "
        "runs (default: a temporary folder, removed at the end)",
    )
    p.add_argument(
        "--cv",
        type=_int_at_least_zero,
        default=5,
        help="cross-validation folds (0: skip)",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        default=None,
        help="HHT size with --bundled (default 64); with DATA, the "
        "matrix size to expect (default: read from the files)",
    )
    p.add_argument(
        "--n-subjects",
        type=_positive_int,
        default=None,
        help="with --bundled: use only the first N subjects",
    )
    _n_jobs_option(p, "parallel HHT jobs with --bundled (-1: all cores)")
    _window_options(p, what="every recording (with --bundled)")
    p.add_argument(
        "--filter",
        action="store_true",
        help="with --bundled: a SEMGFilter as the first step of the pipeline "
        "(zero-phase 20-450 Hz band-pass, notch at the mains frequency and its "
        "harmonics, 50 or 60 Hz picked from the training recordings); for "
        "HHT matrices, filter with `sklearn-semg hht --filter` instead",
    )


def _model_options(p):
    end_to_end, cnn_svm = DEMO_SETTINGS["end-to-end"], DEMO_SETTINGS["cnn-svm"]
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=end_to_end["max_epochs"],
        help="most training epochs of end-to-end (it stops early when the "
        "validation accuracy stalls for "
        f"{end_to_end['early_stopping']} epochs)",
    )
    p.add_argument(
        "--base-channels",
        type=_positive_int,
        default=None,
        help="channels of the first CNN block (default: "
        f"{cnn_svm['base_channels']}, the demo's benchmarked settings; the "
        "other settings of both methods are the demo's too, see "
        "sklearn_semg.cli.DEMO_SETTINGS)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="batch size (default: 32 for cnn-svm features, 16 for end-to-end)",
    )
    p.add_argument(
        "--lr",
        type=_positive_float,
        default=1e-3,
        help="learning rate of end-to-end (Adam)",
    )
    p.add_argument(
        "--C",
        type=_positive_float,
        default=10.0,
        dest="C",
        help="SVM regularisation of cnn-svm",
    )
    p.add_argument(
        "--device", default="auto", help="torch device: cpu, cuda, cuda:N or auto"
    )
    p.add_argument("--seed", type=int, default=0, help="random_state")


def _checkpoint_options(p):
    p.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="end-to-end: write checkpoints of the final fit here (best, every 5 "
        "epochs, final; one run-* folder per run)",
    )
    p.add_argument(
        "--resume",
        default=None,
        metavar="WHICH",
        help="end-to-end: resume the final fit from a checkpoint: last, best or "
        "final (of --checkpoint-dir) or the path of a checkpoint file; use "
        "with --cv 0 to skip the cross-validation",
    )


# -- the command ----------------------------------------------------------------
def run(args):
    """Cross-validate, fit on all data and save a model."""
    folder, output = _check_args(args)
    data = _bundled_data(args) if args.bundled else _npz_data(args, folder)
    classes = _announce_classes(data.y)
    _echo(f"Method: {METHOD_NAMES[args.method]}")
    # Raw recordings go through the whole pipeline, HHT step included, in
    # every fold; one cache decomposes each recording once for all of them.
    cache = _cache_folder(args.cache_dir) if args.bundled else contextlib.nullcontext()
    with cache as memory:
        if args.bundled:
            _decompose(args, data, memory)

        def make(verbose=False, final=False):
            return _make_pipeline(
                args, verbose=verbose, fs=data.fs, memory=memory, final=final
            )

        cv_report = None
        if data.splitter is not None:
            cv_report = _cross_validate(args, make(), data)
        pipeline = _fit_final(args, make(verbose=_trains(args), final=True), data)
    pipeline = _without_cache(pipeline)
    if args.method == "end-to-end":  # this run's folders are not part of the model
        pipeline.set_params(clf__checkpoint_dir=None, clf__resume_from=None)
    metadata = _metadata(args, data, classes, cv_report)
    _save(args, output, pipeline, metadata, data)
    return 0


def _trains(args):
    """Whether the method trains a network (it prints its epochs)."""
    return args.method == "end-to-end"


def _check_args(args):
    """Every check of the options before any work: (DATA folder, output)."""
    if args.bundled and args.data is not None:
        raise CLIError("give either DATA or --bundled, not both.")
    if not args.bundled and args.data is None:
        raise CLIError(
            "missing DATA: a folder of .npz HHT matrices, or --bundled for the "
            "bundled MioTracker recordings."
        )
    folder = None if args.bundled else _input_dir(args.data, "DATA")
    output = _output_file(args.output, args.force, "--output")
    if args.cv == 1 or args.cv < 0:
        raise CLIError(f"--cv must be 0 (no cross-validation) or >= 2; got {args.cv}.")
    if not _trains(args) and (args.checkpoint_dir or args.resume):
        raise CLIError(
            "--checkpoint-dir and --resume are for method 2 (--method "
            "end-to-end), the method that trains a network."
        )
    if args.resume and not args.checkpoint_dir and args.resume in _CHECKPOINTS:
        raise CLIError(
            f"--resume {args.resume} needs --checkpoint-dir (the folder of earlier "
            "runs); or pass the path of a checkpoint file."
        )
    if args.method == "recommended" and not args.bundled:
        raise CLIError(
            "--method recommended reads raw recordings (its features need each "
            "recording's decomposition, not only its HHT matrix): train it with "
            "--bundled, or from Python with make_recommended_pipeline on your "
            "recordings."
        )
    if args.per_subject and _trains(args):
        raise CLIError(
            "--per-subject calibrates the features of method 1 (--method cnn-svm) "
            "and of the recommended pipeline; method 2 (--method end-to-end) "
            "normalises every matrix itself."
        )
    if not args.bundled:
        _check_raw_only_options(args)
    return folder, output


#: The checkpoints --resume names in --checkpoint-dir.
_CHECKPOINTS = ("best", "final", "last")


def _check_raw_only_options(args):
    """--window and --filter act on raw recordings, not on DATA's matrices."""
    given = [
        f"--{name}" for name in ("window", "step", "activity") if getattr(args, name)
    ]
    if given:
        raise CLIError(
            f"{given[0]} cuts raw recordings into windows, and DATA holds HHT "
            "matrices: cut the recordings when computing them (`sklearn-semg "
            f"hht --window SECONDS ...`, one .npz per window) and train on "
            "that folder, or train on raw recordings with --bundled."
        )
    if args.filter:
        raise CLIError(
            "--filter filters raw recordings before their HHT, and DATA holds "
            "HHT matrices: filter the recordings when computing them "
            "(`sklearn-semg hht --filter ...`), or train on raw recordings "
            "with --bundled."
        )


def _announce_classes(y):
    import numpy as np

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise CLIError(
            f"the training data have one class ({classes[0]!r}); expected at least 2."
        )
    _echo(
        "Classes: "
        + ", ".join(f"{c} ({n})" for c, n in zip(classes, counts, strict=True))
    )
    return classes


def _decompose(args, data, memory):
    """The EMD of every recording (filtered first with --filter), once, into
    the cache every fold reads."""
    from ..hht import EMDDecomposer

    X_emd = data.X
    if args.filter:
        # as the pipeline's filter step will: every fold that picks the same
        # mains line then reads these decompositions
        X_emd, described, _ = _filter_recordings(list(data.X), data.fs)
        _echo(f"Filter (SEMGFilter, first step of the pipeline): {described}.")
    what = "windows" if data.windowing else "recordings"
    _echo(f"EMD of {len(data.X)} {what} (once, cached for every fold) ...")
    EMDDecomposer(memory=memory, n_jobs=args.n_jobs, progress=_tty()).fit(
        X_emd
    ).transform(X_emd)


# -- the pipeline -----------------------------------------------------------------
def _make_pipeline(args, *, verbose, fs=None, memory=None, final=False):
    """The method's pipeline: with its HHT step for raw recordings (``fs``
    given), without it for HHT matrices; the ``final`` fit (not the CV's)
    writes and resumes checkpoints."""
    per_subject = getattr(args, "per_subject", False)
    # a SEMGFilter first (raw recordings only; _check_args checks)
    filt = dict(filter=True) if getattr(args, "filter", False) else {}
    if args.method == "recommended":
        from ..pipelines import make_recommended_pipeline

        return make_recommended_pipeline(
            fs=fs,
            per_subject=per_subject,
            memory=memory,
            n_jobs=args.n_jobs,
            random_state=args.seed,
            **filt,
        )
    if fs is None:
        hht = dict(hht=False)
    else:
        size = args.size or 64
        hht = dict(
            hht=True,
            fs=fs,
            hht_params={"n_freq_bins": size, "n_time_bins": size},
            memory=memory,
            n_jobs=args.n_jobs,
            **filt,
        )
    if args.method == "cnn-svm":
        return _cnn_svm_pipeline(args, hht, per_subject)
    return _end_to_end_pipeline(args, hht, verbose=verbose, final=final)


def _cnn_svm_pipeline(args, hht, per_subject):
    from ..pipelines import make_cnn_svm_pipeline

    settings = DEMO_SETTINGS["cnn-svm"]
    return make_cnn_svm_pipeline(
        **hht,
        base_channels=args.base_channels or settings["base_channels"],
        num_layers=settings["num_layers"],
        pooling=settings["pooling"],
        batch_size=args.batch_size or settings["batch_size"],
        C=args.C,
        device=_model_device(args.device),
        per_subject=per_subject,
        random_state=args.seed,
    )


def _end_to_end_pipeline(args, hht, *, verbose, final):
    """The demo's regularised settings (bench/bench_accuracy.py): the
    reference's (global pooling, no augmentation, no weight decay) learned
    nothing on the bundled data."""
    from ..pipelines import make_end_to_end_pipeline

    settings = DEMO_SETTINGS["end-to-end"]
    checkpoints = {}
    if final:
        checkpoints = dict(
            checkpoint_dir=args.checkpoint_dir,
            resume_from=args.resume,
            on_interrupt="raise",
        )
    return make_end_to_end_pipeline(
        **hht,
        # the CV's fits print no epoch table: a bar over the epochs instead
        progress="epochs" if not verbose and _tty() else False,
        module__base_channels=args.base_channels or settings["module__base_channels"],
        module__num_layers=settings["module__num_layers"],
        module__pooling=settings["module__pooling"],
        augment=settings["augment"],
        optimizer__weight_decay=settings["optimizer__weight_decay"],
        early_stopping=settings["early_stopping"],
        max_epochs=args.epochs,
        batch_size=args.batch_size or settings["batch_size"],
        lr=args.lr,
        device=_model_device(args.device),
        random_state=args.seed,
        verbose=int(verbose),
        **checkpoints,
    )


# -- cross-validation, the final fit, the model file ------------------------------
@contextlib.contextmanager
def _calibration_errors(per_subject):
    """A subject with too few recordings to calibrate on: one line."""
    try:
        yield
    except ValueError as exc:
        if per_subject and "calibration window" in str(exc):
            raise CLIError(str(exc)) from None
        raise


def _cross_validate(args, pipeline, data):
    """The cross-validation report of the model file (and its line)."""
    from ..evaluation import evaluate_pipeline

    n_folds = data.splitter.get_n_splits()
    _echo(f"Cross-validating ({n_folds} folds) ...")
    with _calibration_errors(args.per_subject):
        result = evaluate_pipeline(
            pipeline,
            data.X,
            data.y,
            groups=data.split_groups,
            cv=data.splitter,
            per_subject=args.per_subject,
        )
    _warn_single_class(result.y_pred, "in cross-validation")
    report = {"splitter": data.split_name, **result.summary}
    _echo(
        f"Cross-validation ({data.split_name}): accuracy "
        f"{report['accuracy']:.3f}, balanced accuracy "
        f"{report['balanced_accuracy']:.3f}, chance "
        f"{report['chance']:.3f} (mean fit {report['fit_time_s']:.1f} s)"
    )
    return report


def _warn_single_class(y_pred, where):
    """Warn when a model predicts one class for everything: it learned nothing."""
    import numpy as np

    predicted = np.unique(np.asarray(y_pred).astype(str))
    if len(predicted) == 1:
        _warn(
            f"the model predicts {str(predicted[0])!r} for every sample {where}: it has "
            "learned nothing that separates the classes (try more data, other "
            "settings or the other method)."
        )


def _fit_final(args, pipeline, data):
    """``pipeline`` fitted on all the data (the subjects routed with
    --per-subject)."""
    import sklearn

    _echo(f"Fitting on all {len(data.X)} samples ...")
    t0 = time.perf_counter()
    try:
        with _calibration_errors(args.per_subject):
            with sklearn.config_context(enable_metadata_routing=args.per_subject):
                if args.per_subject:
                    pipeline.fit(data.X, data.y, groups=data.groups)
                else:
                    pipeline.fit(data.X, data.y)
    except OSError as exc:  # a checkpoint or the cache: the file and the cause
        raise CLIError(
            f"could not write {str(exc.filename or args.checkpoint_dir)!r}: "
            f"{exc.strerror or exc}; no model was saved."
        ) from exc
    _echo(f"Fitted in {time.perf_counter() - t0:.1f} s.")
    if not args.per_subject:  # (a per-subject model needs the subjects)
        _warn_single_class(pipeline.predict(data.X), "on its own training data")
    return pipeline


def _plain_json(value):
    """``value`` with numpy scalars and arrays as plain JSON values."""
    import numpy as np

    def default(obj):
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    return json.loads(json.dumps(value, default=default))


def _metadata(args, data, classes, cv_report):
    """What the model file records about its training."""
    from .._version import __version__

    return _plain_json(
        {
            "method": args.method,
            "method_name": METHOD_NAMES[args.method],
            "input": "raw" if args.bundled else "hht",
            "fs": data.fs,
            "n_channels": data.input_shape[0],
            "input_shape": data.input_shape,
            "classes": [str(c) for c in classes],
            "trained_on": data.source,
            "n_samples": int(len(data.X)),
            "per_subject": bool(args.per_subject),
            "filter": bool(args.filter),
            # the windows it was trained on (None: whole recordings)
            "window": data.windowing,
            # predict and evaluate recognise these recordings by their content
            "training_data": {"sha256": sorted(set(_content_hashes(data.X)))},
            "cv": cv_report,
            "params": {
                k: getattr(args, k)
                for k in ("epochs", "base_channels", "batch_size", "lr", "C", "seed")
            },
            "sklearn_semg_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )


def _save(args, output, pipeline, metadata, data):
    from ..persistence import write_model

    _atomic_write(
        output, lambda f: write_model(f, pipeline, metadata), force=args.force
    )
    shape = data.input_shape
    if args.bundled:
        expects = (
            f"raw recordings with {metadata['n_channels']} channel(s) at {data.fs:g} Hz"
        )
        if data.windowing:
            expects += (
                f", cut as it was trained: windows of {data.windowing['window_s']:g} s"
            )
    else:
        expects = f"HHT matrices {shape[1]}x{shape[2]} (.npz)"
    _echo(f"Saved the fitted pipeline to {str(output)!r} (expects {expects}).")
