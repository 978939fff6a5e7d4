"""
From a continuous recording to a fatigue classifier
===================================================

Real recordings are rarely cut into neat windows: this example starts from
one continuous biceps brachii recording (126.9 s of flexion and extension
until fatigue, a sample signal of the biosignalsnotebooks package, MIT
licence) and builds a cross-validated fatigue classifier, one step at a
time:

1. **filtering**: :class:`~sklearn_semg.SEMGFilter`, a zero-phase 20-450 Hz
   band-pass with a notch at the mains frequency found in the data;
2. **windowing**: :func:`~sklearn_semg.preprocessing.window_recordings` cuts
   the recording into 1 s windows labelled by a time-stamped annotation
   table (``"early"``: the first third, ``"late"``: the last third; the
   windows of the middle third are dropped, and the drop is reported);
3. **features**: a named feature set of :class:`~sklearn_semg.EMGFeatures`;
4. **calibration**: :class:`~sklearn_semg.SubjectStandardScaler` with
   ``reference=8`` standardises the features of a session by its first 8
   windows, a rested start that every session has;
5. **majority vote**: :func:`~sklearn_semg.preprocessing.majority_vote`
   smooths the window predictions over the last 5 windows, as a live
   display would.

Neighbouring windows are almost identical, so a shuffled split would test on
near-copies of the training windows: the folds hold out whole **blocks of
time** (one block of early and one of late windows per fold).

The recording is not bundled with the package: the example reads it from
``../shared/data/biceps_fatigue`` relative to the repository root, or from
``$SKLEARN_SEMG_SHARED_DATA/biceps_fatigue``, and stops with a message when
it is absent.
"""

# %%
# Read the continuous recording
# -----------------------------
#
# One column of raw 12-bit ADC counts at 1000 Hz; the mid-scale 2048 is the
# zero of the signal. :func:`~sklearn_semg.datasets.read_recording` reads
# text files (one column per channel) as well as EDF/BDF and WFDB files;
# a text file does not store its sampling rate, so ``fs`` is given.

import os
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from scipy.signal import welch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg import EMGFeatures, SEMGFilter, SubjectStandardScaler
from sklearn_semg.datasets import read_recording
from sklearn_semg.preprocessing import majority_vote, window_recordings


def shared_data_folder():
    """``$SKLEARN_SEMG_SHARED_DATA``, else ``../shared/data`` from the repository."""
    if os.environ.get("SKLEARN_SEMG_SHARED_DATA"):
        return Path(os.environ["SKLEARN_SEMG_SHARED_DATA"])
    try:
        examples = Path(__file__).resolve().parent
    except NameError:  # Sphinx-Gallery runs the examples from their folder
        examples = Path.cwd()
    return examples.parent.parent / "shared" / "data"


file = shared_data_folder() / "biceps_fatigue" / "emg_fatigue_biceps_1000hz.txt"
if not file.is_file():
    # An error status, not 0: a documentation build that runs this example
    # without the data must fail loudly (docs/conf.py does not run it then).
    sys.exit(
        f"The biceps fatigue recording was not found at {file}. Set "
        "SKLEARN_SEMG_SHARED_DATA to the folder holding biceps_fatigue/ to run "
        "this example."
    )

rec = read_recording(file, fs=1000.0)
fs = rec.fs
recording = (rec.data - 2048.0)[np.newaxis]  # one recording, one channel
duration = recording.shape[-1] / fs
print(f"one recording of {duration:.1f} s at {fs:g} Hz")

# %%
# Filtering
# ---------
#
# ``mains="auto"`` compares the lines at 50 and 60 Hz with their neighbourhood
# at ``fit`` and notches the stronger one (and its harmonics). The filter
# learns nothing about the classes, so it is applied to the whole recording
# once, before cutting it, as an amplifier's filter would be: filtering each
# short window on its own would add edge effects to every window.

filt = SEMGFilter(fs=fs, mains="auto").fit(recording)
filtered = filt.transform(recording)
print(
    f"mains: {filt.mains_:g} Hz (line above its neighbourhood: "
    + ", ".join(f"{f:g} Hz {p:.1f} dB" for f, p in filt.mains_prominence_.items())
    + ")"
)

# %%
# On this recording neither line stands out from its neighbourhood by more
# than a decibel, so the notch changes little; the band-pass removes the
# drift below 20 Hz and the noise above 450 Hz.

fig, ax = plt.subplots(figsize=(6, 3))
for signal, label in [(recording, "raw"), (filtered, "filtered")]:
    freqs, psd = welch(signal[0, 0], fs=fs, nperseg=1024)
    ax.semilogy(freqs, psd, label=label)
ax.axvspan(*filt.band_, color="0.9", zorder=0, label="pass band")
ax.set_xlabel("frequency (Hz)")
ax.set_ylabel("power spectral density")
ax.legend()
fig.tight_layout()

# %%
# Windowing with an annotation table
# ----------------------------------
#
# The labels are time-stamped segments of the recording; a window takes the
# label of the segment that covers it whole. Windows that no segment covers
# (the middle third) are dropped and listed in ``dropped`` with the reason,
# and :func:`~sklearn_semg.preprocessing.window_recordings` sums them up in
# one warning.

annotations = pd.DataFrame(
    {
        "recording": [0, 0],
        "start_s": [0.0, 2 * duration / 3],
        "stop_s": [duration / 3, duration],
        "label": ["early", "late"],
    }
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    windows = window_recordings(filtered, fs=fs, window_s=1.0, annotations=annotations)
for warning in caught:
    print(f"warning: {warning.message}")
X, y = windows.data, windows.target
print(f"{len(y)} windows of 1 s: {pd.Series(y).value_counts().to_dict()}")
print(windows.dropped["reason"].value_counts().to_string())

# %%
# Blocks of time for the folds
# ----------------------------
#
# Each stage is split into 5 consecutive blocks; block ``k`` of both stages
# shares the group ``k``, so each of the 5 folds tests on one block of early
# and one block of late windows that the model has not seen.

blocks = np.empty(len(y), dtype=int)
for stage in ("early", "late"):
    members = np.flatnonzero(y == stage)
    blocks[members] = np.arange(len(members)) * 5 // len(members)
start = windows.metadata["start_s"].to_numpy()
folds = list(GroupKFold(n_splits=5).split(X, y, blocks))

# %%
# Features, calibration and a classifier
# --------------------------------------
#
# The classic default features (amplitude, complexity, mean and median
# frequency) per window. ``SubjectStandardScaler`` receives the session of
# every window through scikit-learn's metadata routing; with
# ``reference=8`` it standardises each session by its first 8 windows in the
# order given. Here the recording is one session, and a held-out fold begins
# with its early block, so its calibration windows are rested ones as well.

sklearn.set_config(enable_metadata_routing=True)
session = np.zeros(len(y), dtype=int)


def make_model(calibrated):
    scaler = SubjectStandardScaler(reference=8) if calibrated else StandardScaler()
    return make_pipeline(EMGFeatures(fs=fs), scaler, LogisticRegression(max_iter=1000))


def streams(starts):
    """One id per run of consecutive windows: votes never cross the time gap
    between the two held-out blocks of a fold."""
    return np.concatenate([[0], np.cumsum(np.diff(starts) > 1.5)])


def evaluate(X, calibrated, vote):
    """Accuracy per fold, and the predictions of every window."""
    accuracy, predictions = [], np.empty(len(y), dtype=object)
    for train, test in folds:
        model = clone(make_model(calibrated))
        if calibrated:
            model.fit(X[train], y[train], groups=session[train])
            pred = model.predict(X[test], groups=session[test])
        else:
            pred = model.fit(X[train], y[train]).predict(X[test])
        if vote:
            pred = majority_vote(pred, streams(start[test]), k=vote)
        predictions[test] = pred
        accuracy.append(np.mean(pred == y[test]))
    return np.asarray(accuracy), predictions


# %%
# One step at a time
# ------------------
#
# The same folds for every row. The first row cuts the raw recording with
# the same annotations, without the filter.

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # the same middle third, dropped
    raw_windows = window_recordings(
        recording, fs=fs, window_s=1.0, annotations=annotations
    ).data
steps = {
    "windows (no filter)": (raw_windows, False, None),
    "+ filter": (X, False, None),
    "+ calibration": (X, True, None),
    "+ majority vote (k=5)": (X, True, 5),
}
rows, predicted = [], {}
for label, (data, calibrated, vote) in steps.items():
    accuracy, predicted[label] = evaluate(data, calibrated, vote)
    rows.append(
        {"steps": label, "accuracy": accuracy.mean(), "fold SD": accuracy.std()}
    )
results = pd.DataFrame(rows)
print(results.to_string(index=False, float_format="{:.2f}".format))
print(f"chance: {pd.Series(y).value_counts(normalize=True).max():.2f}")

# %%
# The predictions over time
# -------------------------
#
# Each window's cross-validated prediction (made by the model that did not
# see its block), before and after the vote.

fig, ax = plt.subplots(figsize=(6, 2.8))
late = {"early": 0, "late": 1}
for offset, label in [(0.0, "+ calibration"), (0.08, "+ majority vote (k=5)")]:
    values = np.array([late[p] for p in predicted[label]]) + offset
    ax.plot(start, values, ".", label=label)
ax.plot(start, [late[t] for t in y], "k_", markersize=12, label="annotation")
ax.set_yticks([0, 1], ["early", "late"])
ax.set_xlabel("start of the window (s)")
ax.legend(loc="center", fontsize="small")
fig.tight_layout()

# %%
# Reading the results
# -------------------
#
# On this recording the filter leaves the window accuracy where it was, and
# calibration and the vote raise it, each by less than a fold SD. One
# recording of one person gives few windows (about 40 per stage) and five
# folds of about 17 test windows, so a single window moves a fold's accuracy
# by 6 points: compare the steps with their fold SD in mind, and read the
# figures as this recording's, not as general effects.
# ``bench/bench_windows.py`` runs the same chain with other feature sets and,
# on the 49 subjects of the MuscleTracker data, measures windowing, voting
# and per-subject calibration where there are enough subjects to tell.
