"""What SEMGFilter changes: the recommended pipeline with and without it.

Subject-wise cross-validation (GroupKFold(5) on the subject) of
``make_recommended_pipeline`` on the MuscleTracker recordings of
``../shared/data`` (MioTracker: central 1024 samples; Biopac: central 2048),
plain and calibrated per subject, each with ``filter=None`` and
``filter=True`` (sEMG band 20-450 Hz and the mains notch picked from the
training folds). The two variants of a row run side by side on the same folds
in one process. Prints accuracy (mean over folds ± fold SD), the mains
frequency picked (and how far each candidate's line stands above its
neighbourhood, per fold), and wall and CPU time per variant.

    python bench/bench_filter.py [--tasks mio biopac]
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from sklearn_semg import make_recommended_pipeline
from sklearn_semg.datasets import load_movements, load_muscletracker

SHARED = Path(
    os.environ.get(
        "SKLEARN_SEMG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data"
    )
)


def central(recordings, n_times):
    return np.stack(
        [r[:, max((r.shape[1] - n_times) // 2, 0) :][:, :n_times] for r in recordings]
    )


def load(task):
    folder = SHARED / "muscletracker"
    if task == "mio" and not folder.is_dir():
        bunch = load_movements()  # the bundled copy of the MioTracker part
    else:
        bunch = load_muscletracker(
            folder, amplifier="miotracker" if task == "mio" else "biopac"
        )
    X = central(bunch.data, 1024 if task == "mio" else 2048)
    return X, np.asarray(bunch.target), np.asarray(bunch.groups), float(bunch.fs)


def scores(pipe, X, y, groups, per_subject):
    folds, mains, prominence = [], [], []
    wall, cpu = time.perf_counter(), time.process_time()
    for train, test in GroupKFold(5).split(X, y, groups):
        model = clone(pipe)
        if per_subject:
            model.fit(X[train], y[train], groups=groups[train])
            pred = model.predict(X[test], groups=groups[test])
        else:
            pred = model.fit(X[train], y[train]).predict(X[test])
        folds.append(np.mean(pred == y[test]))
        if "filter" in model.named_steps:
            step = model.named_steps["filter"]
            mains.append(step.mains_)
            prominence.append(step.mains_prominence_)
    if prominence:
        print(
            "  mains line prominence per fold (dB): "
            + "; ".join(f"50 Hz {p[50.0]:.1f}, 60 Hz {p[60.0]:.1f}" for p in prominence)
        )
    return (
        np.asarray(folds),
        sorted(set(mains)),
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["mio", "biopac"])
    args = parser.parse_args()
    sklearn.set_config(enable_metadata_routing=True)
    print(
        f"{'task':<8}{'pipeline':<24}{'filter':<8}{'accuracy':>18}  mains  wall s  CPU s"
    )
    for task in args.tasks:
        X, y, groups, fs = load(task)
        for per_subject in (False, True):
            name = "recommended" + (" per subject" if per_subject else "")
            for filt in (None, True):
                pipe = make_recommended_pipeline(
                    fs=fs, per_subject=per_subject, n_jobs=2, filter=filt
                )
                folds, mains, wall, cpu = scores(pipe, X, y, groups, per_subject)
                print(
                    f"{task:<8}{name:<24}{'on' if filt else 'off':<8}"
                    f"{folds.mean():>10.3f} ± {folds.std():.3f}  "
                    f"{'/'.join(f'{m:g}' for m in mains) or '-':>5}  {wall:6.1f} {cpu:6.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
