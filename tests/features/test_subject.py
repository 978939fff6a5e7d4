"""SubjectStandardScaler: per-subject calibration, metadata routing, no leakage."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_semg import EMGFeatures, SubjectStandardScaler


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def subjects_data(n_subjects=6, per_class=8, seed=0):
    """Two classes that differ by +1 in feature 0, under a per-subject offset
    and gain ten times larger: separable within a subject, not across."""
    rng = np.random.default_rng(seed)
    X, y, g = [], [], []
    for s in range(n_subjects):
        offset = rng.normal(0, 10, size=3)
        gain = rng.uniform(0.5, 3)
        for label in (0, 1):
            base = rng.normal(0, 0.1, size=(per_class, 3))
            base[:, 0] += label
            X.append(gain * base + offset)
            y += [label] * per_class
            g += [f"s{s}"] * per_class
    return np.vstack(X), np.array(y), np.array(g)


def test_each_subject_standardised_with_its_own_windows():
    X, _, g = subjects_data()
    out = SubjectStandardScaler().fit_transform(X, groups=g)
    for s in np.unique(g):
        rows = g == s
        expected = (X[rows] - X[rows].mean(axis=0)) / X[rows].std(axis=0)
        np.testing.assert_allclose(out[rows], expected, rtol=1e-12)
        np.testing.assert_allclose(out[rows].mean(axis=0), 0, atol=1e-12)
    # transform takes statistics from the rows it is given, per subject
    scaler = SubjectStandardScaler().fit(X, groups=g)
    one = g == "s3"
    np.testing.assert_allclose(
        scaler.transform(X[one], groups=g[one]), out[one], rtol=1e-12
    )


def test_reference_windows_and_options():
    X, _, g = subjects_data()
    out = SubjectStandardScaler(reference=4).fit_transform(X, groups=g)
    for s in np.unique(g):
        rows = np.flatnonzero(g == s)
        ref = X[rows[:4]]
        expected = (X[rows] - ref.mean(axis=0)) / ref.std(axis=0)
        np.testing.assert_allclose(out[rows], expected, rtol=1e-12)
    only_mean = SubjectStandardScaler(with_std=False).fit_transform(X, groups=g)
    rows = g == "s0"
    np.testing.assert_allclose(only_mean[rows], X[rows] - X[rows].mean(axis=0))
    # a constant feature within a subject is centred, not divided by zero
    Xc = X.copy()
    Xc[g == "s1", 2] = 7.0
    out = SubjectStandardScaler().fit_transform(Xc, groups=g)
    assert np.all(out[g == "s1", 2] == 0.0)
    # float32 stays float32; pooled statistics without groups
    assert (
        SubjectStandardScaler().fit_transform(X.astype(np.float32), groups=g).dtype
        == np.float32
    )
    pooled = SubjectStandardScaler(missing_groups="pool").fit(X)
    np.testing.assert_allclose(
        pooled.transform(X), StandardScaler().fit_transform(X), rtol=1e-12
    )


def test_clear_errors():
    X, _, g = subjects_data()
    with pytest.raises(ValueError, match=r"fit needs groups.*enable_metadata_routing"):
        SubjectStandardScaler().fit(X)
    scaler = SubjectStandardScaler().fit(X, groups=g)
    with pytest.raises(ValueError, match=r"transform got no groups, but fit had 6"):
        scaler.transform(X)
    with pytest.raises(ValueError, match=r"one entry per row of X \(96\)"):
        scaler.transform(X, groups=g[:-1])
    g2 = g.astype(object)
    g2[0] = "lonely"
    with pytest.raises(
        ValueError,
        match=r"subject 'lonely' has 1 calibration window\(s\).*min_windows=2",
    ):
        scaler.transform(X, groups=g2)
    with pytest.raises(ValueError, match="'reference' parameter"):
        SubjectStandardScaler(reference=0).fit(X, groups=g)
    with pytest.raises(ValueError, match="X has 2 features"):
        scaler.transform(X[:, :2], groups=g)


def test_pipeline_routing_fit_predict_score(routing):
    X, y, g = subjects_data()
    train, test = g != "s5", g == "s5"
    pipe = make_pipeline(SubjectStandardScaler(), SVC(C=1.0))
    pipe.fit(X[train], y[train], groups=g[train])
    assert pipe.score(X[test], y[test], groups=g[test]) == 1.0
    np.testing.assert_array_equal(pipe.predict(X[test], groups=g[test]), y[test])
    # without calibration the subject offsets swamp the classes
    plain = make_pipeline(StandardScaler(), SVC(C=1.0)).fit(X[train], y[train])
    assert plain.score(X[test], y[test]) < 0.75
    with pytest.raises(ValueError, match="transform got no groups"):
        pipe.predict(X[test])


def test_cross_validate_and_grid_search_route_groups(routing):
    X, y, g = subjects_data(n_subjects=6)
    pipe = make_pipeline(SubjectStandardScaler(), SVC())
    cv = cross_validate(pipe, X, y, cv=GroupKFold(3), params={"groups": g})
    assert cv["test_score"].min() == 1.0
    search = GridSearchCV(pipe, {"svc__C": [0.1, 1.0]}, cv=GroupKFold(3))
    search.fit(X, y, groups=g)
    assert search.best_score_ == 1.0
    assert search.score(X, y, groups=g) == 1.0


def test_no_leakage_from_test_labels_or_other_subjects(routing):
    X, y, g = subjects_data()
    train, test = g != "s5", g == "s5"
    pipe = make_pipeline(SubjectStandardScaler(), SVC()).fit(
        X[train], y[train], groups=g[train]
    )
    # transform never sees labels, and a test subject's rows are scaled by
    # that subject's rows only: the same with or without other subjects
    alone = pipe[0].transform(X[test], groups=g[test])
    mixed = pipe[0].transform(X, groups=g)[test]
    np.testing.assert_array_equal(alone, mixed)
    shuffled = np.random.default_rng(0).permutation(y[test])
    assert pipe.score(X[test], shuffled, groups=g[test]) != 1.0 or np.array_equal(
        shuffled, y[test]
    )


@pytest.mark.slow
def test_real_subjects_calibration_helps_classic_features(muscletracker_dir, routing):
    """The issue's measurement: EMGFeatures + SVC on MioTracker movements,
    subject-wise, with and without per-subject calibration."""
    from sklearn_semg.datasets import load_muscletracker

    data = load_muscletracker(muscletracker_dir, amplifier="miotracker")
    X = [rec[:, :1024] for rec in data.data]
    y, g = np.asarray(data.target), np.asarray(data.groups)
    features = EMGFeatures(fs=data.fs).fit_transform(X)
    plain = make_pipeline(StandardScaler(), SVC(C=10.0))
    calibrated = make_pipeline(SubjectStandardScaler(), SVC(C=10.0))
    cv = GroupKFold(5)
    plain_score = cross_validate(plain, features, y, cv=cv, params={"groups": g})
    cal_score = cross_validate(calibrated, features, y, cv=cv, params={"groups": g})
    before = plain_score["test_score"].mean()
    after = cal_score["test_score"].mean()
    assert after > before + 0.15, (before, after)


def test_constant_features_are_judged_relative_to_their_size():
    # constant within the subject but not exactly representable: still
    # constant (StandardScaler's rule), not blown up to +-1
    X = np.c_[np.full(39, np.log(1e-12)), np.full(39, 98765.4321), np.arange(39.0)]
    out = SubjectStandardScaler().fit_transform(X, groups=np.zeros(39))
    assert np.abs(out[:, :2]).max() < 1e-6
    # a tiny but varying float32 feature is scaled like any other
    small = (np.random.default_rng(0).standard_normal((40, 1)) * 1e-7).astype(
        np.float32
    )
    out = SubjectStandardScaler().fit_transform(small, groups=np.zeros(40))
    assert out.dtype == np.float32 and abs(float(out.std()) - 1.0) < 1e-3


def test_group_labels_of_any_type_and_missing_ones():
    X, _, _ = subjects_data(n_subjects=2, per_class=4)
    mixed = np.array([1] * 8 + ["a"] * 8, dtype=object)
    out = SubjectStandardScaler().fit_transform(X, groups=mixed)
    np.testing.assert_allclose(out[:8].mean(axis=0), 0, atol=1e-12)
    for missing in (None, np.nan):
        g = mixed.copy()
        g[5] = missing
        with pytest.raises(ValueError, match=r"no subject for 1 row\(s\).*row 5"):
            SubjectStandardScaler().fit(X, groups=g)


def test_named_scorers_cannot_silently_use_pooled_statistics(routing):
    # a named scorer calls predict without metadata: an error, not a silent
    # fallback to pooled statistics (even with missing_groups="pool")
    X, y, g = subjects_data()
    pipe = make_pipeline(SubjectStandardScaler(missing_groups="pool"), SVC())
    with pytest.raises(ValueError, match="transform got no groups, but fit had"):
        cross_validate(
            pipe, X, y, cv=GroupKFold(3), params={"groups": g}, scoring="accuracy",
            error_score="raise",
        )  # fmt: skip
