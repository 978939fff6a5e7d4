"""
Method 2: train the end-to-end CNN with checkpoints, interrupt, resume
======================================================================

Method 2 trains a CNN on Hilbert-Huang matrices end to end
(:class:`~sklearn_semg.HHTCNNClassifier`, a skorch network). Long trainings
get interrupted: a time limit, a reboot, Ctrl-C. With ``checkpoint_dir`` the
classifier saves its state as it trains, and ``resume_from="last"`` continues
from the latest checkpoint, with the optimizer, the learning-rate schedule,
the history and the random state restored.

Here a first fit stops after a few epochs (as an interrupted run would), a
second fit resumes it up to a larger ``max_epochs`` (a **total**, not a number
of extra epochs), and a third, uninterrupted run checks that resuming changed
nothing. See :ref:`checkpoints` for the file layout.
"""

# %%
# Data: synthetic sEMG and its Hilbert-Huang matrices
# ---------------------------------------------------
#
# :func:`~sklearn_semg.datasets.make_semg` draws band-limited noise shaped by
# activation bursts; the spectrum of class 1 is shifted down, as fatigue does.
# The matrices are computed once: with its default ``normalize="max"``,
# :class:`~sklearn_semg.HHTTransformer` learns nothing from the data.
#
# ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` (set by the documentation build and the
# tests) shrinks the data and the training so that the example runs in
# seconds.

import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_semg import HHTCNNClassifier, HHTTransformer
from sklearn_semg.datasets import make_semg
from sklearn_semg.nn import load_checkpoint

QUICK = os.environ.get("SKLEARN_SEMG_EXAMPLE_QUICK", "") not in ("", "0")

n_recordings = 40 if QUICK else 120
grid = 32 if QUICK else 64
first_epochs, total_epochs = (3, 6) if QUICK else (10, 25)

X_raw, y = make_semg(n_recordings, n_times=1000, fs=1000.0, random_state=0)
M = HHTTransformer(
    fs=1000.0, n_freq_bins=grid, n_time_bins=grid, n_jobs=2
).fit_transform(X_raw)
print(f"{M.shape[0]} matrices of shape {M.shape[1:]} (channels, frequency, time)")

# %%
# A first training, stopped early
# -------------------------------
#
# ``checkpoint_dir`` is a temporary folder here; in practice it is a folder
# that outlives the process. ``checkpoint_every=2`` writes
# ``checkpoint_epoch_2.pt``, ``checkpoint_epoch_4.pt``..., ``best_model.pt``
# follows the best validation accuracy and ``final_model.pt`` is written at
# the end. Stopping at ``max_epochs=first_epochs`` stands for the
# interruption. ``verbose=0`` keeps the per-epoch table quiet; the history is
# printed below instead.

workdir = tempfile.TemporaryDirectory()
checkpoint_dir = Path(workdir.name) / "checkpoints"

params = dict(
    module__base_channels=8,
    batch_size=8,
    lr=3e-3,
    checkpoint_dir=checkpoint_dir,
    checkpoint_every=2,
    random_state=0,
    verbose=0,
)
net = HHTCNNClassifier(max_epochs=first_epochs, **params).fit(M, y)


def show_checkpoints(run):
    """Print the checkpoint files of a run folder with their epoch."""
    epochs = {file.name: load_checkpoint(file)["epoch"] for file in run.iterdir()}
    for name, epoch in sorted(epochs.items(), key=lambda item: (item[1], item[0])):
        print(f"  {name:<24} epoch {epoch}")


run = net.checkpoint_path_
print(f"run folder: {run.relative_to(workdir.name)}")
show_checkpoints(run)

# %%
# Resume up to a larger total number of epochs
# --------------------------------------------
#
# A new estimator with the same parameters and data finds the run by its
# fingerprint (a hash of the data and of the training parameters) and
# restores its latest checkpoint. ``max_epochs`` is the total: the resumed fit
# trains ``total_epochs - first_epochs`` more epochs and keeps writing in the
# same folder.

resumed = HHTCNNClassifier(max_epochs=total_epochs, resume_from="last", **params)
resumed.fit(M, y)
print(f"same run folder: {resumed.checkpoint_path_ == run}")
show_checkpoints(run)

columns = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "lr", "best"]
history = pd.DataFrame(resumed.history_.to_list())[columns]
print(history.to_string(index=False, float_format="{:.4f}".format))

# %%
# Resuming changes nothing
# ------------------------
#
# On the CPU, with a fixed ``random_state``, the interrupted and resumed
# training matches an uninterrupted one epoch for epoch: the checkpoint holds
# the torch random state, so shuffling and dropout continue as if nothing had
# happened.

straight = HHTCNNClassifier(max_epochs=total_epochs, **params).fit(M, y)
same = np.allclose(
    resumed.history_[:, "valid_loss"], straight.history_[:, "valid_loss"]
)
print(f"uninterrupted run in its own folder: {straight.checkpoint_path_.name}")
print(f"same validation losses as the resumed run: {same}")

# %%
# The history of the resumed run
# ------------------------------

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history["epoch"], history["train_loss"], "o-", label="training loss")
ax.plot(history["epoch"], history["valid_loss"], "s-", label="validation loss")
ax.axvline(first_epochs + 0.5, color="grey", linestyle="--")
ax.annotate(
    "resumed",
    (first_epochs + 0.5, ax.get_ylim()[1]),
    xytext=(4, -12),
    textcoords="offset points",
    color="grey",
)
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.legend()
fig.tight_layout()

# %%
# Clean up the temporary folder.

workdir.cleanup()
