"""``sklearn-semg demo``: every method on the bundled MioTracker recordings,
with subject-wise cross-validation (:mod:`sklearn_semg.evaluation`); prints a
table and writes figures and ``results.csv``.

Its settings are :data:`DEMO_SETTINGS` (and :data:`QUICK_DEMO_SETTINGS` for
``--quick``): change them there, in one place.
"""

import copy
import time
from pathlib import Path

from ._common import (
    PROG,
    CLIError,
    _cache_folder,
    _echo,
    _save_figure,
    _tty,
    _use_agg,
    _write_csv,
)
from ._methods import METHOD_NAMES, Settings
from ._options import _force_option
from ._recordings import _describe_filter

#: Settings of ``sklearn-semg demo``: change them here, in one place. Every
#: method is a plain pipeline on the raw recordings; they share one cache
#: (``memory``), so each recording is decomposed once for all methods and
#: folds. The HHT follows the recommended settings (bench/bench_accuracy.py):
#: 64 rows over the sEMG band, amplitudes kept. They are printed by the demo.
#: The keys ``"cnn-svm"`` and ``"end-to-end"`` were ``"svm"`` and ``"e2e"``
#: (still read, with a FutureWarning, until 0.3).
DEMO_SETTINGS = Settings(
    {
        # Central samples kept of each recording (the shortest has 1158).
        "n_times": 1024,
        # Use only the first N subjects (None: all 19).
        "n_subjects": None,
        # The HHT step of cnn-svm and end-to-end (the recommended pipeline has
        # its own, the same apart from normalisation).
        "hht": {
            "n_freq_bins": 64,
            "n_time_bins": 64,
            "max_imf": 10,
            "freq_range": "semg",
            "normalize": None,
        },
        "hht_n_jobs": 2,
        # Subject-wise folds (GroupKFold on the subject number), fitted two at
        # a time in parallel processes with one torch thread each: tiny
        # networks train faster on one thread, and two threads on a busy
        # 2-core machine can be ten times slower.
        "cv_folds": 5,
        "cv_n_jobs": 2,
        # Method 1: make_cnn_svm_pipeline(hht=False, **cnn_svm), with the
        # encoder pooled over time only (the reference's global pooling
        # discards where the energy sits in frequency; see
        # docs/user_guide/benchmarks.rst).
        "cnn-svm": {
            "base_channels": 16,
            "num_layers": 2,
            "pooling": "time",
            "batch_size": 32,
            "C": 10.0,
        },
        # Method 2: make_end_to_end_pipeline(hht=False, **end_to_end),
        # regularised for small data (time pooling, augmentation, weight
        # decay, early stopping).
        "end-to-end": {
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
        # The recommended pipeline is evaluated a second time with a
        # SEMGFilter first (make_recommended_pipeline(filter=...)), on the
        # same folds.
        "filter": {"freq_range": "semg", "mains": "auto"},
        "device": "cpu",
        "random_state": 0,
    }
)

#: ``demo --quick``: a tiny subset, for tests and a first look (seconds).
QUICK_DEMO_SETTINGS = Settings(
    {
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
        "cnn-svm": {
            "base_channels": 4,
            "num_layers": 2,
            "pooling": "time",
            "batch_size": 32,
            "C": 10.0,
        },
        "end-to-end": {
            "module__base_channels": 4,
            "module__num_layers": 2,
            "module__pooling": "time",
            "augment": True,
            "max_epochs": 2,
            "batch_size": 32,
            "lr": 1e-3,
        },
    }
)

#: File name of the confusion matrix of every row of the table.
_CONFUSION_FILES = {
    "recommended": "recommended",
    "recommended_filter": "recommended_filtered",
    "recommended_subject": "recommended_per_subject",
    "cnn-svm": "method1_cnn_svm",
    "end-to-end": "method2_end_to_end",
}


def add_parser(sub, formatter):
    p = sub.add_parser(
        "demo",
        help="compare the methods on the bundled recordings (about a minute)",
        description=(
            "Fit the recommended pipeline (HHT features and marginal spectrum -> "
            "SVM; a second time with a SEMGFilter first, 20-450 Hz band-pass and "
            "mains notch, to show its effect; a third time calibrated per "
            "subject), cnn-svm (method 1: HHT -> frozen CNN -> SVM) and "
            "end-to-end (method 2: HHT -> CNN trained end to end) on the bundled "
            "MioTracker recordings (MuscleTracker data set, 380 recordings, 19 "
            "subjects, 5 hand movements) with subject-wise cross-validation; "
            "print accuracy, balanced accuracy, fit time and chance level; write "
            "figures (HHT of one recording per movement, confusion matrices, "
            "training history of end-to-end) and results.csv into --output. The "
            "settings (printed) are in sklearn_semg.cli.DEMO_SETTINGS."
        ),
        formatter_class=formatter,
    )
    p.add_argument(
        "--output",
        default="sklearn-semg-demo",
        metavar="DIR",
        help="folder for the figures and results.csv",
    )
    _force_option(p, "write into --output even if it is not empty")
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
    p.set_defaults(func=run)


def run(args):
    """Every method on the bundled recordings; table and figures."""
    settings = copy.deepcopy(QUICK_DEMO_SETTINGS if args.quick else DEMO_SETTINGS)
    out = _check_output(args)
    started = time.perf_counter()
    data = _demo_data(settings)
    _echo(
        f"{PROG} demo{' --quick' if args.quick else ''}: bundled MioTracker "
        f"recordings (MuscleTracker, CC0): {len(data.raw)} of {data.n_total} "
        f"recordings, {data.raw.shape[1]} channels, fs {data.fs:g} Hz, "
        f"{len(set(data.y))} movements, {len(set(data.groups))} subjects."
    )
    _echo("Settings (sklearn_semg.cli.DEMO_SETTINGS):")
    _echo(_describe_settings(settings))
    n_steps = len(_CONFUSION_FILES) + 2  # the EMD, every method, the figures
    with _cache_folder(args.cache_dir) as memory:
        _decompose(data, settings, memory, n_steps)
        evaluated = _evaluate_methods(data, settings, memory, n_steps)
        examples, hht, X = _example_matrices(data, settings, memory)
    _echo(f"\n[{n_steps}/{n_steps}] Figures")
    written = _figures(data, evaluated, examples, hht, X, settings, out)
    _report(evaluated, out, written)
    _echo(f"Total wall time: {time.perf_counter() - started:.1f} s")
    return 0


def _check_output(args):
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--output {str(out)!r} is a file; expected a folder.")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CLIError(
            f"--output folder {str(out)!r} exists and is not empty; pass --force to "
            "overwrite the demo's files in it, or choose another --output."
        )
    return out


def _central_crop(recording, n_times, name):
    total = recording.shape[-1]
    if total < n_times:
        raise CLIError(
            f"recording {name} has {total} samples, fewer than n_times={n_times}."
        )
    start = (total - n_times) // 2
    return recording[:, start : start + n_times]


def _demo_data(settings):
    """The bundled recordings the settings ask for, cropped: a Bunch of
    ``raw`` (n, channels, n_times), ``y``, ``groups``, ``fs``, ``n_total``."""
    import numpy as np
    from sklearn.utils import Bunch

    from ..datasets import load_movements

    bunch = load_movements()
    subjects = np.unique(bunch.groups)
    if settings["n_subjects"] is not None:
        keep = np.flatnonzero(np.isin(bunch.groups, subjects[: settings["n_subjects"]]))
    else:
        keep = np.arange(len(bunch.data))
    raw = np.stack(
        [
            _central_crop(
                bunch.data[i], settings["n_times"], bunch.metadata["file"].iloc[i]
            )
            for i in keep
        ]
    )
    return Bunch(
        raw=raw,
        y=np.asarray(bunch.target)[keep],
        groups=np.asarray(bunch.groups)[keep],
        fs=float(bunch.fs),
        n_total=len(bunch.data),
    )


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
        "  cnn-svm    : "
        + ", ".join(f"{k}={v}" for k, v in settings["cnn-svm"].items()),
        "  end-to-end : "
        + ", ".join(f"{k}={v}" for k, v in settings["end-to-end"].items()),
        f"  device     : {settings['device']}, random_state={settings['random_state']}",
    ]
    return "\n".join(lines)


def _decompose(data, settings, memory, n_steps):
    """The EMD of every recording, raw and filtered, into the cache."""
    from ..hht import EMDDecomposer
    from ..preprocessing import SEMGFilter

    raw, n_jobs = data.raw, settings["hht_n_jobs"]
    _echo(
        f"\n[1/{n_steps}] EMD of {len(raw)} recordings x {raw.shape[1]} "
        "channels, raw and filtered, once, into the cache every method reads ..."
    )
    t0 = time.perf_counter()
    EMDDecomposer(memory=memory, n_jobs=n_jobs, progress=_tty()).fit_transform(raw)
    # the filter step of every fold picks its mains line from its training
    # recordings; where it picks the line picked here from all of them, it
    # filters the same way and reads these decompositions
    filt = SEMGFilter(fs=data.fs, **settings["filter"]).fit(raw)
    EMDDecomposer(memory=memory, n_jobs=n_jobs, progress=_tty()).fit_transform(
        filt.transform(raw)
    )
    _echo(f"      decomposed in {time.perf_counter() - t0:.1f} s")
    _echo(f"      SEMGFilter on all recordings: {_describe_filter(filt)}")


def _demo_pipelines(settings, fs, memory):
    """``{row: (pipeline factory, per_subject)}``, in the order of the table.

    Factories, so that each pipeline is made just before its
    cross-validation: the CNN pipelines import torch, and torch imported
    before the folds of the others start makes joblib restart its worker
    processes (seconds of imports again).
    """
    from functools import partial

    from ..pipelines import (
        make_cnn_svm_pipeline,
        make_end_to_end_pipeline,
        make_recommended_pipeline,
    )

    seed, n_jobs = settings["random_state"], settings["hht_n_jobs"]
    recommended = partial(
        make_recommended_pipeline,
        fs=fs,
        memory=memory,
        n_jobs=n_jobs,
        random_state=seed,
    )
    common = dict(fs=fs, hht_params=settings["hht"], memory=memory, n_jobs=n_jobs)
    device = dict(device=settings["device"], random_state=seed)
    return {
        "recommended": (recommended, False),
        "recommended_filter": (partial(recommended, filter=settings["filter"]), False),
        # each test subject calibrated on its own recordings
        "recommended_subject": (partial(recommended, per_subject=True), True),
        "cnn-svm": (
            partial(make_cnn_svm_pipeline, **device, **common, **settings["cnn-svm"]),
            False,
        ),
        "end-to-end": (
            partial(
                make_end_to_end_pipeline,
                **device,
                verbose=0,
                **common,
                **settings["end-to-end"],
            ),
            False,
        ),
    }


def _evaluate_methods(data, settings, memory, n_steps):
    """``{row: evaluate_pipeline result}``, every method on the same folds."""
    from sklearn.model_selection import GroupKFold

    from ..evaluation import evaluate_pipeline

    cv = GroupKFold(n_splits=settings["cv_folds"])
    evaluated = {}
    pipelines = _demo_pipelines(settings, data.fs, memory)
    for step, (key, (make, per_subject)) in enumerate(pipelines.items(), 2):
        _echo(
            f"\n[{step}/{n_steps}] {METHOD_NAMES[key]}: {cv.get_n_splits()}-fold "
            "subject-wise CV"
        )
        step_started = time.perf_counter()
        evaluated[key] = evaluate_pipeline(
            make(),
            data.raw,
            data.y,
            groups=data.groups,
            cv=cv,
            per_subject=per_subject,
            n_jobs=settings["cv_n_jobs"],
        )
        _echo(f"      done in {time.perf_counter() - step_started:.1f} s")
    return evaluated


def _example_matrices(data, settings, memory):
    """The HHT of the first recording of every movement, for the figure."""
    import numpy as np

    from ..hht import HHTTransformer

    examples = [int(np.flatnonzero(data.y == label)[0]) for label in np.unique(data.y)]
    hht = HHTTransformer(fs=data.fs, memory=memory, **settings["hht"])
    return examples, hht, hht.fit_transform(data.raw[examples])


def _figures(data, evaluated, examples, hht, X, settings, out):
    """HHT examples, a confusion matrix per row, the training history."""
    _use_agg()
    import numpy as np

    from ..plotting import plot_confusion_matrix, plot_history

    classes = np.unique(data.y)
    fig = _hht_examples_figure(data, examples, hht, X, settings["n_times"])
    written = [_save_figure(fig, out / "hht_examples.png", force=True)]
    for key, name in _CONFUSION_FILES.items():
        fig = plot_confusion_matrix(
            data.y,
            evaluated[key].y_pred,
            labels=classes,
            normalize="true",
            title=f"{METHOD_NAMES[key]}\n(out-of-fold, subject-wise CV)",
        )
        written.append(_save_figure(fig, out / f"confusion_{name}.png", force=True))
    folds = evaluated["end-to-end"].cv_results["estimator"]
    fig = plot_history(
        folds[0][-1],
        title=f"end-to-end (method 2) training history (fold 1 of {len(folds)})",
        valid_label="Validation (random 20% of the training fold, not subject-wise)",
    )
    written.append(_save_figure(fig, out / "history_method2.png", force=True))
    return written


def _hht_examples_figure(data, examples, hht, X, n_times):
    import matplotlib.pyplot as plt
    import numpy as np

    from ..plotting import plot_hht

    classes = np.unique(data.y)
    n_channels = data.raw.shape[1]
    fig, axes = plt.subplots(
        len(classes),
        n_channels,
        figsize=(5.2 * n_channels, 2.7 * len(classes)),
        squeeze=False,
    )
    for k, (row, label) in enumerate(zip(axes, classes, strict=True)):
        plot_hht(
            X[k],
            transformer=hht,
            n_times=n_times,
            ax=row,
            title=f"{label} (subject {data.groups[examples[k]]})",
            vmax=float(X.max()),  # one colour scale for every panel
        )
    fig.suptitle(
        f"HHT ({X.shape[2]}x{X.shape[3]}) of one recording per movement "
        f"(central {n_times} samples)"
    )
    fig.tight_layout()
    return fig


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


def _report(evaluated, out, written):
    """The table (printed and results.csv) and the list of files written."""
    import pandas as pd

    columns = ["method", "accuracy", "balanced_accuracy", "fit_time_s", "chance"]
    results = [
        {"method": METHOD_NAMES[key], **result.summary}
        for key, result in evaluated.items()
    ]
    table = pd.DataFrame(results)
    written.append(_write_csv(table, out / "results.csv", force=True))
    _echo("\nResults (out-of-fold predictions, subject-wise GroupKFold):")
    _echo(_format_table(results, columns))
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
