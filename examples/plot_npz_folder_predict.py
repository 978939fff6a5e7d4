"""
From a folder of ``.npz`` HHT matrices to predictions on its ``Test`` files
===========================================================================

The reference notebook trained on a Kaggle-style folder of Hilbert-Huang
matrices, one ``.npz`` file per matrix, the label written in the file name
(``BICEPS_fatiguetest_M_006.npz``: a man, a full movement), plus unlabelled
``Test_*.npz`` files to predict. This example rebuilds that workflow with the
package:

1. compute the matrices of raw recordings with
   :class:`~sklearn_semg.HHTTransformer`;
2. write them as such a folder with
   :func:`~sklearn_semg.datasets.save_hht_dir`, some labelled, some as
   ``Test_*.npz``;
3. read the folder back with :func:`~sklearn_semg.datasets.load_hht_dir`,
   which parses the labels from the names;
4. fit method 1 (frozen CNN features and an SVC) on the labelled files and
   print, for each ``Test`` file, the predicted label and its confidence, as
   the notebook did.

The recordings are synthetic (:func:`~sklearn_semg.datasets.make_semg`), one
spectrum per class, so that the example needs no data; point
:func:`~sklearn_semg.datasets.load_hht_dir` at your own folder to use real
matrices. See :ref:`npz_folders` for the naming rules.
"""

# %%
# Raw recordings and their Hilbert-Huang matrices
# -----------------------------------------------
#
# Six classes, the six labels of the notebook (``"{gender}_{movement}"``).
# The last recordings are kept aside as the unlabelled test files; their true
# labels are only used at the end, to check the predictions.
#
# ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` (set by the documentation build and the
# tests) uses 64x64 matrices and a small encoder; without it the matrices
# have the notebook's 256x256 size and the encoder its 64 base channels.

import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_semg import HHTTransformer, make_cnn_svm_pipeline
from sklearn_semg.datasets import NPZ_NAME_LABELS, load_hht_dir, make_semg, save_hht_dir

QUICK = os.environ.get("SKLEARN_SEMG_EXAMPLE_QUICK", "") not in ("", "0")

grid = 64 if QUICK else 256
n_recordings = 60 if QUICK else 180
n_test = 12

X_raw, y_int = make_semg(
    n_recordings,
    n_times=1000,
    fs=1000.0,
    n_classes=len(NPZ_NAME_LABELS),
    random_state=0,
)
labels = np.asarray(NPZ_NAME_LABELS)[y_int]
hht = HHTTransformer(fs=1000.0, n_freq_bins=grid, n_time_bins=grid, n_jobs=2)
M = hht.fit_transform(X_raw)
print(f"matrices: {M.shape} (recordings, channels, frequency, time)")

M_train, labels_train = M[:-n_test], labels[:-n_test]
M_test, labels_test = M[-n_test:], labels[-n_test:]

# %%
# Write the folder
# ----------------
#
# Labelled matrices are named ``{MUSCLE}_{movement}_{gender}_{i:03d}.npz`` and
# unlabelled ones ``Test_{i:03d}.npz``. Each file is written atomically, and
# existing files are never overwritten unless ``overwrite=True``.

workdir = tempfile.TemporaryDirectory()
folder = Path(workdir.name) / "HILBERTMATRIX_NPZ"
save_hht_dir(folder, M_train, labels_train, muscle="BICEPS")
test_files = save_hht_dir(folder, M_test)  # no labels: Test_001.npz ...
names = sorted(p.name for p in folder.iterdir())
print(f"{len(names)} files in {folder.name}/, for example:")
for name in names[:3] + names[-2:]:
    print(f"  {name}")

# %%
# Read it back
# ------------
#
# :func:`~sklearn_semg.datasets.load_hht_dir` parses the label of each file
# from its name, puts the ``Test*`` files aside in ``test_data``, and would
# list every unreadable or mis-named file in a warning and in ``problems``.

bunch = load_hht_dir(folder, shape=(grid, grid))
print(f"labelled: {bunch.data.shape}, test: {bunch.test_data.shape}")
print(f"problems: {bunch.problems}")
print(bunch.metadata.head().to_string(index=False))
print(bunch.metadata["label"].value_counts().sort_index().to_string())

# %%
# Method 1 on the labelled files
# ------------------------------
#
# ``hht=False``: the folder already holds matrices. The matrices of a folder
# are ``(n, height, width)``; the encoder reads them as one channel.

pipe = make_cnn_svm_pipeline(
    hht=False, base_channels=8 if QUICK else 64, random_state=0
)
pipe.fit(bunch.data, bunch.target)

# %%
# Predict the ``Test`` files
# --------------------------
#
# The confidence is the calibrated probability of the predicted class (see
# :class:`~sklearn_semg.CalibratedSVC`).

predicted = pipe.predict(bunch.test_data)
proba = pipe.predict_proba(bunch.test_data)
classes = list(pipe.classes_)
print(f"Predictions for {len(predicted)} test files:")
for file, label, p in zip(bunch.test_metadata["file"], predicted, proba, strict=True):
    print(f"{file}: {label} (confidence: {p[classes.index(label)]:.4f})")

# save_hht_dir returned the paths of the test files in the order of M_test
truth = {path.name: label for path, label in zip(test_files, labels_test, strict=True)}
correct = np.mean(
    [
        truth[file] == label
        for file, label in zip(bunch.test_metadata["file"], predicted, strict=True)
    ]
)
print(f"accuracy on the test files (their labels were kept aside): {correct:.2f}")

# %%
# Two matrices of the folder, frequency upwards (row 0 is 0 Hz):

first = 0
other = int(np.flatnonzero(bunch.target != bunch.target[first])[0])
fig, axes = plt.subplots(1, 2, figsize=(7, 3), sharey=True)
for ax, i in zip(axes, [first, other], strict=True):
    ax.imshow(
        bunch.data[i],
        origin="lower",
        aspect="auto",
        extent=(0, 1, 0, 500),
        cmap="magma",
    )
    ax.set_title(bunch.metadata["file"][i], fontsize="small")
    ax.set_xlabel("time (s)")
axes[0].set_ylabel("frequency (Hz)")
fig.tight_layout()

# %%
# Clean up the temporary folder.

workdir.cleanup()
