"""The data of ``sklearn-semg train`` and its folds: the bundled recordings
(whole, or cut into windows) with subject-wise folds, or a folder of ``.npz``
matrices with folds on the subjects, the source recordings of ``index.csv``,
or the files."""

from ._common import PROG, CLIError, _echo, _warn
from ._data import _load_npz, _source_recordings
from ._recordings import _cut_windows, _window_samples
from ._subjects import _subjects


def _bundled_data(args):
    """The bundled recordings (the first --n-subjects), or their windows,
    with GroupKFold on the subjects: a Bunch of ``X``, ``y``, ``groups``,
    ``split_groups``, ``splitter``, ``split_name``, ``fs``, ``input_shape``,
    ``source``, ``windowing``."""
    import numpy as np
    from sklearn.model_selection import GroupKFold
    from sklearn.utils import Bunch

    from ..datasets import load_movements

    bunch = load_movements()
    subjects = np.unique(bunch.groups)
    chosen = subjects if args.n_subjects is None else subjects[: args.n_subjects]
    keep = np.flatnonzero(np.isin(bunch.groups, chosen))
    fs, size = float(bunch.fs), args.size or 64
    data = Bunch(
        X=[bunch.data[i] for i in keep],
        y=np.asarray(bunch.target)[keep],
        groups=np.asarray(bunch.groups)[keep],
        fs=fs,
        windowing=None,
        source=(
            f"bundled MioTracker recordings ({len(keep)} recordings, "
            f"{len(chosen)} subjects)"
        ),
    )
    data.input_shape = [int(data.X[0].shape[0]), size, size]
    if args.cv and len(chosen) < args.cv:
        raise CLIError(
            f"--cv {args.cv} needs at least {args.cv} subjects; --n-subjects "
            f"gives {len(chosen)}."
        )
    if _window_samples(args, fs) is not None:
        _bundled_windows(args, data, bunch.metadata["file"].to_numpy()[keep], chosen)
    _echo(f"{PROG} train: {data.source}, fs {fs:g} Hz, HHT {size}x{size}.")
    data.splitter = GroupKFold(n_splits=args.cv) if args.cv else None
    data.split_name = f"GroupKFold({args.cv}) on subjects"
    data.split_groups = data.groups
    return data


def _bundled_windows(args, data, files, chosen):
    """``data`` cut into windows: every window keeps its recording's label
    and subject, so the subject-wise folds keep a recording's windows
    together."""
    import numpy as np

    windows, table, short = _cut_windows(list(files), data.X, data.fs, args)
    if short:
        _warn(
            f"skipped {len(short)} recording(s) shorter than one window:\n"
            + "\n".join(f"  - {n}: {why}" for n, why in short)
        )
    if not windows:
        raise CLIError(f"no recording is as long as one --window of {args.window:g} s.")
    rec = table["recording"].to_numpy()
    data.X, data.y, data.groups = np.stack(windows), data.y[rec], data.groups[rec]
    step = args.window if args.step is None else args.step
    data.windowing = {
        "window_s": args.window,
        "step_s": step,
        "activity": args.activity,
        "n_recordings": int(len(np.unique(rec))),
        "n_windows": int(len(data.X)),
    }
    data.source = (
        f"{len(data.X)} windows of {args.window:g} s every {step:g} s of "
        f"{data.windowing['n_recordings']} bundled MioTracker recordings "
        f"({len(chosen)} subjects)"
    )
    if args.cv and len(np.unique(data.groups)) < args.cv:
        raise CLIError(
            f"--cv {args.cv} needs at least {args.cv} subjects; the windows "
            f"kept come from {len(np.unique(data.groups))}."
        )


def _npz_data(args, folder):
    """The labelled matrices of DATA, and their folds (see :func:`_npz_folds`)."""
    import numpy as np
    from sklearn.utils import Bunch

    shape = (args.size, args.size) if args.size else None
    bunch = _load_npz(folder, shape, what="DATA")
    if len(bunch.data) == 0:
        raise CLIError(
            f"DATA {str(folder)!r} holds no labelled .npz file (only "
            f"{len(bunch.test_data)} unlabelled Test* file(s)); train needs "
            "names like BICEPS_full_M_001.npz."
        )
    files = bunch.metadata["file"].tolist()
    X = bunch.data[:, np.newaxis]
    data = Bunch(
        X=X,
        y=bunch.target,
        groups=_subjects(files, args, required=args.per_subject),
        fs=None,
        windowing=None,
        input_shape=[int(n) for n in X.shape[1:]],
        source=f"{len(X)} labelled .npz file(s) in {str(folder)!r}",
    )
    _echo(f"{PROG} train: {data.source}, matrices {X.shape[2]}x{X.shape[3]}.")
    if args.cv:
        _, counts = np.unique(data.y, return_counts=True)
        if counts.min() < args.cv:
            raise CLIError(
                f"--cv {args.cv} needs at least {args.cv} files per class; the "
                f"smallest class has {counts.min()}. Use a smaller --cv, or "
                "--cv 0 to skip cross-validation."
            )
    _npz_folds(args, data, folder, files)
    return data


def _npz_folds(args, data, folder, files):
    """The folds of DATA: on the subjects (--subjects, --subject-pattern), on
    the source recordings of index.csv (a recording's channels and windows
    stay together), or on the files."""
    from sklearn.model_selection import (
        GroupKFold,
        StratifiedGroupKFold,
        StratifiedKFold,
    )

    recordings = _source_recordings(folder, files)
    data.split_groups = data.groups
    if data.groups is not None and args.cv:
        n_subjects = len(set(data.groups))
        if n_subjects < args.cv:
            raise CLIError(
                f"--cv {args.cv} needs at least {args.cv} subjects; the "
                f"subjects given name {n_subjects}."
            )
        data.splitter = GroupKFold(n_splits=args.cv)
        data.split_name = f"GroupKFold({args.cv}) on subjects"
    elif recordings is not None and args.cv:
        data.split_groups = recordings
        if len(set(recordings)) < args.cv:
            raise CLIError(
                f"--cv {args.cv} needs at least {args.cv} source recordings; "
                f"index.csv of {str(folder)!r} names {len(set(recordings))}."
            )
        data.splitter = StratifiedGroupKFold(
            n_splits=args.cv, shuffle=True, random_state=args.seed
        )
        data.split_name = (
            f"StratifiedGroupKFold({args.cv}, shuffled) on the "
            f"{len(set(recordings))} source recordings of index.csv"
        )
    else:
        data.splitter = (
            StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.seed)
            if args.cv
            else None
        )
        data.split_name = (
            f"StratifiedKFold({args.cv}, shuffled), each file its own "
            "recording (no index.csv, no --subjects)"
        )
