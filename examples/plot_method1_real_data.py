"""
Method 1 on real recordings: frozen CNN features and an SVM
===========================================================

Five hand movements recorded with a portable two-channel forearm sEMG device
(the MioTracker recordings of the MuscleTracker data set, E. Morales-Vargas
et al., CC0 1.0: 19 subjects x 4 repetitions x 5 movements, fs = 1001 Hz).

Method 1 of the reference notebook turns every channel into a Hilbert-Huang
time-frequency matrix, encodes the matrices with a convolutional encoder
whose weights are random and frozen, then classifies the feature vectors
with a standardised RBF SVM. Here it is one scikit-learn pipeline,
evaluated subject by subject: the test subjects are never seen in training,
which is what a new user of the device would experience.

Set ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` for a small subset that runs in
seconds.
"""

# %%
# Where the recordings are
# ------------------------
# The full data set lives in ``shared/data/muscletracker`` beside the
# repository (or wherever ``SKLEARN_SEMG_SHARED_DATA`` points). Without it,
# the same MioTracker recordings bundled inside the package are used.

import os
from pathlib import Path

import numpy as np

from sklearn_semg.datasets import load_movements, load_muscletracker

QUICK = os.environ.get("SKLEARN_SEMG_EXAMPLE_QUICK", "") not in ("", "0")

try:
    here = Path(__file__).resolve().parent
except NameError:  # run interactively
    here = Path.cwd()
shared = Path(
    os.environ.get("SKLEARN_SEMG_SHARED_DATA", here.parents[1] / "shared" / "data")
)
folder = shared / "muscletracker"
if folder.is_dir():
    bunch = load_muscletracker(folder, amplifier="miotracker")
    print(f"MuscleTracker read from {folder}")
else:
    bunch = load_movements()
    print(f"{folder} not found: using the bundled copy, load_movements()")

y, groups, fs = bunch.target, bunch.groups, bunch.fs
print(
    f"{len(bunch.data)} recordings, {bunch.data[0].shape[0]} channels, "
    f"{len(np.unique(groups))} subjects, fs = {fs:g} Hz"
)

# %%
# Equal-length segments
# ---------------------
# Recordings last 1.2 to 3.4 s. The central 1024 samples (about 1 s, the
# shortest recording has 1158) keep the steady part of each movement and
# make the matrices cheap to compute. The quick mode keeps three subjects
# and 256 samples.

n_times, hht_size, base_channels, n_splits, n_jobs = 1024, 64, 64, 5, 2
if QUICK:  # an illustration only: 60 predictions, scores vary a lot
    n_times, hht_size, base_channels, n_splits, n_jobs = 256, 32, 16, 3, 1
    keep = np.isin(groups, np.unique(groups)[:3])
    bunch.data = [x for x, k in zip(bunch.data, keep, strict=True) if k]
    y, groups = y[keep], groups[keep]


def central(recording, n=n_times):
    start = (recording.shape[1] - n) // 2
    return recording[:, start : start + n]


X = np.stack([central(x) for x in bunch.data])
print(f"X: {X.shape} (recordings, channels, samples)")

# %%
# Hilbert-Huang matrices
# ----------------------
# Each matrix is divided by its own maximum (``normalize="max"``, the
# reference), so the transform learns nothing from the data: computing it
# once, before the cross-validation, gives exactly the matrices an ``"hht"``
# step would compute inside every fold, five times faster.

from sklearn_semg import HHTTransformer

hht = HHTTransformer(fs=fs, n_freq_bins=hht_size, n_time_bins=hht_size, n_jobs=n_jobs)
H = hht.fit_transform(X)
print(f"HHT matrices: {H.shape} (recordings, channels, frequency, time)")

# %%
# The method-1 pipeline
# ---------------------
# ``make_cnn_svm_pipeline`` builds ``hht -> cnn -> scale -> svm``; with
# ``hht=False`` it starts from the matrices. The encoder is the reference's
# (64 base channels, 3 blocks, 256 features) with weights seeded by
# ``random_state``; the SVM the reference's ``SVC(C=10, gamma="scale")``.

from sklearn_semg import make_cnn_svm_pipeline

pipe = make_cnn_svm_pipeline(hht=False, base_channels=base_channels, random_state=0)
print(pipe)

# %%
# Subject-wise cross-validation
# -----------------------------
# ``GroupKFold`` on the subject: every subject is tested once, by a model
# that never saw any of their recordings.

from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GroupKFold, cross_val_predict

cv = GroupKFold(n_splits=n_splits)
pred = cross_val_predict(pipe, H, y, groups=groups, cv=cv, n_jobs=n_jobs)

chance = 1 / len(np.unique(y))
print(f"\n{'fold':<6}{'test subjects':<22}{'accuracy':>10}")
for k, (_, test) in enumerate(cv.split(H, y, groups)):
    subjects = ", ".join(str(s) for s in np.unique(groups[test]))
    print(f"{k:<6}{subjects:<22}{accuracy_score(y[test], pred[test]):>10.3f}")
print(
    f"\nall {len(y)} predictions: accuracy {accuracy_score(y, pred):.3f}, "
    f"balanced accuracy {balanced_accuracy_score(y, pred):.3f}, "
    f"chance {chance:.2f}"
)
if QUICK:
    print(
        "(quick mode: 3 subjects, 256 samples, a small encoder. This score "
        "shows the code at work, it is not a result of the method: the full "
        "run of bench/bench_accuracy.py is in docs/user_guide/benchmarks.rst.)"
    )

# %%
# Which movements are confused
# ----------------------------
# Rows are the true movements, columns the predicted ones.

import matplotlib.pyplot as plt

from sklearn_semg.plotting import plot_confusion_matrix

names = [name for name in bunch.target_names if name in set(y)]
plot_confusion_matrix(
    y, pred, labels=names, normalize="true", title="Method 1, subject-wise CV"
)
plt.show()
