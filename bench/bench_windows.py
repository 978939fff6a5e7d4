"""What the steps from continuous recordings to labelled windows change.

Three protocols on the real recordings of ``../shared/data``, each printing
accuracy (mean over folds ± fold SD) with wall and CPU time per row; all rows
of a table run on the same folds in one process.

``sets``: the named feature sets of :class:`~sklearn_semg.EMGFeatures` on
whole MuscleTracker recordings (MioTracker and Biopac), subject-wise
cross-validation (``GroupKFold(5)`` on the subject). Pipeline:
``SEMGFilter`` (20-450 Hz, 60 Hz notch, as the dataset's authors) →
``EMGFeatures(features=SET, threshold=0.05)`` → ``StandardScaler`` (or
``SubjectStandardScaler``, per subject) → linear discriminant analysis.

``windows``: the same recordings filtered whole, cut into 250 ms windows
every 125 ms (``window_recordings``), the ``td`` set per window, global
or per-subject scaling; accuracy per
window, after ``majority_vote`` over the last k windows of a recording, and
per recording (the most frequent window label of the whole recording).
Subject-wise folds, so no window of a test subject is ever trained on.

``fatigue``: the continuous biceps recording (126.9 s). Filtered whole
(20-450 Hz, 50 Hz notch, picked by ``mains="auto"``), cut into 1 s windows;
``"early"`` is the first third, ``"late"`` the last (annotations; the middle
third is dropped, reported). The folds hold out one block of early and one of
late windows (``GroupKFold(5)`` on 5 time blocks per stage). Steps added one
at a time: raw windows; filtered; calibrated on the first 8 windows of the
session (``SubjectStandardScaler(reference=8)``: a rested start, which the
held-out fold has too, its early block); majority vote over 5 windows.

    python bench/bench_windows.py [--protocols sets windows fatigue]
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg import EMGFeatures, SEMGFilter, SubjectStandardScaler
from sklearn_semg.datasets import load_muscletracker
from sklearn_semg.features import FEATURE_SETS
from sklearn_semg.preprocessing import majority_vote, window_recordings

SHARED = Path(
    os.environ.get(
        "SKLEARN_SEMG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data"
    )
)


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = function(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def row(*cells, folds, wall, cpu):
    folds = np.asarray(folds)
    text = "".join(f"{c:<26}" for c in cells)
    print(
        f"{text}{folds.mean():>8.3f} ± {folds.std():.3f}  {wall:7.1f} {cpu:7.1f}",
        flush=True,
    )


def muscletracker(device):
    bunch = load_muscletracker(SHARED / "muscletracker", amplifier=device)
    # the authors' filter; fit only checks the band against fs (mains fixed)
    filt = SEMGFilter(fs=bunch.fs, mains=60).fit(bunch.data)
    X = filt.transform(bunch.data)
    return X, np.asarray(bunch.target), np.asarray(bunch.groups), float(bunch.fs)


def fit_predict(model, X, y, train, test, groups=None):
    """Predictions of ``model`` fitted on ``train``; ``groups`` go to the
    per-subject calibration at fit and predict."""
    model = clone(model)
    X_train, X_test = [X[i] for i in train], [X[i] for i in test]
    if groups is None:
        return model.fit(X_train, y[train]).predict(X_test)
    model.fit(X_train, y[train], groups=groups[train])
    return model.predict(X_test, groups=groups[test])


def cv_accuracy(pipe, X, y, folds, groups=None):
    out = []
    for train, test in folds:
        pred = fit_predict(pipe, X, y, train, test, groups)
        out.append(np.mean(pred == y[test]))
    return out


def protocol_sets(devices):
    print(
        f"\n{'task':<26}{'feature set':<26}{'scaling':<26}{'accuracy':>8}"
        "          wall s   CPU s"
    )
    for device in devices:
        X, y, subjects, fs = muscletracker(device)
        X = list(X)
        folds = list(GroupKFold(5).split(X, y, subjects))
        for name in FEATURE_SETS:
            for per_subject in (False, True):
                scaler = SubjectStandardScaler() if per_subject else StandardScaler()
                pipe = make_pipeline(
                    EMGFeatures(fs=fs, features=name, threshold=0.05),
                    scaler,
                    LinearDiscriminantAnalysis(),
                )

                groups = subjects if per_subject else None
                accuracy, wall, cpu = timed(cv_accuracy, pipe, X, y, folds, groups)
                row(
                    device,
                    name,
                    "per subject" if per_subject else "global",
                    folds=accuracy,
                    wall=wall,
                    cpu=cpu,
                )


def window_outputs(pipe, w, groups, votes):
    """Accuracy per fold of the windows, of their votes over the last k
    windows, and of whole recordings (their most frequent window label)."""
    recording = w.metadata["recording"].to_numpy()
    per = {"window": [], **{f"vote k={k}": [] for k in votes}, "recording": []}
    for train, test in GroupKFold(5).split(w.data, w.target, w.groups):
        pred = fit_predict(pipe, w.data, w.target, train, test, groups)
        truth = w.target[test]
        per["window"].append(np.mean(pred == truth))
        for k in votes:
            voted = majority_vote(pred, recording[test], k=k)
            per[f"vote k={k}"].append(np.mean(voted == truth))
        frame = pd.DataFrame({"rec": recording[test], "pred": pred, "truth": truth})
        whole = frame.groupby("rec").agg(
            pred=("pred", lambda p: p.value_counts().index[0]),
            truth=("truth", "first"),
        )
        per["recording"].append(np.mean(whole["pred"] == whole["truth"]))
    return per


def protocol_windows(devices, votes=(5, 9)):
    print(
        f"\n{'task':<26}{'windows, scaling':<26}{'output':<26}{'accuracy':>8}"
        "          wall s   CPU s"
    )
    for device in devices:
        X, y, subjects, fs = muscletracker(device)
        w = window_recordings(
            list(X), fs=fs, window_s=0.25, step_s=0.125, labels=y, subjects=subjects
        )
        for per_subject in (False, True):
            pipe = make_pipeline(
                EMGFeatures(fs=fs, features="td", threshold=0.05),
                SubjectStandardScaler() if per_subject else StandardScaler(),
                LinearDiscriminantAnalysis(),
            )
            groups = w.groups if per_subject else None
            per, wall, cpu = timed(window_outputs, pipe, w, groups, votes)
            label = f"{len(w.target)}, " + ("per subject" if per_subject else "global")
            for output, accuracy in per.items():
                row(device, label, output, folds=accuracy, wall=wall, cpu=cpu)


def fatigue_windows(filtered):
    """1 s windows of the biceps recording, early and late thirds, with their
    time blocks (the CV groups) and a session id (one recording)."""
    signal = np.loadtxt(SHARED / "biceps_fatigue" / "emg_fatigue_biceps_1000hz.txt")
    signal = (signal - 2048.0)[np.newaxis, np.newaxis]
    fs = 1000.0
    if filtered:
        signal = SEMGFilter(fs=fs, mains="auto").fit_transform(signal)
    total = signal.shape[-1] / fs
    annotations = pd.DataFrame(
        {
            "recording": [0, 0],
            "start_s": [0.0, 2 * total / 3],
            "stop_s": [total / 3, total],
            "label": ["early", "late"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the middle third, dropped
        w = window_recordings(signal, fs=fs, window_s=1.0, annotations=annotations)
    blocks = np.empty(len(w.target), dtype=int)
    for stage in ("early", "late"):
        members = np.flatnonzero(w.target == stage)
        blocks[members] = np.arange(len(members)) * 5 // len(members)
    return w, blocks, fs


def protocol_fatigue(feature_set="default"):
    print(
        f"\n{'task':<26}{'steps':<26}{'features':<26}{'accuracy':>8}"
        "          wall s   CPU s"
    )
    steps = [
        ("windows", False, False, None),
        ("+ filter", True, False, None),
        ("+ calibration", True, True, None),
        ("+ vote k=5", True, True, 5),
    ]
    for label, filtered, calibrated, k in steps:
        w, blocks, fs = fatigue_windows(filtered)
        session = np.zeros(len(w.target), dtype=int)
        scaler = SubjectStandardScaler(reference=8) if calibrated else StandardScaler()
        pipe = make_pipeline(
            EMGFeatures(fs=fs, features=feature_set),
            scaler,
            LogisticRegression(max_iter=1000),
        )

        def run(
            pipe=pipe, w=w, blocks=blocks, session=session, calibrated=calibrated, k=k
        ):
            out = []
            for train, test in GroupKFold(5).split(w.data, w.target, blocks):
                groups = session if calibrated else None
                pred = fit_predict(pipe, w.data, w.target, train, test, groups)
                if k:
                    # one stream per run of consecutive windows: votes never
                    # cross the time gap between the two held-out blocks
                    starts = w.metadata["start_s"].to_numpy()[test]
                    stream = np.concatenate([[0], np.cumsum(np.diff(starts) > 1.5)])
                    pred = majority_vote(pred, stream, k=k)
                out.append(np.mean(pred == w.target[test]))
            return out

        accuracy, wall, cpu = timed(run)
        row(
            "biceps fatigue",
            label,
            f"{feature_set} ({len(w.target)} x 1 s)",
            folds=accuracy,
            wall=wall,
            cpu=cpu,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--protocols", nargs="+", default=["sets", "windows", "fatigue"]
    )
    parser.add_argument("--devices", nargs="+", default=["miotracker", "biopac"])
    args = parser.parse_args()
    import sklearn

    sklearn.set_config(enable_metadata_routing=True)
    if "sets" in args.protocols:
        protocol_sets(args.devices)
    if "windows" in args.protocols:
        protocol_windows(args.devices)
    if "fatigue" in args.protocols:
        for feature_set in ("default", "td", "tdpsd", "hjorth"):
            protocol_fatigue(feature_set)


if __name__ == "__main__":
    main()
