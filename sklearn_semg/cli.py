"""The ``sklearn-semg`` command line.

Subcommands (``sklearn-semg COMMAND --help`` for each):

``demo``
    Both methods on the bundled MioTracker recordings, with subject-wise
    cross-validation; prints a table and writes figures.
``hht``
    A folder of raw text recordings to a folder of ``.npz`` HHT matrices (one
    per file and channel) named so that they load back with their labels.
``train``
    Cross-validate and fit method 1 (``svm``) or method 2 (``e2e``) on an
    ``.npz`` folder or on the bundled data; save the fitted pipeline.
``predict``
    Apply a saved model to a folder of ``.npz`` matrices or raw recordings;
    write a CSV of predicted labels and confidences.
``evaluate``
    Score a saved model on labelled data: accuracy, balanced accuracy,
    classification report, confusion matrix figure.

Every command checks its inputs and outputs before any long work. A user
error (missing or empty folder, existing output without ``--force``, a file
that is not a model...) prints one line ``sklearn-semg COMMAND: error: ...``
on stderr and exits with status 2. Outputs are written to a temporary name in
the same folder and renamed into place, and an existing file is replaced only
with ``--force``.

This module depends on the library, never the reverse; heavy imports (torch,
matplotlib) happen inside the commands, so ``--help`` is fast.
"""

import argparse
import contextlib
import copy
import json
import os
import sys
import time
import warnings
from pathlib import Path

from .utils._io import atomic_write

__all__ = ["DEMO_SETTINGS", "QUICK_DEMO_SETTINGS", "main"]

PROG = "sklearn-semg"

#: Value of the ``"format"`` key of the joblib model files that ``train``
#: wrote before the safe format (read with --trust-pickle).
MODEL_FORMAT = "sklearn-semg-model"

#: Settings of ``sklearn-semg demo``: change them here, in one place. Every
#: method is a plain pipeline on the raw recordings; they share one cache
#: (``memory``), so each recording is decomposed once for all methods and
#: folds. The HHT follows the recommended settings (bench/bench_accuracy.py):
#: 64 rows over the sEMG band, amplitudes kept. They are printed by the demo.
DEMO_SETTINGS = {
    # Central samples kept of each recording (the shortest has 1158).
    "n_times": 1024,
    # Use only the first N subjects (None: all 19).
    "n_subjects": None,
    # The HHT step of methods 1 and 2 (the recommended pipeline has its own,
    # the same apart from normalisation).
    "hht": {
        "n_freq_bins": 64,
        "n_time_bins": 64,
        "max_imf": 10,
        "freq_range": "semg",
        "normalize": None,
    },
    "hht_n_jobs": 2,
    # Subject-wise folds (GroupKFold on the subject number), fitted two at a
    # time in parallel processes with one torch thread each: tiny networks
    # train faster on one thread, and two threads on a busy 2-core machine
    # can be ten times slower.
    "cv_folds": 5,
    "cv_n_jobs": 2,
    # Method 1: make_cnn_svm_pipeline(hht=False, **svm), with the encoder
    # pooled over time only (the reference's global pooling discards where
    # the energy sits in frequency; see docs/user_guide/benchmarks.rst).
    "svm": {
        "base_channels": 16,
        "num_layers": 2,
        "pooling": "time",
        "batch_size": 32,
        "C": 10.0,
    },
    # Method 2: make_end_to_end_pipeline(hht=False, **e2e), regularised for
    # small data (time pooling, augmentation, weight decay, early stopping).
    "e2e": {
        "module__base_channels": 16,
        "module__num_layers": 3,
        "module__pooling": "time",
        "augment": True,
        "optimizer__weight_decay": 1e-3,
        # patience 5 (the benchmark used 8) ends each fold three epochs
        # sooner with the same best weights: same accuracy on these data
        # (0.524), a third less training time
        "early_stopping": 5,
        "max_epochs": 40,
        "batch_size": 16,
        "lr": 1e-3,
    },
    # The recommended pipeline is evaluated a second time with a SEMGFilter
    # first (make_recommended_pipeline(filter=...)), on the same folds.
    "filter": {"freq_range": "semg", "mains": "auto"},
    "device": "cpu",
    "random_state": 0,
}

#: ``demo --quick``: a tiny subset, for tests and a first look (seconds).
QUICK_DEMO_SETTINGS = {
    **DEMO_SETTINGS,
    "n_times": 256,
    "n_subjects": 3,
    "hht": {
        "n_freq_bins": 16,
        "n_time_bins": 16,
        "max_imf": 10,
        "freq_range": "semg",
        "normalize": None,
    },
    "hht_n_jobs": 1,
    "cv_folds": 3,
    "cv_n_jobs": 1,
    "svm": {
        "base_channels": 4,
        "num_layers": 2,
        "pooling": "time",
        "batch_size": 32,
        "C": 10.0,
    },
    "e2e": {
        "module__base_channels": 4,
        "module__num_layers": 2,
        "module__pooling": "time",
        "augment": True,
        "max_epochs": 2,
        "batch_size": 32,
        "lr": 1e-3,
    },
}

METHOD_NAMES = {
    "recommended": "recommended: HHT features + marginal spectrum -> SVM",
    "recommended_filter": "recommended + SEMGFilter",
    "recommended_subject": "recommended, calibrated per subject",
    "svm": "method 1: HHT -> frozen CNN -> SVM",
    "e2e": "method 2: HHT -> CNN end to end",
}


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


# -- small helpers ----------------------------------------------------------
def _echo(*args):
    print(*args, flush=True)


def _warn(message):
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _reported_warnings():
    """Show library warnings (skipped files...) as ``warning:`` lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for w in caught:
        if issubclass(w.category, UserWarning):
            _warn(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _tty():
    """True when standard error is a terminal: progress bars are shown only
    there (in a log file they are thousands of carriage returns)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress(iterable, **kwargs):
    """A progress bar on a terminal; elsewhere one line per finished item
    (a sign of life in logs)."""
    if _tty():
        from tqdm.auto import tqdm

        return tqdm(iterable, file=sys.stderr, **kwargs)
    return _logged(iterable, kwargs.get("desc", ""), kwargs.get("total"))


def _logged(iterable, desc, total):
    start = time.perf_counter()
    for i, item in enumerate(iterable, 1):
        of = f"/{total}" if total else ""
        print(
            f"{PROG}: {desc} {i}{of} done ({time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        yield item


def _input_dir(path, what):
    """An existing folder, or a CLIError that names it."""
    folder = Path(path)
    if not folder.exists():
        raise CLIError(f"{what} {str(folder)!r} does not exist; expected a folder.")
    if not folder.is_dir():
        raise CLIError(f"{what} {str(folder)!r} is a file; expected a folder.")
    return folder


def _input_file(path, what):
    file = Path(path)
    if not file.exists():
        raise CLIError(f"{what} {str(file)!r} does not exist.")
    if not file.is_file():
        raise CLIError(f"{what} {str(file)!r} is a folder; expected a file.")
    return file


def _output_file(path, force, what):
    """Check, before any work, that ``path`` may be written."""
    file = Path(path)
    if file.is_dir():
        raise CLIError(f"{what} {str(file)!r} is a folder; expected a file name.")
    if file.exists() and not force:
        raise CLIError(
            f"{what} {str(file)!r} already exists; pass --force to overwrite it "
            "(nothing was written)."
        )
    if file.parent.exists() and not file.parent.is_dir():
        raise CLIError(f"the folder of {what} {str(file.parent)!r} is a file.")
    return file


def _atomic_write(path, write, *, force):
    """:func:`~sklearn_semg.utils.atomic_write`, with the CLI's error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return atomic_write(path, write, overwrite=force)
    except FileExistsError:
        raise CLIError(
            f"{str(path)!r} appeared while writing; not overwritten (pass --force "
            "to replace it)."
        ) from None


def _write_csv(frame, path, *, force):
    def write(f):
        f.write(frame.to_csv(index=False).encode("utf-8"))

    return _atomic_write(path, write, force=force)


def _use_agg():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


def _save_figure(fig, path, *, force):
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        _atomic_write(
            path,
            lambda f: fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight"),
            force=force,
        )
    finally:
        plt.close(fig)
    return Path(path)


@contextlib.contextmanager
def _cache_folder(cache_dir):
    """The ``memory`` of a command: ``--cache-dir`` (kept), or a temporary
    folder removed at the end."""
    if cache_dir is not None:
        folder = Path(cache_dir)
        if folder.exists() and not folder.is_dir():
            raise CLIError(f"--cache-dir {str(folder)!r} is a file; expected a folder.")
        folder.mkdir(parents=True, exist_ok=True)
        yield str(folder)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sklearn-semg-cache-") as folder:
        yield folder


def _without_cache(pipeline):
    """``pipeline`` with every ``memory`` parameter of its steps unset, so a
    saved model never points at a cache folder of the run that made it."""
    cached = {
        name: None
        for name, value in pipeline.get_params(deep=True).items()
        if name.rsplit("__", 1)[-1] == "memory" and value is not None
    }
    return pipeline.set_params(**cached) if cached else pipeline


def _chance_level(y):
    """Accuracy of always predicting the most frequent class."""
    import numpy as np

    _, counts = np.unique(y, return_counts=True)
    return float(counts.max() / counts.sum())


def _format_table(rows, columns):
    """Fixed-width text table of ``rows`` (dicts) over ``columns``."""
    cells = [[str(c) for c in columns]]
    for row in rows:
        cells.append(
            [
                f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c])
                for c in columns
            ]
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = []
    for k, r in enumerate(cells):
        lines.append(
            "  ".join(
                r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i])
                for i in range(len(columns))
            )
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _take(X, indices):
    """Rows ``indices`` of an array, or items of a list of recordings."""
    if isinstance(X, list):
        return [X[i] for i in indices]
    return X[indices]


def _fit_predict_fold(make_estimator, X, y, train, test, keep, subjects=None):
    """Fit one fold; (test predictions, fit time, fitted estimator or None).

    With ``subjects``, they reach the per-subject steps as ``groups`` through
    metadata routing, at fit (training subjects) and predict (test subjects).
    """
    import sklearn

    estimator = make_estimator()
    fit_params = {} if subjects is None else {"groups": subjects[train]}
    predict_params = {} if subjects is None else {"groups": subjects[test]}
    with sklearn.config_context(enable_metadata_routing=subjects is not None):
        start = time.perf_counter()
        estimator.fit(_take(X, train), y[train], **fit_params)
        fit_time = time.perf_counter() - start
        y_pred = estimator.predict(_take(X, test), **predict_params)
    return y_pred, fit_time, estimator if keep else None


def _cross_val_predict(
    make_estimator, X, y, splits, *, desc, keep_first=False, n_jobs=None, subjects=None
):
    """Out-of-fold predictions (as ``cross_val_predict``), with fit times.

    Returns ``(y_pred, fit_times, first_estimator)``; the first fold's fitted
    estimator is kept when ``keep_first`` (for the training-history figure).
    With ``n_jobs``, folds run in parallel processes, each limited to its
    share of the CPU threads (torch included), so they do not oversubscribe.
    ``subjects`` go to per-subject pipelines (see :func:`_fit_predict_fold`).
    """
    import numpy as np
    from sklearn.utils.parallel import Parallel, delayed

    y_pred = np.empty(len(y), dtype=object)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_predict_fold)(
            make_estimator, X, y, train, test, keep_first and k == 0, subjects
        )
        for k, (train, test) in enumerate(splits)
    )
    fit_times, first = [], None
    for (_, test), (pred, fit_time, fitted) in zip(
        splits,
        _progress(results, desc=desc, unit="fold", total=len(splits)),
        strict=True,
    ):
        y_pred[test] = pred
        fit_times.append(fit_time)
        first = first if fitted is None else fitted
    return y_pred.astype(y.dtype), fit_times, first


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


def _scores(y, y_pred):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    return {
        "accuracy": float(accuracy_score(y, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, y_pred)),
        "chance": _chance_level(y),
    }


# -- demo -------------------------------------------------------------------
def _central_crop(recording, n_times, name):
    total = recording.shape[-1]
    if total < n_times:
        raise CLIError(
            f"recording {name} has {total} samples, fewer than n_times={n_times}."
        )
    start = (total - n_times) // 2
    return recording[:, start : start + n_times]


def _describe_settings(settings):
    hht = settings["hht"]
    lines = [
        f"  recordings : central {settings['n_times']} samples of each "
        + (
            "(all subjects)"
            if settings["n_subjects"] is None
            else f"(first {settings['n_subjects']} subjects only)"
        ),
        f"  HHT        : {hht['n_freq_bins']}x{hht['n_time_bins']} per channel, "
        f"max_imf={hht['max_imf']}, freq_range={hht['freq_range']}, "
        f"n_jobs={settings['hht_n_jobs']} (one EMD per recording, cached for "
        "every method and fold)",
        f"  CV         : GroupKFold, {settings['cv_folds']} folds on subjects, "
        f"{settings['cv_n_jobs']} at a time (one torch thread each)",
        "  filter     : recommended pipeline again with SEMGFilter("
        + ", ".join(f"{k}={v!r}" for k, v in settings["filter"].items())
        + ") first",
        "  method 1   : " + ", ".join(f"{k}={v}" for k, v in settings["svm"].items()),
        "  method 2   : " + ", ".join(f"{k}={v}" for k, v in settings["e2e"].items()),
        f"  device     : {settings['device']}, random_state={settings['random_state']}",
    ]
    return "\n".join(lines)


def cmd_demo(args):
    """Both methods on the bundled recordings; table and figures."""
    settings = copy.deepcopy(QUICK_DEMO_SETTINGS if args.quick else DEMO_SETTINGS)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--output {str(out)!r} is a file; expected a folder.")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CLIError(
            f"--output folder {str(out)!r} exists and is not empty; pass --force to "
            "overwrite the demo's files in it, or choose another --output."
        )
    started = time.perf_counter()

    import numpy as np
    from sklearn.model_selection import GroupKFold

    from .datasets import load_movements
    from .hht import EMDDecomposer, HHTTransformer
    from .pipelines import (
        make_cnn_svm_pipeline,
        make_end_to_end_pipeline,
        make_recommended_pipeline,
    )
    from .preprocessing import SEMGFilter

    bunch = load_movements()
    subjects = np.unique(bunch.groups)
    if settings["n_subjects"] is not None:
        keep = np.flatnonzero(np.isin(bunch.groups, subjects[: settings["n_subjects"]]))
    else:
        keep = np.arange(len(bunch.data))
    y = np.asarray(bunch.target)[keep]
    groups = np.asarray(bunch.groups)[keep]
    fs = float(bunch.fs)
    n_times = settings["n_times"]
    raw = np.stack(
        [
            _central_crop(bunch.data[i], n_times, bunch.metadata["file"].iloc[i])
            for i in keep
        ]
    )
    seed = settings["random_state"]
    n_jobs = settings["hht_n_jobs"]

    _echo(
        f"{PROG} demo{' --quick' if args.quick else ''}: bundled MioTracker "
        f"recordings (MuscleTracker, CC0): {len(keep)} of {len(bunch.data)} "
        f"recordings, {raw.shape[1]} channels, fs {fs:g} Hz, "
        f"{len(np.unique(y))} movements, {len(np.unique(groups))} subjects."
    )
    _echo("Settings (sklearn_semg.cli.DEMO_SETTINGS):")
    _echo(_describe_settings(settings))

    n_steps = len(METHOD_NAMES) + 2  # the EMD, every method, the figures
    with _cache_folder(args.cache_dir) as memory:
        _echo(
            f"\n[1/{n_steps}] EMD of {len(raw)} recordings x {raw.shape[1]} "
            "channels, raw and filtered, once, into the cache every method reads ..."
        )
        t0 = time.perf_counter()
        EMDDecomposer(memory=memory, n_jobs=n_jobs, progress=_tty()).fit_transform(raw)
        # the filter step of every fold picks its mains line from its training
        # recordings; where it picks the line picked here from all of them, it
        # filters the same way and reads these decompositions
        filt = SEMGFilter(fs=fs, **settings["filter"]).fit(raw)
        EMDDecomposer(memory=memory, n_jobs=n_jobs, progress=_tty()).fit_transform(
            filt.transform(raw)
        )
        _echo(f"      decomposed in {time.perf_counter() - t0:.1f} s")
        _echo(f"      SEMGFilter on all recordings: {_describe_filter(filt)}")

        cv = GroupKFold(n_splits=settings["cv_folds"])
        splits = list(cv.split(raw, y, groups))
        results, predictions = [], {}
        common = dict(fs=fs, hht_params=settings["hht"], memory=memory, n_jobs=n_jobs)

        def recommended():
            return make_recommended_pipeline(
                fs=fs, memory=memory, n_jobs=n_jobs, random_state=seed
            )

        def recommended_filter():
            return make_recommended_pipeline(
                fs=fs,
                memory=memory,
                n_jobs=n_jobs,
                random_state=seed,
                filter=settings["filter"],
            )

        def recommended_subject():
            return make_recommended_pipeline(
                fs=fs,
                memory=memory,
                n_jobs=n_jobs,
                per_subject=True,
                random_state=seed,
            )

        def svm():
            return make_cnn_svm_pipeline(
                device=settings["device"],
                random_state=seed,
                **common,
                **settings["svm"],
            )

        def e2e():
            return make_end_to_end_pipeline(
                device=settings["device"],
                random_state=seed,
                verbose=0,
                **common,
                **settings["e2e"],
            )

        first_net = None
        methods = (
            ("recommended", recommended),
            ("recommended_filter", recommended_filter),
            ("recommended_subject", recommended_subject),
            ("clf", svm),
            ("e2e", e2e),
        )
        for step, (key, make) in enumerate(methods, start=2):
            _echo(
                f"\n[{step}/{n_steps}] {METHOD_NAMES[key]}: {len(splits)}-fold "
                "subject-wise CV"
            )
            step_started = time.perf_counter()
            y_pred, fit_times, first = _cross_val_predict(
                make,
                raw,
                y,
                splits,
                desc=key,
                keep_first=key == "e2e",
                n_jobs=settings["cv_n_jobs"],
                # each test subject calibrated on its own recordings
                subjects=groups if key == "recommended_subject" else None,
            )
            if key == "e2e":
                first_net = first
            _echo(f"      done in {time.perf_counter() - step_started:.1f} s")
            predictions[key] = y_pred
            results.append(
                {
                    "method": METHOD_NAMES[key],
                    **_scores(y, y_pred),
                    "fit_time_s": float(np.mean(fit_times)),
                }
            )
        examples = [int(np.flatnonzero(y == label)[0]) for label in np.unique(y)]
        hht = HHTTransformer(fs=fs, memory=memory, **settings["hht"])
        X = hht.fit_transform(raw[examples])

    _echo(f"\n[{n_steps}/{n_steps}] Figures")
    _use_agg()
    import matplotlib.pyplot as plt

    from .plotting import plot_confusion_matrix, plot_hht, plot_history

    written = []
    classes = np.unique(y)
    fig, axes = plt.subplots(
        len(classes),
        raw.shape[1],
        figsize=(5.2 * raw.shape[1], 2.7 * len(classes)),
        squeeze=False,
    )
    for k, (row, label) in enumerate(zip(axes, classes, strict=True)):
        plot_hht(
            X[k],
            transformer=hht,
            n_times=n_times,
            ax=row,
            title=f"{label} (subject {groups[examples[k]]})",
            vmax=float(X.max()),  # one colour scale for every panel
        )
    fig.suptitle(
        f"HHT ({X.shape[2]}x{X.shape[3]}) of one recording per movement "
        f"(central {n_times} samples)"
    )
    fig.tight_layout()
    written.append(_save_figure(fig, out / "hht_examples.png", force=True))
    for key, name in (
        ("recommended", "recommended"),
        ("recommended_filter", "recommended_filtered"),
        ("recommended_subject", "recommended_per_subject"),
        ("clf", "method1_cnn_svm"),
        ("e2e", "method2_end_to_end"),
    ):
        fig = plot_confusion_matrix(
            y,
            predictions[key],
            labels=classes,
            normalize="true",
            title=f"{METHOD_NAMES[key]}\n(out-of-fold, subject-wise CV)",
        )
        written.append(_save_figure(fig, out / f"confusion_{name}.png", force=True))
    fig = plot_history(
        first_net[-1],
        title=f"Method 2 training history (fold 1 of {len(splits)})",
        valid_label="Validation (random 20% of the training fold, not subject-wise)",
    )
    written.append(_save_figure(fig, out / "history_method2.png", force=True))

    import pandas as pd

    table = pd.DataFrame(results)
    written.append(_write_csv(table, out / "results.csv", force=True))

    _echo("\nResults (out-of-fold predictions, subject-wise GroupKFold):")
    _echo(
        _format_table(
            results,
            ["method", "accuracy", "balanced_accuracy", "fit_time_s", "chance"],
        )
    )
    _echo(
        "(fit_time_s: mean fit time per fold; chance: accuracy of always "
        "predicting the most frequent class)"
    )
    _echo(
        f"({METHOD_NAMES['recommended_filter']}: the recommended pipeline on the "
        "same folds, each recording first through a zero-phase 20-450 Hz "
        "band-pass and a notch at the mains frequency and its harmonics, 50 or "
        "60 Hz picked from the training recordings; off by default: "
        "make_recommended_pipeline(filter=True), `sklearn-semg train --filter`)"
    )
    _echo(f"\nFigures and results written to {str(out)}/:")
    for path in written:
        _echo(f"  {path.name}")
    _echo(f"Total wall time: {time.perf_counter() - started:.1f} s")
    return 0


# -- hht --------------------------------------------------------------------
def _read_labels_csv(path, *, allowed=None):
    """``{file name: label}`` from a CSV with columns ``file`` and ``label``."""
    import pandas as pd

    file = _input_file(path, "--labels")
    try:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise CLIError(f"--labels {str(file)!r} is not a readable CSV: {exc}") from exc
    missing = {"file", "label"} - set(table.columns)
    if missing:
        raise CLIError(
            f"--labels {str(file)!r} lacks the column(s) {sorted(missing)}; expected "
            f"columns 'file' and 'label', got {list(table.columns)}."
        )
    table = table[table["label"].str.strip() != ""]
    mapping = {
        os.path.basename(f.strip()): lab.strip()
        for f, lab in zip(table["file"], table["label"], strict=True)
    }
    if allowed is not None:
        bad = sorted({lab for lab in mapping.values() if lab not in allowed})
        if bad:
            raise CLIError(
                f"--labels {str(file)!r} has label(s) {bad}; expected labels among "
                f"{list(allowed)} ('{{gender}}_{{movement}}', the classes the .npz "
                "file names carry)."
            )
    return mapping


def _subjects(files, args, *, required):
    """The subject of every file, from ``--subjects`` (a CSV with columns
    ``file`` and ``subject``) or ``--subject-pattern`` (a regular expression
    whose first group, searched in the file name, is the subject); None when
    neither is given and none is required."""
    import re

    import numpy as np
    import pandas as pd

    csv = getattr(args, "subjects", None)
    pattern = getattr(args, "subject_pattern", None)
    if csv and pattern:
        raise CLIError("give either --subjects or --subject-pattern, not both.")
    if not csv and not pattern:
        if required:
            raise CLIError(
                "this model calibrates every subject on its own recordings (it was "
                "trained with --per-subject): give the subject of every file with "
                "--subjects CSV (columns file,subject) or --subject-pattern REGEX "
                "(its first group, searched in each file name, e.g. '^(\\d+)_')."
            )
        return None
    names = [Path(f).name for f in files]
    if csv:
        path = _input_file(csv, "--subjects")
        try:
            table = pd.read_csv(path, dtype=str)
        except Exception as exc:
            raise CLIError(
                f"--subjects {str(path)!r} is not a readable CSV ({exc})."
            ) from None
        if not {"file", "subject"} <= set(table.columns):
            raise CLIError(
                f"--subjects {str(path)!r} needs the columns file and subject; got "
                f"{list(table.columns)}."
            )
        empty = table["file"].isna() | table["subject"].isna()
        if empty.any():
            raise CLIError(
                f"--subjects {str(path)!r} has {int(empty.sum())} row(s) with an "
                f"empty file or subject, the first at line {int(empty.idxmax()) + 2}."
            )
        repeated = table["file"][table["file"].duplicated()].tolist()
        if repeated:
            raise CLIError(
                f"--subjects {str(path)!r} names {len(repeated)} file(s) twice, "
                f"e.g. {repeated[:3]}; expected one row per file."
            )
        mapping = dict(zip(table["file"], table["subject"], strict=True))
        missing = [n for n in names if n not in mapping]
        if missing:
            raise CLIError(
                f"--subjects {str(path)!r} has no subject for {len(missing)} file(s), "
                f"e.g. {missing[:3]}; expected one row per file."
            )
        return np.asarray([mapping[n] for n in names], dtype=object)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise CLIError(
            f"--subject-pattern {pattern!r} is not a regular expression ({exc})."
        ) from None
    if regex.groups < 1:
        raise CLIError(
            f"--subject-pattern {pattern!r} has no group: put the subject in "
            "parentheses, e.g. '^(\\d+)_'."
        )
    found = [regex.search(n) for n in names]
    missing = [n for n, m in zip(names, found, strict=True) if m is None]
    if missing:
        raise CLIError(
            f"--subject-pattern {pattern!r} does not match {len(missing)} file "
            f"name(s), e.g. {missing[:3]}."
        )
    return np.asarray([m.group(1) for m in found], dtype=object)


def _model_subjects(files, args, metadata):
    """The subjects for a saved model: required by a per-subject model,
    ignored (with a warning) by the others."""
    if metadata.get("per_subject", False):
        return _subjects(files, args, required=True)
    if getattr(args, "subjects", None) or getattr(args, "subject_pattern", None):
        _warn(
            "this model was not trained with --per-subject; --subjects and "
            "--subject-pattern are ignored."
        )
    return None


def _subject_options(p, *, training):
    what = (
        "calibrate every subject on its own recordings (method 1 and the "
        "recommended pipeline; needs the subjects, see --subjects)"
    )
    if training:
        p.add_argument("--per-subject", action="store_true", help=what)
    p.add_argument(
        "--subjects",
        default=None,
        metavar="CSV",
        help="subject of every file: a CSV with columns file,subject",
    )
    p.add_argument(
        "--subject-pattern",
        default=None,
        metavar="REGEX",
        help="subject of every file: the first group of REGEX searched in its "
        "name, e.g. '^(\\d+)_' for 3_1_2.txt",
    )


def cmd_hht(args):
    """Raw text recordings to a folder of .npz HHT matrices."""
    source = _input_dir(args.input_dir, "INPUT_DIR")
    files = sorted(f for f in source.glob(args.pattern) if f.is_file())
    if not files:
        raise CLIError(
            f"INPUT_DIR {str(source)!r} has no file matching --pattern "
            f"{args.pattern!r}; expected text recordings (one column per channel)."
        )
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise CLIError(f"OUTPUT_DIR {str(out)!r} is a file; expected a folder.")
    index = Path(args.index) if args.index else None
    if index is not None:
        _output_file(index, args.force, "--index")
        _writable_folder(index.parent, "--index")
    _writable_folder(out.parent if not out.exists() else out, "OUTPUT_DIR")
    window = _window_samples(args, args.fs)  # bad --window/--step: before any work

    def is_output(name):
        return name.lower().endswith(".npz") or (index is None and name == "index.csv")

    if out.is_dir() and not args.force:
        existing = sorted(p.name for p in out.iterdir() if is_output(p.name))
        if existing:
            raise CLIError(
                f"OUTPUT_DIR {str(out)!r} already holds {len(existing)} output "
                f"file(s) (e.g. {existing[0]}); pass --force to replace them, or "
                "choose an empty folder (nothing was written)."
            )

    from .datasets import NPZ_NAME_LABELS, load_recordings_dir, save_hht_dir
    from .datasets._hht_dir import _write_npz_atomic
    from .hht import HHTTransformer
    from .utils import check_recordings
    from .utils._io import atomic_folder

    # Files are named after their recording, labels kept in index.csv (any
    # label set); --muscle or an --index elsewhere ask for the naming scheme
    # whose names carry the six labels (MUSCLE_full_M_001.npz).
    scheme = args.muscle is not None or index is not None
    allowed = NPZ_NAME_LABELS if scheme else None
    labels = _read_labels_csv(args.labels, allowed=allowed) if args.labels else {}
    if args.muscle is not None:
        from .datasets._hht_dir import _check_muscle

        try:  # the check save_hht_dir makes, before any work
            _check_muscle(args.muscle)
        except ValueError as exc:
            raise CLIError(f"--muscle: {exc}") from None
    with _reported_warnings():
        bunch = load_recordings_dir(source, pattern=args.pattern)
    # every recording checked on its own: a bad one is skipped by name
    names, recordings, skipped = [], [], []
    for name, recording in zip(bunch.filenames, bunch.data, strict=True):
        try:
            check_recordings([recording])
        except ValueError as exc:
            skipped.append((name, str(exc).replace("X[0]", "the recording")))
            continue
        names.append(name)
        recordings.append(recording)
    filtered = None
    if args.filter and recordings:
        # the whole recording, before it is cut: no edge effects per window
        recordings, filtered, filter_tags = _filter_recordings(recordings, args.fs)
    # the units transformed: whole recordings, or their windows
    units, unit_rows = recordings, [{"recording": i} for i in range(len(names))]
    if window is not None and recordings:
        units, table, short = _cut_windows(names, recordings, args.fs, args)
        skipped += short
        unit_rows = table.to_dict("records")
    if skipped:
        _warn(
            f"skipped {len(skipped)} recording(s) that cannot be transformed:\n"
            + "\n".join(f"  - {n}: {why}" for n, why in skipped)
        )
    if not units:
        raise CLIError(
            f"no usable recording in INPUT_DIR {str(source)!r}"
            + (
                f" (none is as long as one --window of {args.window:g} s)."
                if window is not None and recordings
                else "."
            )
        )
    unknown = sorted(set(labels) - set(names))
    if unknown:
        _warn(
            f"{len(unknown)} file(s) named in --labels are not among the "
            f"recordings transformed: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        )
    n_channels = sorted({x.shape[0] for x in units})
    used = sorted({row["recording"] for row in unit_rows})
    per = "file and channel"
    if window is not None:
        step = args.window if args.step is None else args.step
        per = (
            f"window and channel ({len(units)} windows of {args.window:g} s every "
            f"{step:g} s)"
        )
    _echo(
        f"{PROG} hht: {len(used)} recording(s) from {str(source)!r}, "
        f"{'/'.join(map(str, n_channels))} channel(s), fs {args.fs:g} Hz -> "
        f"{args.size}x{args.size} HHT matrices, one .npz per {per}; "
        f"{sum(names[i] in labels for i in used)} labelled."
    )
    if filtered is not None:
        _echo(f"Filtered first (SEMGFilter): {filtered}.")
    # one HHT pass per channel count (recordings may differ)
    matrices = [None] * len(units)
    for count in n_channels:
        members = [i for i, x in enumerate(units) if x.shape[0] == count]
        hht = HHTTransformer(
            fs=args.fs,
            n_freq_bins=args.size,
            n_time_bins=args.size,
            max_imf=args.max_imf,
            n_jobs=args.n_jobs,
            progress=_tty(),
        )
        for i, m in zip(
            members, hht.fit_transform([units[i] for i in members]), strict=True
        ):
            matrices[i] = m

    import pandas as pd

    rows, k = [], 1
    muscle = args.muscle or "SEMG"
    file_names = _npz_names(
        [names[row["recording"]] for row in unit_rows],
        [m.shape[0] for m in matrices],
        windows=None if window is None else [row["window"] for row in unit_rows],
    )
    try:
        # all files into a temporary folder, swapped in at the end: readers
        # see the old set or the new one, never a mix
        with atomic_folder(out, replace=True, keep=lambda n: not is_output(n)) as tmp:
            for u, (unit, per_channel) in enumerate(zip(units, matrices, strict=True)):
                name = names[unit_rows[u]["recording"]]
                label = labels.get(name)
                for c, matrix in enumerate(per_channel):
                    if scheme:
                        (path,) = save_hht_dir(
                            tmp,
                            matrix[None],
                            None if label is None else [label],
                            muscle=muscle,
                            start_index=k,
                        )
                    else:
                        path = tmp / file_names[u][c]
                        _write_npz_atomic(path, matrix, overwrite=False)
                    row = {
                        "source_file": name,
                        "channel": c + 1,
                        "npz_file": path.name,
                        "label": label or "",
                    }
                    if window is not None:  # where in its recording
                        row.update(
                            {
                                key: unit_rows[u][key]
                                for key in ("window", "start_s", "stop_s")
                            }
                        )
                    row.update(
                        {
                            "n_times": unit.shape[1],
                            "fs": float(args.fs),
                            "size": args.size,
                        }
                    )
                    if filtered is not None:
                        row["filter"] = filter_tags[unit_rows[u]["recording"]]
                    rows.append(row)
                    k += 1
            if index is None:
                _write_csv(pd.DataFrame(rows), tmp / "index.csv", force=False)
    except OSError as exc:
        where = exc.filename or str(out)
        raise CLIError(
            f"could not write {str(where)!r}: {exc.strerror or exc}; OUTPUT_DIR "
            f"{str(out)!r} is unchanged."
        ) from None
    if index is not None:
        try:
            _write_csv(pd.DataFrame(rows), index, force=args.force)
        except OSError as exc:
            raise CLIError(
                f"could not write --index {str(index)!r}: {exc.strerror or exc} "
                f"(the .npz files are in {str(out)!r})."
            ) from None
    n_test = sum(not r["label"] for r in rows)
    _echo(
        f"Wrote {len(rows)} .npz file(s) to {str(out)!r} ({len(rows) - n_test} "
        f"labelled, {n_test} unlabelled"
        + (
            ", named by the six-label scheme"
            if scheme
            else ", named after their recordings, labels in the index"
        )
        + f") and the index {str(index or out / 'index.csv')!r}."
    )
    return 0


def _window_samples(args, fs):
    """``(width, step)`` in samples of ``--window`` and ``--step`` at ``fs``,
    or None without ``--window``; checked before any work."""
    if args.window is None:
        for name in ("step", "activity"):
            value = getattr(args, name)
            if value is not None:
                raise CLIError(
                    f"--{name} {value:g} needs --window (the window length, in "
                    "seconds); without --window every recording is used whole."
                )
        return None
    from .utils import MIN_N_TIMES

    width = int(round(args.window * fs))
    if width < MIN_N_TIMES:
        raise CLIError(
            f"--window {args.window:g} s at {fs:g} Hz is {width} sample(s); "
            f"expected at least {MIN_N_TIMES} samples ({MIN_N_TIMES / fs:g} s)."
        )
    step_s = args.window if args.step is None else args.step
    step = int(round(step_s * fs))
    if step < 1:
        raise CLIError(
            f"--step {step_s:g} s at {fs:g} Hz is less than one sample; expected "
            f"at least {1 / fs:g} s."
        )
    return width, step


def _cut_windows(names, recordings, fs, args):
    """The windows of ``recordings`` (``--window``, ``--step``, ``--activity``),
    cut by :func:`~sklearn_semg.preprocessing.window_recordings`.

    Returns ``(data, table, skipped)``: the windows, a list of arrays
    ``(n_channels, width)``; one row per window with ``recording`` (its index
    in ``recordings``), ``window`` (its start in steps), ``start_s`` and
    ``stop_s``; ``(name, why)`` of every recording shorter than one window
    (left out). The windows dropped by ``--activity`` are counted in one
    warning line.
    """
    from collections import Counter

    import pandas as pd

    from .preprocessing import window_recordings

    width, step = _window_samples(args, fs)
    skipped, usable = [], []
    for i, (name, rec) in enumerate(zip(names, recordings, strict=True)):
        if rec.shape[-1] < width:
            skipped.append(
                (
                    name,
                    f"{rec.shape[-1]} samples ({rec.shape[-1] / fs:g} s), shorter "
                    f"than one --window of {args.window:g} s ({width} samples)",
                )
            )
        else:
            usable.append(i)
    data, tables, reasons, n_dropped = [], [], Counter(), 0
    # window_recordings stacks its windows: one call per channel count
    for count in sorted({recordings[i].shape[0] for i in usable}):
        members = [i for i in usable if recordings[i].shape[0] == count]
        with warnings.catch_warnings():
            # summed up below, over every channel count, in the CLI's words
            warnings.filterwarnings(
                "ignore", message="window_recordings: dropped", category=UserWarning
            )
            try:
                windows = window_recordings(
                    [recordings[i] for i in members],
                    fs=fs,
                    window_s=args.window,
                    step_s=args.step,
                    activity=args.activity,
                )
            except ValueError as exc:
                if args.activity is not None and "kept no window" in str(exc):
                    raise CLIError(
                        f"--activity {args.activity:g} dropped every window of the "
                        f"{len(members)} {count}-channel recording(s); use a smaller "
                        "RATIO (e.g. 0.5), or leave --activity out."
                    ) from None
                raise
        table = windows.metadata[["recording", "start_s", "stop_s"]].copy()
        table["recording"] = [members[r] for r in table["recording"]]
        tables.append(table)
        data.extend(windows.data)
        n_dropped += len(windows.dropped)
        reasons.update(windows.dropped["reason"].tolist())
    if not tables:
        return [], pd.DataFrame(columns=["recording", "start_s", "stop_s"]), skipped
    table = pd.concat(tables, ignore_index=True)
    # in the order of the recordings (the calls went by channel count)
    order = table.sort_values(["recording", "start_s"], kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    data = [data[i] for i in order]
    table.insert(
        1, "window", [int(round(t * fs)) // step for t in table["start_s"].tolist()]
    )
    if n_dropped:
        _warn(
            f"--activity {args.activity:g} dropped {n_dropped} of "
            f"{n_dropped + len(table)} windows ("
            + "; ".join(f"{n} {why}" for why, n in reasons.items())
            + ")."
        )
    return data, table, skipped


def _describe_filter(filt):
    """One line on a fitted SEMGFilter: band, notches, how mains was picked."""
    band = (
        "no band-pass"
        if filt.band_ is None
        else (f"{filt.band_[0]:g}-{filt.band_[1]:g} Hz band-pass")
    )
    if filt.mains_ is None:
        return f"{band}, no mains notch"
    line = f"{band}, mains notch at {filt.mains_:g} Hz" + (
        f" and {len(filt.notch_frequencies_) - 1} harmonic(s)"
        if len(filt.notch_frequencies_) > 1
        else ""
    )
    if filt.mains_prominence_:
        line += (
            " (picked from the data: strongest line "
            + ", ".join(
                f"{f:g} Hz {db:.1f} dB" for f, db in filt.mains_prominence_.items()
            )
            + " above its neighbourhood)"
        )
    return line


def _filter_recordings(recordings, fs):
    """``recordings`` through a SEMGFilter (the sEMG band and the mains notch
    picked from them), fitted per channel count; a line describing it, and a
    short one (``SEMGFilter 20-450 Hz, mains 60 Hz``) per recording."""
    from .preprocessing import SEMGFilter

    filtered, lines, tags = list(recordings), [], [None] * len(recordings)
    for count in sorted({x.shape[0] for x in recordings}):
        members = [i for i, x in enumerate(recordings) if x.shape[0] == count]
        with _reported_warnings():
            filt = SEMGFilter(fs=fs, mains="auto").fit([recordings[i] for i in members])
            for i, x in zip(
                members, filt.transform([recordings[i] for i in members]), strict=True
            ):
                filtered[i] = x
                tags[i] = f"SEMGFilter {filt.band_[0]:g}-{filt.band_[1]:g} Hz, " + (
                    f"mains {filt.mains_:g} Hz" if filt.mains_ else "no notch"
                )
        lines.append(_describe_filter(filt))
    return filtered, "; ".join(dict.fromkeys(lines)), tags


def _npz_names(names, n_channels, windows=None):
    """``[[npz name per channel] per unit]`` for units (recordings, or
    windows with ``windows``) of the recording files ``names``: the
    recording's name without its extension (``rec_1.txt`` -> ``rec_1.npz``;
    ``rec_1_ch2.npz`` for channel 2 of several), its whole name where two
    recordings would clash; a window adds its start in steps
    (``rec_1_w0003.npz``, ``rec_1_w0003_ch2.npz``), four digits or more."""
    from collections import Counter

    unique = list(dict.fromkeys(names))
    stems = [Path(name).stem for name in unique]
    clash = {stem for stem in stems if stems.count(stem) > 1}
    bases = {
        name: name.replace(".", "_") if stem in clash else stem
        for name, stem in zip(unique, stems, strict=True)
    }
    digits = max([4] + [len(str(w)) for w in windows or ()])
    result = []
    for u, (name, count) in enumerate(zip(names, n_channels, strict=True)):
        base = bases[name]
        if windows is not None:
            base = f"{base}_w{windows[u]:0{digits}d}"
        result.append(
            [f"{base}.npz"]
            if count == 1
            else [f"{base}_ch{c + 1}.npz" for c in range(count)]
        )
    counts = Counter(n for per_unit in result for n in per_unit)
    twice = sorted(n for n, k in counts.items() if k > 1)
    if twice:
        raise CLIError(
            f"two outputs would be named {twice[0]!r}: rename the recordings "
            "behind it, or use --muscle to number the files instead."
        )
    return result


def _writable_folder(folder, what):
    """Check, before any work, that files can be created in ``folder``
    (created if missing)."""
    import tempfile

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CLIError(
            f"{what}: cannot write in {str(folder)!r} ({exc.strerror or exc}); "
            "nothing was done."
        ) from None


# -- data of train / predict / evaluate --------------------------------------
def _npz_files(folder):
    """Regular ``*.npz`` files of ``folder`` (any case), without opening any."""
    from .datasets._hht_dir import _regular_npz_files

    return _regular_npz_files(folder)[0]


def _npz_shape(folder):
    """The matrix shape most ``.npz`` files of ``folder`` declare in their
    headers (no data read), or None; a tie is an error asking for --size."""
    from collections import Counter

    from .datasets._hht_dir import npz_header

    counts = Counter()
    for file in _npz_files(folder):
        try:
            shape, dtype = npz_header(file)
        except ValueError:  # load_hht_dir reports it
            continue
        if len(shape) == 2 and dtype.kind in "biuf":
            counts[tuple(int(n) for n in shape)] += 1
    if not counts:
        return None
    (shape, n), *others = counts.most_common()
    if others and others[0][1] == n:
        raise CLIError(
            f"the .npz files of {str(folder)!r} disagree on the matrix shape "
            f"({n} file(s) each of {shape} and {others[0][0]}); give it with --size."
        )
    return shape


def _load_npz(folder, shape=None, what="DATA_DIR"):
    """``load_hht_dir`` with the shape read from the files when not given."""
    from .datasets import load_hht_dir

    if not _npz_files(folder):
        raise CLIError(
            f"{what} {str(folder)!r} holds no .npz file; expected HHT matrices "
            "(e.g. written by `sklearn-semg hht`)."
        )
    if shape is None:
        shape = _npz_shape(folder)
        if shape is None:
            raise CLIError(
                f"no readable 2-D matrix in the .npz files of {str(folder)!r}."
            )
    with _reported_warnings():
        # the loader's own warning lists every file and ends with advice for
        # the Python API: summarised below instead
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="load_hht_dir: skipped", category=UserWarning
            )
            bunch = load_hht_dir(folder, shape=tuple(shape))
    _summarise_skipped(bunch.problems, folder, tuple(shape), what)
    return bunch


def _summarise_skipped(problems, folder, shape, what):
    """One warning line per reason, naming a few files, and the shape that
    was expected."""
    if not problems:
        return
    from collections import defaultdict

    shapes, others = defaultdict(list), []
    for name, reason in problems:
        if reason.startswith("has shape"):
            shapes[reason.split(", expected")[0][len("has shape ") :]].append(name)
        else:
            others.append((name, reason))
    _warn(
        f"skipped {len(problems)} of the .npz files of {what} {str(folder)!r} "
        f"(expected {shape[0]}x{shape[1]} matrices):"
    )
    for found, names in shapes.items():
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        _warn(f"  {len(names)} with shape {found}: {', '.join(names[:3])}{more}")
    for name, reason in others[:5]:
        _warn(f"  {name}: {reason}")
    if len(others) > 5:
        _warn(f"  ... and {len(others) - 5} more")


def _source_recordings(folder, files):
    """The source recording of each .npz file, read from the index.csv that
    ``hht`` writes beside them (columns npz_file, source_file); None without
    one. A file the index does not name is its own recording."""
    from .datasets._hht_dir import read_hht_index

    table = read_hht_index(folder)
    if table is None:
        return None
    if not {"npz_file", "source_file"} <= set(table.columns):
        _warn(
            f"{str(folder / 'index.csv')!r} has no columns npz_file and "
            "source_file; each .npz file is taken as its own recording."
        )
        return None
    source = dict(zip(table["npz_file"], table["source_file"], strict=True))
    return [source.get(name, name) for name in files]


def _raw_files(folder, pattern):
    return sorted(f for f in folder.glob(pattern) if f.is_file())


def _model_device(device):
    if device == "auto":
        from .nn import resolve_device

        return str(resolve_device("auto"))
    return device


# -- train ------------------------------------------------------------------
def _make_pipeline(args, *, verbose, fs=None, memory=None, final=False):
    """The method's pipeline: with its HHT step for raw recordings (``fs``
    given), without it for HHT matrices; the ``final`` fit (not the CV's)
    writes and resumes checkpoints."""
    per_subject = getattr(args, "per_subject", False)
    from .pipelines import make_cnn_svm_pipeline, make_end_to_end_pipeline

    device = _model_device(args.device)
    # a SEMGFilter first (raw recordings only; cmd_train checks)
    filt = dict(filter=True) if getattr(args, "filter", False) else {}
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
    svm, e2e = DEMO_SETTINGS["svm"], DEMO_SETTINGS["e2e"]
    if args.method == "recommended":
        from .pipelines import make_recommended_pipeline

        return make_recommended_pipeline(
            fs=fs,
            per_subject=per_subject,
            memory=memory,
            n_jobs=args.n_jobs,
            random_state=args.seed,
            **filt,
        )
    if args.method == "svm":
        return make_cnn_svm_pipeline(
            **hht,
            base_channels=args.base_channels or svm["base_channels"],
            num_layers=svm["num_layers"],
            pooling=svm["pooling"],
            batch_size=args.batch_size or svm["batch_size"],
            C=args.C,
            device=device,
            per_subject=per_subject,
            random_state=args.seed,
        )
    # the demo's regularised settings (bench/bench_accuracy.py): the
    # reference's (global pooling, no augmentation, no weight decay) learned
    # nothing on the bundled data
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
        module__base_channels=args.base_channels or e2e["module__base_channels"],
        module__num_layers=e2e["module__num_layers"],
        module__pooling=e2e["module__pooling"],
        augment=e2e["augment"],
        optimizer__weight_decay=e2e["optimizer__weight_decay"],
        early_stopping=e2e["early_stopping"],
        max_epochs=args.epochs,
        batch_size=args.batch_size or e2e["batch_size"],
        lr=args.lr,
        device=device,
        random_state=args.seed,
        verbose=int(verbose),
        **checkpoints,
    )


def cmd_train(args):
    """Cross-validate, fit on all data and save a model."""
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
    if args.method != "e2e" and (args.checkpoint_dir or args.resume):
        raise CLIError(
            "--checkpoint-dir and --resume are for method 2 (--method e2e), the "
            "method that trains a network."
        )
    if (
        args.resume
        and not args.checkpoint_dir
        and args.resume in ("best", "final", "last")
    ):
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
    if args.per_subject and args.method == "e2e":
        raise CLIError(
            "--per-subject calibrates the features of method 1 (--method svm) "
            "and of the recommended pipeline; method 2 (--method e2e) normalises "
            "every matrix itself."
        )
    if not args.bundled:
        given = [
            f"--{name}"
            for name in ("window", "step", "activity")
            if getattr(args, name)
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

    import numpy as np
    import sklearn
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    from . import __version__

    windowing = None
    if args.bundled:
        from .datasets import load_movements

        bunch = load_movements()
        subjects = np.unique(bunch.groups)
        chosen = subjects if args.n_subjects is None else subjects[: args.n_subjects]
        keep = np.flatnonzero(np.isin(bunch.groups, chosen))
        X = [bunch.data[i] for i in keep]
        y = np.asarray(bunch.target)[keep]
        groups = np.asarray(bunch.groups)[keep]
        fs = float(bunch.fs)
        size = args.size or 64
        input_shape = [int(X[0].shape[0]), size, size]
        source = (
            f"bundled MioTracker recordings ({len(X)} recordings, "
            f"{len(chosen)} subjects)"
        )
        if args.cv and len(chosen) < args.cv:
            raise CLIError(
                f"--cv {args.cv} needs at least {args.cv} subjects; --n-subjects "
                f"gives {len(chosen)}."
            )
        if _window_samples(args, fs) is not None:
            # every window keeps its recording's label and subject: the
            # subject-wise folds keep the windows of a recording together
            files = bunch.metadata["file"].to_numpy()[keep]
            data, table, short = _cut_windows(list(files), X, fs, args)
            if short:
                _warn(
                    f"skipped {len(short)} recording(s) shorter than one window:\n"
                    + "\n".join(f"  - {n}: {why}" for n, why in short)
                )
            if not data:
                raise CLIError(
                    f"no recording is as long as one --window of {args.window:g} s."
                )
            rec = table["recording"].to_numpy()
            X, y, groups = np.stack(data), y[rec], groups[rec]
            step = args.window if args.step is None else args.step
            windowing = {
                "window_s": args.window,
                "step_s": step,
                "activity": args.activity,
                "n_recordings": int(len(np.unique(rec))),
                "n_windows": int(len(X)),
            }
            source = (
                f"{len(X)} windows of {args.window:g} s every {step:g} s of "
                f"{windowing['n_recordings']} bundled MioTracker recordings "
                f"({len(chosen)} subjects)"
            )
            if args.cv and len(np.unique(groups)) < args.cv:
                raise CLIError(
                    f"--cv {args.cv} needs at least {args.cv} subjects; the windows "
                    f"kept come from {len(np.unique(groups))}."
                )
        _echo(f"{PROG} train: {source}, fs {fs:g} Hz, HHT {size}x{size}.")
        splitter = GroupKFold(n_splits=args.cv) if args.cv else None
        split_name = f"GroupKFold({args.cv}) on subjects"
        split_groups = groups
    else:
        shape = (args.size, args.size) if args.size else None
        bunch = _load_npz(folder, shape, what="DATA")
        if len(bunch.data) == 0:
            raise CLIError(
                f"DATA {str(folder)!r} holds no labelled .npz file (only "
                f"{len(bunch.test_data)} unlabelled Test* file(s)); train needs "
                "names like BICEPS_full_M_001.npz."
            )
        X = bunch.data[:, np.newaxis]
        y = bunch.target
        groups = _subjects(
            bunch.metadata["file"].tolist(), args, required=args.per_subject
        )
        fs = None
        input_shape = [int(n) for n in X.shape[1:]]
        source = f"{len(X)} labelled .npz file(s) in {str(folder)!r}"
        _echo(f"{PROG} train: {source}, matrices {X.shape[2]}x{X.shape[3]}.")
        if args.cv:
            _, counts = np.unique(y, return_counts=True)
            if counts.min() < args.cv:
                raise CLIError(
                    f"--cv {args.cv} needs at least {args.cv} files per class; the "
                    f"smallest class has {counts.min()}. Use a smaller --cv, or "
                    "--cv 0 to skip cross-validation."
                )
        recordings = _source_recordings(folder, bunch.metadata["file"].tolist())
        split_groups = groups
        if groups is not None and args.cv:
            if len(np.unique(groups)) < args.cv:
                raise CLIError(
                    f"--cv {args.cv} needs at least {args.cv} subjects; the "
                    f"subjects given name {len(np.unique(groups))}."
                )
            splitter = GroupKFold(n_splits=args.cv)
            split_name = f"GroupKFold({args.cv}) on subjects"
        elif recordings is not None and args.cv:
            # the channels of one recording (files of index.csv) stay together
            from sklearn.model_selection import StratifiedGroupKFold

            split_groups = recordings
            if len(set(recordings)) < args.cv:
                raise CLIError(
                    f"--cv {args.cv} needs at least {args.cv} source recordings; "
                    f"index.csv of {str(folder)!r} names {len(set(recordings))}."
                )
            splitter = StratifiedGroupKFold(
                n_splits=args.cv, shuffle=True, random_state=args.seed
            )
            split_name = (
                f"StratifiedGroupKFold({args.cv}, shuffled) on the "
                f"{len(set(recordings))} source recordings of index.csv"
            )
        else:
            splitter = (
                StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.seed)
                if args.cv
                else None
            )
            split_name = (
                f"StratifiedKFold({args.cv}, shuffled), each file its own "
                "recording (no index.csv, no --subjects)"
            )
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise CLIError(
            f"the training data have one class ({classes[0]!r}); expected at least 2."
        )
    _echo(
        "Classes: "
        + ", ".join(f"{c} ({n})" for c, n in zip(classes, counts, strict=True))
    )
    _echo(f"Method: {METHOD_NAMES[args.method]}")

    # Raw recordings go through the whole pipeline, HHT step included, in
    # every fold; one cache decomposes each recording once for all of them.
    cache = _cache_folder(args.cache_dir) if args.bundled else contextlib.nullcontext()
    with cache as memory:
        if args.bundled:
            from .hht import EMDDecomposer

            X_emd = X
            if args.filter:
                # as the pipeline's filter step will: every fold that picks
                # the same mains line then reads these decompositions
                X_emd, described, _ = _filter_recordings(list(X), fs)
                _echo(f"Filter (SEMGFilter, first step of the pipeline): {described}.")
            what = "windows" if windowing else "recordings"
            _echo(f"EMD of {len(X)} {what} (once, cached for every fold) ...")
            EMDDecomposer(memory=memory, n_jobs=args.n_jobs, progress=_tty()).fit(
                X_emd
            ).transform(X_emd)

        def make(verbose=False, final=False):
            return _make_pipeline(
                args, verbose=verbose, fs=fs, memory=memory, final=final
            )

        cv_report = None
        if splitter is not None:
            splits = list(splitter.split(np.zeros(len(y)), y, split_groups))
            y_pred, fit_times, _ = _cross_val_predict(
                make,
                X,
                y,
                splits,
                desc="CV",
                subjects=groups if args.per_subject else None,
            )
            _warn_single_class(y_pred, "in cross-validation")
            cv_report = {
                "splitter": split_name,
                **_scores(y, y_pred),
                "fit_time_s": float(np.mean(fit_times)),
            }
            _echo(
                f"Cross-validation ({split_name}): accuracy "
                f"{cv_report['accuracy']:.3f}, balanced accuracy "
                f"{cv_report['balanced_accuracy']:.3f}, chance "
                f"{cv_report['chance']:.3f} (mean fit {cv_report['fit_time_s']:.1f} s)"
            )

        _echo(f"Fitting on all {len(X)} samples ...")
        t0 = time.perf_counter()
        pipeline = make(verbose=args.method == "e2e", final=True)
        try:
            with sklearn.config_context(enable_metadata_routing=args.per_subject):
                if args.per_subject:
                    pipeline.fit(X, y, groups=groups)
                else:
                    pipeline.fit(X, y)
        except ValueError as exc:
            if args.per_subject and "calibration window" in str(exc):
                raise CLIError(str(exc)) from None
            raise
        _echo(f"Fitted in {time.perf_counter() - t0:.1f} s.")
        if not args.per_subject:  # (a per-subject model needs the subjects)
            _warn_single_class(pipeline.predict(X), "on its own training data")
    pipeline = _without_cache(pipeline)
    if args.method == "e2e":  # this run's folders are not part of the model
        pipeline.set_params(clf__checkpoint_dir=None, clf__resume_from=None)

    metadata = {
        "method": args.method,
        "method_name": METHOD_NAMES[args.method],
        "input": "raw" if args.bundled else "hht",
        "fs": fs,
        "n_channels": input_shape[0],
        "input_shape": input_shape,
        "classes": [str(c) for c in classes],
        "trained_on": source,
        "n_samples": int(len(X)),
        "per_subject": bool(args.per_subject),
        "filter": bool(args.filter),
        # the windows it was trained on (None: whole recordings)
        "window": windowing,
        # predict and evaluate recognise these recordings by their content
        "training_data": {"sha256": sorted(set(_content_hashes(X)))},
        "cv": cv_report,
        "params": {
            k: getattr(args, k)
            for k in ("epochs", "base_channels", "batch_size", "lr", "C", "seed")
        },
        "sklearn_semg_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    from .persistence import write_model

    metadata = _plain_json(metadata)
    _atomic_write(
        output, lambda f: write_model(f, pipeline, metadata), force=args.force
    )
    _echo(
        f"Saved the fitted pipeline to {str(output)!r} (expects "
        + (
            f"raw recordings with {metadata['n_channels']} channel(s) at {fs:g} Hz"
            + (
                f", cut as it was trained: windows of {windowing['window_s']:g} s"
                if windowing
                else ""
            )
            if args.bundled
            else f"HHT matrices {input_shape[1]}x{input_shape[2]} (.npz)"
        )
        + ")."
    )
    return 0


# -- predict / evaluate -----------------------------------------------------
def _content_hashes(X):
    """One SHA-256 per recording or matrix of ``X`` (of its dtype, shape and
    values, 32 hex digits): the model file's record of its training data."""
    import hashlib

    import numpy as np

    hashes = []
    for x in X:
        x = np.ascontiguousarray(x)
        digest = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
        digest.update(x.tobytes())
        hashes.append(digest.hexdigest()[:32])
    return hashes


def _in_training_data(X, files, metadata):
    """Boolean mask of the files whose content the model was trained on,
    announced on stderr (models written before the record: all False)."""
    import numpy as np

    known = set(metadata.get("training_data", {}).get("sha256", ()))
    seen = np.array([h in known for h in _content_hashes(X)], dtype=bool)
    if seen.any():
        names = [files[i] for i in np.flatnonzero(seen)[:3]]
        more = ", ..." if seen.sum() > 3 else ""
        _warn(
            f"{seen.sum()} of the {len(files)} file(s) are in the model's training "
            f"data (same content: {', '.join(names)}{more}); a model scored on "
            "them is not being tested."
        )
    return seen


def _plain_json(value):
    """``value`` with numpy scalars and arrays as plain JSON values."""
    import numpy as np

    def default(obj):
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    return json.loads(json.dumps(value, default=default))


def _load_model(path, trust_pickle=False):
    """(pipeline, metadata) of a model file written by ``train``.

    A safe model file (:func:`sklearn_semg.save_model`) is read without
    running code from it. A joblib file (the format of earlier versions of
    ``train``, or any fitted estimator saved with joblib) runs code chosen by its
    author while it loads: it is read only with ``trust_pickle``, with a
    warning. A bare estimator's input kind is read from its first step
    (``"hht"``: raw recordings).
    """
    from .persistence import _is_model_file, _load

    file = Path(path)
    if _is_model_file(file):
        try:
            return _load(file)
        except ValueError as exc:
            raise CLIError(f"MODEL: {exc}") from None
    if not trust_pickle:
        raise CLIError(
            f"MODEL {str(file)!r} is not a safe sklearn-semg model file (written by "
            f"`{PROG} train` or sklearn_semg.save_model). If it is a joblib/pickle "
            "file, loading it runs code chosen by whoever wrote it: pass "
            "--trust-pickle only if you trust its source (then re-save it with "
            "`sklearn_semg.save_model`)."
        )
    print(
        f"{PROG}: warning: loading {str(file)!r} with joblib (--trust-pickle): a "
        "joblib/pickle file runs code chosen by whoever wrote it.",
        file=sys.stderr,
    )
    import joblib

    try:
        payload = joblib.load(file)
    except Exception as exc:
        raise CLIError(
            f"MODEL {str(file)!r} could not be read as a joblib file "
            f"({type(exc).__name__}: {exc}); expected the output of "
            f"`{PROG} train`."
        ) from exc
    if isinstance(payload, dict) and payload.get("format") == MODEL_FORMAT:
        return payload["pipeline"], payload["metadata"]
    if hasattr(payload, "predict") and hasattr(payload, "predict_proba"):
        steps = getattr(payload, "steps", [])
        raw = bool(steps) and steps[0][0] == "hht"
        return payload, {
            "input": "raw" if raw else "hht",
            "input_shape": None,
            "n_channels": getattr(steps[0][1], "n_channels_", None) if raw else None,
            "method_name": type(payload).__name__,
            "trained_on": "unknown",
        }
    raise CLIError(
        f"MODEL {str(file)!r} is not a sklearn-semg model: it holds a "
        f"{type(payload).__name__}; expected the output of `{PROG} train`."
    )


def _prediction_data(folder, pipeline, metadata, args, *, labelled_only=False):
    """(X, files, y_true or None per file) in the form the model expects."""
    import numpy as np

    if metadata["input"] == "hht":
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
            import fnmatch

            keep = [
                i for i, f in enumerate(files) if fnmatch.fnmatchcase(f, args.pattern)
            ]
            if not keep and len(files):
                raise CLIError(
                    f"no usable .npz file of DATA_DIR {str(folder)!r} matches "
                    f"--pattern {args.pattern!r} (e.g. {files[0]!r})."
                )
            X, files, y_true = (
                X[keep],
                [files[i] for i in keep],
                [y_true[i] for i in keep],
            )
        if len(X) == 0:
            expected = "" if shape is None else f" {shape[1]}x{shape[2]}"
            raise CLIError(
                f"DATA_DIR {str(folder)!r} holds no usable "
                + ("labelled " if labelled_only else "")
                + f".npz file; this model expects{expected} HHT matrices."
            )
        return X[:, np.newaxis], files, y_true

    from .datasets import load_recordings_dir

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
    with _reported_warnings():
        bunch = load_recordings_dir(folder, pattern=pattern)
    if not bunch.data:
        raise CLIError(f"no readable recording in DATA_DIR {str(folder)!r}.")
    expected = metadata.get("n_channels")
    if expected is not None:
        for name, x in zip(bunch.filenames, bunch.data, strict=True):
            if x.shape[0] != expected:
                raise CLIError(
                    f"recording {name!r} has {x.shape[0]} channel(s); this model "
                    f"expects {expected} (fs {metadata.get('fs')} Hz)."
                )
    labels = _read_labels_csv(args.labels) if getattr(args, "labels", None) else {}
    files = list(bunch.filenames)
    y_true = [labels.get(f) for f in files]
    X = list(bunch.data)
    if labelled_only:
        idx = [i for i, lab in enumerate(y_true) if lab is not None]
        X = [X[i] for i in idx]
        files = [files[i] for i in idx]
        y_true = [y_true[i] for i in idx]
    steps = getattr(pipeline, "steps", [])
    if steps and steps[0][0] == "hht":
        pipeline.set_params(hht__progress=_tty(), hht__n_jobs=args.n_jobs)
    return X, files, y_true


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


def cmd_predict(args):
    """Predict every file of a folder with a saved model."""
    model = _input_file(args.model, "MODEL")
    folder = _input_dir(args.data_dir, "DATA_DIR")
    output = _output_file(args.output, args.force, "--output")
    pipeline, metadata = _load_model(model, args.trust_pickle)
    X, files, y_true = _prediction_data(folder, pipeline, metadata, args)

    import numpy as np
    import pandas as pd

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

    labelled = [
        i for i, lab in enumerate(y_true) if lab is not None and not trained_on[i]
    ]
    unlabelled = [i for i, lab in enumerate(y_true) if lab is None]
    _echo(
        f"{PROG} predict: {len(files)} file(s) from {str(folder)!r} with the "
        f"{metadata.get('method_name', 'model')} trained on "
        f"{metadata.get('trained_on', 'unknown data')}."
    )
    counts = table["predicted_label"].value_counts()
    _echo("Predicted: " + ", ".join(f"{label} {n}" for label, n in counts.items()))
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
    if unlabelled:
        shown = unlabelled[:20]
        _echo(f"Unlabelled file(s) ({len(unlabelled)}):")
        for i in shown:
            _echo(f"  {files[i]}: {y_pred[i]} (confidence: {confidence[i]:.4f})")
        if len(unlabelled) > len(shown):
            _echo(f"  ... {len(unlabelled) - len(shown)} more in {str(output)!r}")
    _echo(f"Wrote {str(output)!r} (columns " + ", ".join(table.columns) + ").")
    return 0


def cmd_evaluate(args):
    """Score a saved model on labelled data."""
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

    import numpy as np
    import pandas as pd
    from sklearn.metrics import classification_report

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
    with _reported_warnings():
        scores = _scores(y_true, y_pred)
    labels = sorted({str(v) for v in y_true} | {str(v) for v in y_pred})
    report = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=0
    )
    _echo(
        f"{PROG} evaluate: {len(y_true)} labelled file(s) from {str(folder)!r} with "
        f"the {metadata.get('method_name', 'model')}."
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
    _write_csv(pd.DataFrame(rows), output, force=args.force)

    _use_agg()
    from .plotting import plot_confusion_matrix

    fig = plot_confusion_matrix(
        y_true, y_pred, labels=labels, title=f"Confusion matrix ({folder.name})"
    )
    _save_figure(fig, figure, force=args.force)
    _echo(f"Wrote {str(output)!r} and {str(figure)!r}.")
    return 0


# -- parser -----------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _seconds(text):
    """A positive, finite number (seconds, or a ratio for --activity)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number, got {text!r}"
        )
    return value


def _window_options(p, *, what, then=""):
    """--window, --step and --activity: continuous recordings cut into
    windows (:func:`~sklearn_semg.preprocessing.window_recordings`)."""
    p.add_argument(
        "--window",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"cut {what} into windows of SECONDS (a last, incomplete window "
        "is left out; a recording shorter than one window is skipped, by "
        "name); each window keeps its recording's label and subject, and the "
        f"windows of one recording stay in one cross-validation fold{then}",
    )
    p.add_argument(
        "--step",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --window: time between the starts of consecutive windows "
        "(default: the window, no overlap; below it the windows overlap, above "
        "it they leave gaps)",
    )
    p.add_argument(
        "--activity",
        type=_seconds,
        default=None,
        metavar="RATIO",
        help="with --window: keep only active windows, whose RMS reaches RATIO "
        "times the median window RMS of their recording (e.g. 0.5; above 1 "
        "when most of a recording is rest); the windows dropped are counted "
        "in one warning (default: keep every window)",
    )


def _int_at_least_zero(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("expected a non-zero integer (-1: all cores)")
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """Show a default only where it says something (not None or False)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def build_parser():
    """The argument parser of ``sklearn-semg`` (one sub-parser per command)."""
    from . import __version__

    formatter = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Surface-EMG classification with Hilbert-Huang transforms and CNNs "
            "as scikit-learn pipelines. Run `sklearn-semg COMMAND --help` for the "
            "options of a command."
        ),
        epilog=(
            "Errors (missing or empty folder, existing output without --force, "
            "bad options) exit with status 2."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "demo",
        help="compare the methods on the bundled recordings (about a minute)",
        description=(
            "Fit the recommended pipeline (HHT features and marginal spectrum -> "
            "SVM; a second time with a SEMGFilter first, 20-450 Hz band-pass and "
            "mains notch, to show its effect), method 1 (HHT -> frozen CNN -> SVM) and method 2 (HHT -> CNN "
            "trained end to end) on the bundled MioTracker recordings "
            "(MuscleTracker data set, 380 recordings, 19 subjects, 5 hand "
            "movements) with subject-wise cross-validation; print accuracy, "
            "balanced accuracy, fit time and chance level; write figures (HHT of "
            "one recording per movement, confusion matrices, training history "
            "of method 2) and results.csv into --output. The settings (printed) "
            "are in sklearn_semg.cli.DEMO_SETTINGS."
        ),
        formatter_class=formatter,
    )
    p.add_argument(
        "--output",
        default="sklearn-semg-demo",
        metavar="DIR",
        help="folder for the figures and results.csv",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write into --output even if it is not empty",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny settings on 3 subjects (seconds; for tests)",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="keep the cache of decompositions here, for later runs (default: a "
        "temporary folder, removed at the end)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "hht",
        help="raw text recordings -> folder of .npz HHT matrices",
        description=(
            "Compute the Hilbert-Huang matrix of every channel of every text "
            "recording in INPUT_DIR (one sample per line, one channel per column, "
            "whitespace or commas) and write one .npz per file and channel to "
            "OUTPUT_DIR, named after the recording (rec_1.txt -> rec_1.npz, "
            "rec_1_ch2.npz for channel 2 of several), and OUTPUT_DIR/index.csv, "
            "which maps each source file and channel to its .npz file and "
            "label (any label set, from --labels): `sklearn-semg train` and "
            "`predict` read the labels and recordings back from it. With "
            "--window, every recording is cut into windows first: one .npz per "
            "window and channel (rec_1_w0003.npz), index.csv gives each its "
            "source file, start_s and stop_s, and `train` on the folder keeps "
            "the windows of one recording in one fold. With "
            "--muscle (or --index elsewhere) the files follow the six-label "
            "naming scheme instead: {MUSCLE}_{movement}_{gender}_{i}.npz for "
            "labelled files, Test_{i}.npz otherwise."
        ),
        formatter_class=formatter,
    )
    p.add_argument("input_dir", metavar="INPUT_DIR", help="folder of text recordings")
    p.add_argument(
        "output_dir",
        metavar="OUTPUT_DIR",
        help="folder for the .npz files (created if missing)",
    )
    p.add_argument(
        "--fs",
        type=_positive_float,
        default=1000.0,
        help="sampling rate of the recordings, in Hz",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        default=256,
        help="matrix size: SIZE frequency rows x SIZE time columns",
    )
    p.add_argument("--pattern", default="*.txt", help="glob of the recordings")
    p.add_argument(
        "--labels",
        metavar="CSV",
        default=None,
        help="CSV with columns file,label (any labels; with --muscle, labels "
        "among M_full, M_half, M_invalid, F_full, F_half, F_invalid); other "
        "files are unlabelled",
    )
    p.add_argument(
        "--muscle",
        default=None,
        metavar="NAME",
        help="name the files by the six-label scheme, NAME_full_M_001.npz "
        "(default: after their recordings)",
    )
    p.add_argument(
        "--max-imf",
        type=int,
        default=10,
        help="largest number of IMFs per channel (-1: all)",
    )
    p.add_argument(
        "--index",
        default=None,
        metavar="CSV",
        help="index file (default OUTPUT_DIR/index.csv)",
    )
    p.add_argument(
        "--n-jobs", type=_jobs, default=1, help="parallel HHT jobs (-1: all cores)"
    )
    _window_options(
        p,
        what="every recording (after --filter)",
        then=". One .npz per window and channel, named after the recording and "
        "the window's start in steps (rec_1_w0003.npz: the fourth window); "
        "index.csv gives its source file, start_s and stop_s",
    )
    p.add_argument(
        "--filter",
        action="store_true",
        help="filter every recording first with SEMGFilter: zero-phase "
        "20-450 Hz band-pass and a notch at the mains frequency and its "
        "harmonics, 50 or 60 Hz picked from the recordings",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite existing .npz files and index"
    )
    p.set_defaults(func=cmd_hht)

    p = sub.add_parser(
        "train",
        help="cross-validate, fit and save a model",
        description=(
            "Train method 1 (--method svm: HHT -> frozen CNN -> scaler -> SVM) or "
            "method 2 (--method e2e: CNN trained end to end) on DATA, a folder of "
            ".npz HHT matrices labelled by its index.csv (as `sklearn-semg hht` "
            "writes it) or by their names, or on the bundled "
            "MioTracker recordings (--bundled: raw recordings, HHT inside the "
            "saved pipeline, subject-wise folds). Prints a cross-validation report "
            "(accuracy, balanced accuracy, chance), fits on all data and saves "
            "a safe model file (no pickle): sklearn_semg.load_model(MODEL) is "
            "the fitted scikit-learn Pipeline, sklearn_semg.model_metadata(MODEL) "
            "what it was trained on."
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
    p.add_argument(
        "--method",
        required=True,
        choices=["recommended", "svm", "e2e"],
        help="recommended: HHT features and marginal spectrum -> SVM (the best "
        "in bench/bench_accuracy.py; raw recordings, so --bundled); svm: "
        "method 1; e2e: method 2",
    )
    p.add_argument(
        "--output",
        default="model.semg",
        metavar="MODEL.semg",
        help="model file to write (a safe model file: skops and safetensors, "
        "no pickle; read it with sklearn_semg.load_model)",
    )
    p.add_argument(
        "--bundled",
        action="store_true",
        help="train on the bundled MioTracker recordings",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="with --bundled: keep the cache of decompositions here, for later runs (default: a "
        "temporary folder, removed at the end)",
    )
    p.add_argument(
        "--cv",
        type=_int_at_least_zero,
        default=5,
        help="cross-validation folds (0: skip)",
    )
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=DEMO_SETTINGS["e2e"]["max_epochs"],
        help="most training epochs of method 2 (it stops early when the "
        "validation accuracy stalls for "
        f"{DEMO_SETTINGS['e2e']['early_stopping']} epochs)",
    )
    p.add_argument(
        "--base-channels",
        type=_positive_int,
        default=None,
        help="channels of the first CNN block (default: "
        f"{DEMO_SETTINGS['svm']['base_channels']}, the demo's benchmarked "
        "settings; the other settings of both methods are the demo's too, "
        "see sklearn_semg.cli.DEMO_SETTINGS)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="batch size (default: 32 for svm features, 16 for e2e)",
    )
    p.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="method 2: write checkpoints of the final fit here (best, every 5 "
        "epochs, final; one run-* folder per run)",
    )
    p.add_argument(
        "--resume",
        default=None,
        metavar="WHICH",
        help="method 2: resume the final fit from a checkpoint: last, best or "
        "final (of --checkpoint-dir) or the path of a checkpoint file; use "
        "with --cv 0 to skip the cross-validation",
    )
    p.add_argument(
        "--lr",
        type=_positive_float,
        default=1e-3,
        help="learning rate of method 2 (Adam)",
    )
    p.add_argument(
        "--C",
        type=_positive_float,
        default=10.0,
        dest="C",
        help="SVM regularisation of method 1",
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
    p.add_argument(
        "--device", default="auto", help="torch device: cpu, cuda, cuda:N or auto"
    )
    p.add_argument("--seed", type=int, default=0, help="random_state")
    p.add_argument(
        "--n-jobs",
        type=_jobs,
        default=1,
        help="parallel HHT jobs with --bundled (-1: all cores)",
    )
    _window_options(p, what="every recording (with --bundled)")
    p.add_argument(
        "--filter",
        action="store_true",
        help="with --bundled: a SEMGFilter as the first step of the pipeline "
        "(zero-phase 20-450 Hz band-pass, notch at the mains frequency and its "
        "harmonics, 50 or 60 Hz picked from the training recordings); for "
        "HHT matrices, filter with `sklearn-semg hht --filter` instead",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite an existing --output"
    )
    _subject_options(p, training=True)
    p.set_defaults(func=cmd_train)

    for name, func in (("predict", cmd_predict), ("evaluate", cmd_evaluate)):
        if name == "predict":
            summary = "predict every file of a folder with a saved model"
            description = (
                "Apply MODEL (written by `sklearn-semg train`) to every file of "
                "DATA_DIR: .npz HHT matrices (labelled and unlabelled Test* "
                "files alike) for a model trained on matrices, raw text "
                "recordings for a model trained with --bundled. Writes a CSV with "
                "columns file, predicted_label, confidence (the probability of "
                "the predicted label) and in_training_data (the model was trained "
                "on this file's content; its accuracy line leaves those out). Model files written by `sklearn-semg "
                "train` load without running code from them; joblib/pickle files "
                "need --trust-pickle."
            )
            default_output = "predictions.csv"
        else:
            summary = "score a saved model on labelled data"
            description = (
                "Score MODEL on the labelled files of DATA_DIR (.npz files labelled "
                "by their names, or raw recordings labelled by --labels): "
                "accuracy, balanced accuracy, classification report (printed and "
                "written to --output) and a confusion matrix figure."
            )
            default_output = "report.csv"
        p = sub.add_parser(
            name, help=summary, description=description, formatter_class=formatter
        )
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
        if name == "evaluate":
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
        p.add_argument(
            "--n-jobs",
            type=_jobs,
            default=1,
            help="parallel HHT jobs for raw recordings",
        )
        _subject_options(p, training=False)
        p.add_argument(
            "--force", action="store_true", help="overwrite existing output files"
        )
        p.set_defaults(func=func)
    return parser


def main(argv=None):
    """Run ``sklearn-semg`` with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 2 on a user error (message on stderr).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError) as exc:
        # Bad input found by the library: its message names the file or
        # parameter and what was expected.
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a permission...: the file and cause
        where = f"{str(exc.filename)!r}: " if exc.filename else ""
        print(
            f"{PROG} {args.command}: error: {where}{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        # outputs are written at the end, to a temporary name: nothing written
        print(
            f"\n{PROG} {args.command}: interrupted; nothing was written.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
