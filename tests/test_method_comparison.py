"""Both methods in one search: make_end_to_end_pipeline, make_method_comparison,
GridSearchCV and cross_val_score with GroupKFold on small synthetic sEMG."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score

from sklearn_semg import (
    CalibratedSVC,
    HHTCNNClassifier,
    HHTTransformer,
    make_end_to_end_pipeline,
    make_method_comparison,
)
from sklearn_semg.datasets import make_semg

# The classes of make_semg differ by where their energy sits in frequency.
# Pooling over time only keeps the frequency rows (global pooling averages
# them away and stays at chance on these data), and a log compression of the
# HHT matrices brings out the weak high-frequency cells.
NET = dict(
    max_epochs=10,
    lr=0.01,
    module__base_channels=4,
    module__num_layers=2,
    module__pooling="time",
    verbose=0,
)
CNN = {"base_channels": 4, "num_layers": 2, "pooling": "time"}
HHT = {"n_freq_bins": 16, "n_time_bins": 16, "compression": "log"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def semg_with_groups():
    """30 two-channel recordings of 6 'subjects' (5 each), 2 classes."""
    X, y = make_semg(30, n_channels=2, n_times=256, n_classes=2, random_state=0)
    groups = np.repeat(np.arange(6), 5)
    return X, y, groups


@pytest.fixture(scope="module")
def hht_matrices(semg_with_groups):
    X, y, groups = semg_with_groups
    return HHTTransformer(fs=1000.0, **HHT).fit_transform(X), y, groups


def test_end_to_end_pipeline_with_and_without_hht(semg_with_groups, hht_matrices):
    X, y, _ = semg_with_groups
    M, _, _ = hht_matrices
    raw = make_end_to_end_pipeline(
        hht=True, fs=1000.0, hht_params=HHT, random_state=0, **NET
    )
    assert [name for name, _ in raw.steps] == ["hht", "clf"]
    assert raw.named_steps["hht"].get_params()["n_freq_bins"] == 16
    raw.fit(X, y)
    net = raw.named_steps["clf"]
    assert isinstance(net, HHTCNNClassifier)
    assert net.input_shape_ == (2, 16, 16)  # channels, frequency rows, time bins
    assert len(net.history) == NET["max_epochs"]

    pre = make_end_to_end_pipeline(hht=False, random_state=0, **NET)
    assert [name for name, _ in pre.steps] == ["clf"]
    pre.fit(M, y)
    # the HHT step is stateless (per-matrix normalisation): the same network
    np.testing.assert_array_equal(raw.predict_proba(X), pre.predict_proba(M))
    assert set(raw.predict(X)) <= {0, 1}


def test_one_search_over_both_methods_with_group_k_fold(hht_matrices):
    M, y, groups = hht_matrices
    pipe, grid = make_method_comparison(
        hht=False,
        svm_C=(1.0, 10.0),
        cnn_params=CNN,
        net_params=NET,
        random_state=0,
    )
    assert [name for name, _ in pipe.steps] == ["cnn", "scale", "clf"]
    assert len(grid) == 2
    cv = GroupKFold(n_splits=3)
    search = GridSearchCV(pipe, grid, cv=cv, refit=True).fit(M, y, groups=groups)
    results = search.cv_results_
    methods = [type(clf).__name__ for clf in results["param_clf"]]
    assert methods == ["CalibratedSVC", "CalibratedSVC", "HHTCNNClassifier"]
    assert list(results["param_clf__C"].filled(np.nan)[:2]) == [1.0, 10.0]
    scores = results["mean_test_score"]
    assert np.all(np.isfinite(scores))
    # 30 recordings, chance 0.5: P(>= 23/30 correct by chance) < 0.003
    assert scores.max() >= 0.75

    # the best method is the candidate with the best mean score
    best = search.best_params_["clf"]
    assert search.best_index_ == int(np.argmax(scores))
    assert best is results["params"][search.best_index_]["clf"]
    assert search.best_score_ == scores.max()
    best_method = (
        "method 2 (end-to-end CNN)"
        if isinstance(best, HHTCNNClassifier)
        else "method 1 (CNN features + SVM)"
    )
    print(f"best method: {best_method}, accuracy {search.best_score_:.3f}")
    # the refitted winner predicts
    assert set(search.predict(M)) <= {0, 1}
    if isinstance(best, HHTCNNClassifier):
        assert search.best_estimator_.named_steps["cnn"] == "passthrough"
    else:
        assert isinstance(search.best_estimator_.named_steps["clf"], CalibratedSVC)

    # cross_val_score of each method on the same GroupKFold folds gives the
    # search's per-split scores (both methods are seeded): the search used
    # subject-wise folds and compared the methods on equal terms.
    for index in (0, 2):
        params = results["params"][index]
        method = clone(pipe).set_params(**clone(params, safe=False))
        cv_scores = cross_val_score(method, M, y, groups=groups, cv=cv)
        split_scores = [results[f"split{k}_test_score"][index] for k in range(3)]
        np.testing.assert_allclose(cv_scores, split_scores)
