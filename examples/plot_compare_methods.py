"""
Compare method 1 and method 2 in one grid search, split by subject
==================================================================

:func:`~sklearn_semg.make_method_comparison` returns one pipeline and two
parameter grids: method 1 (a frozen CNN encoder, a scaler and a calibrated
SVC whose ``C`` is searched) and method 2 (the same CNN trained end to end).
One :class:`~sklearn.model_selection.GridSearchCV` evaluates both on the same
folds and ``best_params_["clf"]`` tells which method won.

The data are the hand-movement recordings bundled with the package
(:func:`~sklearn_semg.datasets.load_movements`: 19 subjects, 5 movements, two
forearm channels, CC0 1.0). Folds are split **by subject**
(:class:`~sklearn.model_selection.GroupKFold` on ``groups``), so every score
is measured on people the model has never seen.
"""

# %%
# Load the bundled recordings
# ---------------------------
#
# ``SKLEARN_SEMG_EXAMPLE_QUICK=1`` (set by the documentation build and the
# tests) keeps 5 subjects, 2 repetitions and the central second of each
# recording, with smaller matrices and networks, so that the example runs in
# seconds: its scores are then only an illustration. Without it, all 380
# recordings are used whole.

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold

from sklearn_semg import HHTTransformer, make_method_comparison
from sklearn_semg.datasets import load_movements

QUICK = os.environ.get("SKLEARN_SEMG_EXAMPLE_QUICK", "") not in ("", "0")

bunch = load_movements()
meta = bunch.metadata
if QUICK:
    keep = np.flatnonzero((meta["subject"] <= 5) & (meta["repetition"] <= 2))
    n_times = int(bunch.fs)  # one second, shorter than every recording
    starts = (meta["n_times"].to_numpy()[keep] - n_times) // 2
    X_raw = [
        bunch.data[i][:, s : s + n_times] for i, s in zip(keep, starts, strict=True)
    ]
else:
    keep = np.arange(len(bunch.data))
    X_raw = bunch.data  # recordings of different lengths: a list
y = bunch.target[keep]
groups = bunch.groups[keep]
print(
    f"{len(X_raw)} recordings of {len(np.unique(groups))} subjects, "
    f"{len(bunch.target_names)} movements, fs = {bunch.fs:g} Hz"
)
print(pd.Series(y).value_counts().to_string())

# %%
# Hilbert-Huang matrices, computed once
# -------------------------------------
#
# With ``normalize="max"`` (the default), :class:`~sklearn_semg.HHTTransformer`
# learns nothing from the data, so transforming every recording once before
# the search leaks nothing and avoids repeating the decomposition for every
# fold and candidate. ``freq_range`` spreads the rows over the sEMG band.

grid_size = 32 if QUICK else 64
hht = HHTTransformer(
    fs=bunch.fs,
    n_freq_bins=grid_size,
    n_time_bins=grid_size,
    freq_range=(20.0, 450.0),
    n_jobs=2,
)
M = hht.fit_transform(X_raw)
print(f"matrices: {M.shape} (recordings, channels, frequency, time)")

# %%
# One search over both methods
# ----------------------------
#
# ``hht=False`` because the matrices are already computed. Method 1 searches
# ``C``; method 2 is one candidate, trained for ``max_epochs`` epochs with a
# stratified 20 % validation split inside each training fold.

pipe, param_grid = make_method_comparison(
    hht=False,
    svm_C=(1.0, 10.0),
    cnn_params={"base_channels": 8 if QUICK else 16},
    net_params={
        "max_epochs": 8 if QUICK else 20,
        "module__base_channels": 8 if QUICK else 16,
        "batch_size": 8,
        "verbose": 0,
    },
    random_state=0,
)
search = GridSearchCV(
    pipe,
    param_grid,
    cv=GroupKFold(n_splits=5),
    scoring="accuracy",
    n_jobs=None,
)
search.fit(M, y, groups=groups)
n_candidates = len(search.cv_results_["params"])
print(f"{n_candidates} candidates x {search.n_splits_} folds, best refitted on all")

# %%
# Which method won?
# -----------------


def describe(params):
    """Name of the candidate a dict of ``cv_results_["params"]`` stands for."""
    if type(params["clf"]).__name__ == "CalibratedSVC":
        return f"method 1: frozen CNN + SVC, C={params['clf__C']:g}"
    return "method 2: CNN trained end to end"


print(f"best: {describe(search.best_params_)}")
print(f"subject-wise accuracy {search.best_score_:.2f} (chance 0.20)")
if QUICK:
    print(
        "(quick mode: 5 subjects, 2 repetitions, small networks. These scores "
        "show the code at work, they are not results of the methods: the full "
        "runs of bench/bench_accuracy.py are in docs/user_guide/benchmarks.rst.)"
    )

# %%
# The ``cv_results_`` summary, one row per candidate:

results = pd.DataFrame(search.cv_results_)
summary = pd.DataFrame(
    {
        "candidate": [describe(params) for params in results["params"]],
        "mean accuracy": results["mean_test_score"],
        "std": results["std_test_score"],
        "rank": results["rank_test_score"],
        "fit time (s)": results["mean_fit_time"],
    }
)
print(summary.to_string(index=False, float_format="{:.2f}".format))

# %%
# Accuracy of every candidate on each held-out group of subjects:

fold_columns = [f"split{k}_test_score" for k in range(search.n_splits_)]
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for row, label in zip(
    results[fold_columns].to_numpy(), summary["candidate"], strict=True
):
    ax.plot(range(1, search.n_splits_ + 1), row, "o-", label=label)
ax.axhline(1 / len(bunch.target_names), color="grey", linestyle=":", label="chance")
ax.set_xlabel("test fold (held-out subjects)")
ax.set_ylabel("accuracy")
ax.set_xticks(range(1, search.n_splits_ + 1))
ax.set_ylim(0, 1)
ax.legend(fontsize="small")
fig.tight_layout()
