"""Applying a saved model (``predict``, ``evaluate``): the data of a folder in
the form the model expects, and its predictions."""

import fnmatch

from ._common import PROG, CLIError, _tty
from ._data import _load_npz, _load_recordings, _npz_files, _raw_files, _read_labels_csv


def _prediction_data(folder, pipeline, metadata, args, *, labelled_only=False):
    """(X, files, y_true or None per file) in the form the model expects."""
    if metadata["input"] == "hht":
        return _npz_prediction_data(folder, metadata, args, labelled_only)
    return _raw_prediction_data(folder, pipeline, metadata, args, labelled_only)


def _npz_prediction_data(folder, metadata, args, labelled_only):
    import numpy as np

    if not _npz_files(folder):
        hint = (
            f"; convert raw recordings with `{PROG} hht` first"
            if _raw_files(folder, args.pattern or "*.txt")
            else ""
        )
        raise CLIError(
            f"DATA_DIR {str(folder)!r} holds no .npz file; this model expects "
            f"HHT matrices{hint}."
        )
    shape = metadata.get("input_shape")
    if shape is not None and shape[0] != 1:
        raise CLIError(
            f"this model expects {shape[0]}-channel HHT matrices, but .npz "
            "folders hold one matrix per file."
        )
    bunch = _load_npz(folder, None if shape is None else shape[1:])
    files = bunch.metadata["file"].tolist()
    y_true = bunch.target.tolist()
    X = bunch.data
    if not labelled_only:
        files += bunch.test_metadata["file"].tolist()
        y_true += [None] * len(bunch.test_data)
        X = np.concatenate([X, bunch.test_data])
    if args.pattern is not None:
        keep = [i for i, f in enumerate(files) if fnmatch.fnmatchcase(f, args.pattern)]
        if not keep and len(files):
            raise CLIError(
                f"no usable .npz file of DATA_DIR {str(folder)!r} matches "
                f"--pattern {args.pattern!r} (e.g. {files[0]!r})."
            )
        X, files, y_true = X[keep], [files[i] for i in keep], [y_true[i] for i in keep]
    if len(X) == 0:
        expected = "" if shape is None else f" {shape[1]}x{shape[2]}"
        raise CLIError(
            f"DATA_DIR {str(folder)!r} holds no usable "
            + ("labelled " if labelled_only else "")
            + f".npz file; this model expects{expected} HHT matrices."
        )
    return X[:, np.newaxis], files, y_true


def _raw_prediction_data(folder, pipeline, metadata, args, labelled_only):
    pattern = args.pattern or "*.txt"
    if not _raw_files(folder, pattern):
        hint = (
            " (it holds .npz files, but this model includes the HHT step and "
            "expects raw recordings)"
            if _npz_files(folder)
            else ""
        )
        raise CLIError(
            f"DATA_DIR {str(folder)!r} has no file matching --pattern "
            f"{pattern!r}{hint}; expected raw text recordings."
        )
    bunch = _load_recordings(folder, pattern, "DATA_DIR")
    if not bunch.data:
        raise CLIError(f"no readable recording in DATA_DIR {str(folder)!r}.")
    _check_raw_recordings(bunch.filenames, bunch.data, metadata)
    labels = _read_labels_csv(args.labels) if getattr(args, "labels", None) else {}
    files = list(bunch.filenames)
    y_true = [labels.get(f) for f in files]
    X = list(bunch.data)
    if labelled_only:
        idx = [i for i, lab in enumerate(y_true) if lab is not None]
        X, files, y_true = (
            [X[i] for i in idx],
            [files[i] for i in idx],
            [y_true[i] for i in idx],
        )
    steps = getattr(pipeline, "steps", [])
    if steps and steps[0][0] == "hht":
        pipeline.set_params(hht__progress=_tty(), hht__n_jobs=args.n_jobs)
    return X, files, y_true


def _check_raw_recordings(files, recordings, metadata):
    """Every recording usable by the model (finite, long enough, with the
    model's channel count), or a CLIError naming the first that is not."""
    from ._recordings import _usable_recordings

    expected = metadata.get("n_channels")
    for name, x in zip(files, recordings, strict=True):
        if expected is not None and x.shape[0] != expected:
            raise CLIError(
                f"recording {name!r} has {x.shape[0]} channel(s); this model "
                f"expects {expected} (fs {metadata.get('fs')} Hz)."
            )
    _, _, bad = _usable_recordings(files, recordings)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise CLIError(f"recording {bad[0][0]!r} cannot be used: {bad[0][1]}{more}.")


def _predict_both(pipeline, X, subjects, *, proba=True):
    """``(predict_proba, predict)`` of ``pipeline`` (just ``predict`` without
    ``proba``), the subjects, if any, routed as ``groups``. The steps before
    the classifier run once for both."""
    import numpy as np
    import sklearn
    from sklearn.pipeline import Pipeline

    params = {} if subjects is None else {"groups": subjects}
    try:
        with sklearn.config_context(enable_metadata_routing=subjects is not None):
            if isinstance(pipeline, Pipeline) and len(pipeline.steps) > 1:
                Xt = pipeline[:-1].transform(X, **params)
                final = pipeline[-1]
            else:
                Xt, final = X, pipeline
            y_pred = np.asarray(final.predict(Xt))
            if not proba:
                return y_pred
            return np.asarray(final.predict_proba(Xt)), y_pred
    except ValueError as exc:
        if subjects is not None and "calibration window" in str(exc):
            raise CLIError(str(exc)) from None
        raise
