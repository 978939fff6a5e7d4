"""sklearn_semg.evaluation on the bundled MioTracker recordings: the fold
scores of a plain ``cross_validate``, and the out-of-fold predictions of the
hand-written loop the command line used before (fit each fold, predict its
test subjects)."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_semg import EMGFeatures, SubjectStandardScaler
from sklearn_semg.datasets import load_movements
from sklearn_semg.evaluation import (
    accuracy_summary,
    cross_validate_accuracy,
    evaluate_pipeline,
    out_of_fold_predict,
)


@pytest.fixture(scope="module")
def movements():
    """The first four subjects of the bundled recordings (80 of them, 512
    samples each, as a list of arrays)."""
    data = load_movements()
    keep = np.flatnonzero(data.groups <= 4)
    X = [data.data[i][:, :512] for i in keep]
    return X, np.asarray(data.target)[keep], np.asarray(data.groups)[keep], data.fs


def classic(fs, scaler=None):
    return make_pipeline(
        EMGFeatures(fs=fs), scaler or StandardScaler(), SVC(random_state=0)
    )


def old_cli_loop(pipe, X, y, splits, subjects=None):
    """The command line's loop before the evaluation module: a fresh
    pipeline per fold, the subjects routed at fit and predict."""
    y_pred = np.empty(len(y), dtype=object)
    for train, test in splits:
        estimator = clone(pipe)
        fit = {} if subjects is None else {"groups": subjects[train]}
        predict = {} if subjects is None else {"groups": subjects[test]}
        with sklearn.config_context(enable_metadata_routing=subjects is not None):
            estimator.fit([X[i] for i in train], y[train], **fit)
            y_pred[test] = estimator.predict([X[i] for i in test], **predict)
    return y_pred.astype(y.dtype)


def test_fold_scores_are_those_of_cross_validate(movements):
    X, y, groups, fs = movements
    pipe = classic(fs)
    ours = cross_validate_accuracy(pipe, X, y, groups=groups, cv=4)
    plain = cross_validate(
        pipe,
        X,
        y,
        groups=groups,
        cv=GroupKFold(4),
        scoring=("accuracy", "balanced_accuracy"),
        return_indices=True,
    )
    for key in ("test_accuracy", "test_balanced_accuracy"):
        np.testing.assert_array_equal(ours[key], plain[key])
    for ours_test, plain_test in zip(
        ours["indices"]["test"], plain["indices"]["test"], strict=True
    ):
        np.testing.assert_array_equal(ours_test, plain_test)
        assert len(set(groups[ours_test])) == 1  # one subject per test fold
    assert len(ours["estimator"]) == 4 and ours["fit_time"].shape == (4,)


@pytest.mark.parametrize("per_subject", [False, True])
def test_predictions_are_those_of_the_old_cli_loop(movements, per_subject):
    X, y, groups, fs = movements
    pipe = classic(fs, SubjectStandardScaler() if per_subject else None)
    splits = list(GroupKFold(4).split(X, y, groups))
    result = evaluate_pipeline(
        pipe, X, y, groups=groups, cv=GroupKFold(4), per_subject=per_subject
    )
    expected = old_cli_loop(pipe, X, y, splits, groups if per_subject else None)
    np.testing.assert_array_equal(result.y_pred, expected)
    assert result.y_pred.dtype == y.dtype
    summary = accuracy_summary(y, expected)
    for key in ("accuracy", "balanced_accuracy", "chance"):
        assert result.summary[key] == summary[key]
    assert result.summary["fit_time_s"] > 0
    # the fold scores are those of the same predictions, fold by fold
    for score, (_, test) in zip(
        result.cv_results["test_accuracy"], splits, strict=True
    ):
        assert score == np.mean(expected[test] == y[test])
    if not per_subject:
        np.testing.assert_array_equal(
            expected, cross_val_predict(pipe, X, y, groups=groups, cv=GroupKFold(4))
        )


def test_the_subjects_reach_the_estimator_of_a_search(movements):
    """A search takes no metadata at predict: its refitted pipeline does."""
    X, y, groups, fs = movements
    search = GridSearchCV(
        classic(fs, SubjectStandardScaler()), {"svc__C": [1.0, 10.0]}, cv=GroupKFold(3)
    )
    result = evaluate_pipeline(search, X, y, groups=groups, cv=4, per_subject=True)
    assert all(hasattr(e, "best_estimator_") for e in result.cv_results["estimator"])
    assert result.summary["accuracy"] > result.summary["chance"]


def test_routing_enabled_globally_is_respected(movements):
    """With metadata routing on for the whole program (as in
    bench/bench_accuracy.py), the groups still define the folds."""
    X, y, groups, fs = movements
    expected = cross_validate_accuracy(classic(fs), X, y, groups=groups, cv=4)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate_accuracy(classic(fs), X, y, groups=groups, cv=4)
    np.testing.assert_array_equal(routed["test_accuracy"], expected["test_accuracy"])


def test_errors_name_what_is_missing(movements):
    X, y, groups, fs = movements
    with pytest.raises(ValueError, match="per_subject=True needs groups"):
        cross_validate_accuracy(classic(fs), X, y, per_subject=True)
    with pytest.raises(ValueError, match=r"cv_results has no \['estimator'\]"):
        out_of_fold_predict({"indices": {"test": []}}, X)
    results = cross_validate(
        classic(fs),
        X,
        y,
        groups=groups,
        cv=[(np.arange(40), np.arange(40, 60))],
        return_estimator=True,
        return_indices=True,
    )
    with pytest.raises(ValueError, match="exactly once.*60 are in none"):
        out_of_fold_predict(results, X)


@pytest.mark.slow
def test_the_demo_pipelines_predict_as_the_old_cli_loop(tmp_path):
    """The quick demo's recommended pipeline, per subject, folds in two
    processes: the predictions of the hand-written loop it replaced."""
    from sklearn_semg import make_recommended_pipeline

    data = load_movements()
    keep = np.flatnonzero(data.groups <= 3)
    X = np.stack([data.data[i][:, 400:656] for i in keep])
    y, groups = np.asarray(data.target)[keep], np.asarray(data.groups)[keep]
    pipe = make_recommended_pipeline(
        fs=data.fs, memory=tmp_path, per_subject=True, random_state=0
    )
    splits = list(GroupKFold(3).split(X, y, groups))
    result = evaluate_pipeline(
        pipe, X, y, groups=groups, cv=GroupKFold(3), per_subject=True, n_jobs=2
    )
    expected = old_cli_loop(pipe, list(X), y, splits, groups)
    np.testing.assert_array_equal(result.y_pred, expected)
