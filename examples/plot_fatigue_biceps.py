"""
Biceps fatigue: classic features, Hilbert features and method 1
===============================================================

One biceps brachii recording, flexing and extending until fatigue (a sample
signal of the biosignalsnotebooks package, MIT licence), is cut into 2 s
windows: windows from the first third of the recording are ``"early"``, from
the last third ``"late"``. As the muscle fatigues, the median frequency of
its sEMG falls and its amplitude rises, so the two stages can be told apart.

Three methods, each a scikit-learn pipeline, are compared on the same folds:

- :class:`~sklearn_semg.EMGFeatures`: the classic time-domain and Welch
  spectrum features (RMS, zero crossings, median frequency...);
- :class:`~sklearn_semg.HHTFeatures`: band energies, instantaneous
  frequencies and their trends, read off the Hilbert spectrum;
- method 1: Hilbert-Huang matrices, a frozen CNN encoder and an SVC
  (:func:`~sklearn_semg.make_cnn_svm_pipeline`).

Neighbouring windows are almost identical, so a shuffled split would test on
near-copies of the training windows. The folds hold out whole **blocks of
time** instead (``groups``).

The recording is not bundled with the package: the example reads it from
``../shared/data/biceps_fatigue`` relative to the repository root, or from
``$SKLEARN_SEMG_SHARED_DATA/biceps_fatigue``, and stops with a message when
it is absent.
"""

# %%
# Find and load the recording
# ---------------------------

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg import EMGFeatures, HHTFeatures, HHTTransformer, make_cnn_svm_pipeline
from sklearn_semg.datasets import load_biceps_fatigue

QUICK = os.environ.get("SKLEARN_SEMG_EXAMPLE_QUICK", "") not in ("", "0")


def shared_data_folder():
    """``$SKLEARN_SEMG_SHARED_DATA``, else ``../shared/data`` from the repository."""
    if os.environ.get("SKLEARN_SEMG_SHARED_DATA"):
        return Path(os.environ["SKLEARN_SEMG_SHARED_DATA"])
    try:
        examples = Path(__file__).resolve().parent
    except NameError:  # Sphinx-Gallery runs the examples from their folder
        examples = Path.cwd()
    return examples.parent.parent / "shared" / "data"


folder = shared_data_folder() / "biceps_fatigue"
if not folder.is_dir():
    # An error status, not 0: a documentation build that runs this example
    # without the data must fail loudly (docs/conf.py does not run it then).
    sys.exit(
        f"The biceps fatigue recording was not found in {folder}. Set "
        "SKLEARN_SEMG_SHARED_DATA to the folder holding biceps_fatigue/ to run "
        "this example."
    )

bunch = load_biceps_fatigue(folder, window_seconds=2.0, n_blocks=5)
X, y, groups = bunch.data, bunch.target, bunch.groups
print(f"{X.shape[0]} windows of {X.shape[2] / bunch.fs:g} s, {X.shape[1]} channel")
print(bunch.metadata.groupby("stage", sort=False)["group"].agg(["count", "nunique"]))

# %%
# The fatigue signature
# ---------------------
#
# :class:`~sklearn_semg.EMGFeatures` names its outputs, so the median
# frequency and the RMS of each window are easy to pick out. Windows of the
# middle third are not part of the task.

emg = EMGFeatures(fs=bunch.fs).fit(X)
F_emg = pd.DataFrame(emg.transform(X), columns=emg.get_feature_names_out())

fig, (ax_mdf, ax_rms) = plt.subplots(2, 1, sharex=True, figsize=(6, 4.5))
for stage, marker in [("early", "o"), ("late", "s")]:
    rows = y == stage
    ax_mdf.plot(bunch.time[rows], F_emg["ch0_mdf"][rows], marker, label=stage)
    ax_rms.plot(bunch.time[rows], F_emg["ch0_rms"][rows], marker, label=stage)
ax_mdf.set_ylabel("median frequency (Hz)")
ax_rms.set_ylabel("RMS (ADC counts)")
ax_rms.set_xlabel("start of the window (s)")
ax_mdf.legend()
fig.tight_layout()

# %%
# Features and matrices, computed once
# ------------------------------------
#
# All three transformers learn nothing from the data (their ``fit`` only
# checks the input), so the windows are transformed once, outside the
# cross-validation: nothing leaks, and the empirical mode decompositions are
# not repeated in every fold. ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` (set by the
# documentation build and the tests) uses small matrices and a small encoder;
# without it, method 1 runs with the reference notebook's 256x256 matrices
# and 64-channel encoder.

grid = 64 if QUICK else 256
features = {
    "EMGFeatures": F_emg.to_numpy(),
    "HHTFeatures": HHTFeatures(fs=bunch.fs, n_jobs=2).fit_transform(X),
    "HHT matrices": HHTTransformer(
        fs=bunch.fs, n_freq_bins=grid, n_time_bins=grid, n_jobs=2
    ).fit_transform(X),
}
for name, values in features.items():
    print(f"{name:<13} {values.shape}")

# %%
# Cross-validation on blocks of time
# ----------------------------------
#
# ``groups`` numbers 5 consecutive blocks in each stage; block ``k`` of both
# stages shares the group ``k``, so each of the 5 folds tests on one block of
# early and one block of late windows that the model has not seen.


def linear():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


candidates = {
    "EMGFeatures + logistic regression": ("EMGFeatures", linear()),
    "HHTFeatures + logistic regression": ("HHTFeatures", linear()),
    "method 1: HHT + frozen CNN + SVC": (
        "HHT matrices",
        make_cnn_svm_pipeline(
            hht=False, base_channels=8 if QUICK else 64, random_state=0
        ),
    ),
}
cv = GroupKFold(n_splits=5)
rows = []
for label, (data, model) in candidates.items():
    scores = cross_val_score(model, features[data], y, groups=groups, cv=cv)
    rows.append({"method": label, "accuracy": scores.mean(), "std": scores.std()})
results = pd.DataFrame(rows)
print(results.to_string(index=False, float_format="{:.2f}".format))
print(f"chance: {pd.Series(y).value_counts(normalize=True).max():.2f}")

# %%
# Reading the results
# -------------------
#
# The explicit features see both fatigue cues: the falling frequencies
# (``mdf``, ``mnf``, the Hilbert frequency trends) and the rising amplitude
# (``rms``, ``mav``, the Hilbert log energy). The matrices of method 1 are
# normalised one by one (``normalize="max"``, the reference notebook's
# choice), so they keep the shape of the spectrum and lose the amplitude.
# With ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` method 1 also runs on small matrices
# with a small encoder: its score then only illustrates the workflow.
