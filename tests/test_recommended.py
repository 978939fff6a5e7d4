import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score

from sklearn_semg import make_recommended_pipeline


def test_recommended_pipeline_learns_spectral_classes(semg_factory):
    # make_semg lowers the spectrum of class 1 (as fatigue does)
    X, y = semg_factory(24, n_channels=1, n_times=400, seed=4)
    labels = np.where(y == 1, "late", "early")
    pipe = make_recommended_pipeline(fs=1000, random_state=0)
    scores = cross_val_score(
        pipe, X, labels, cv=StratifiedKFold(3, shuffle=True, random_state=0)
    )
    assert scores.mean() >= 0.8
    pipe.fit(X, labels)
    proba = pipe.predict_proba(X[:4])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(pipe.predict(X)) <= {"early", "late"}
    # both views feed the classifier: HHTFeatures and the marginal spectrum
    union = pipe.named_steps["features"]
    n_hht = union.transformer_list[0][1].transform(X[:1]).shape[1]
    n_marginal = union.transformer_list[1][1].transform(X[:1]).shape[1]
    assert pipe.named_steps["scale"].n_features_in_ == n_hht + n_marginal
    assert n_marginal == 64


@pytest.mark.parametrize(
    "fs, band, reduced",
    [
        (200, (20.0, 90.0), True),
        (800, (20.0, 360.0), True),
        (1000, (20.0, 450.0), False),
        (2000, (20.0, 450.0), False),
    ],
)
def test_one_band_rule_at_every_sampling_rate(fs, band, reduced, semg_factory):
    """make_recommended_pipeline, HHTFeatures(freq_range="semg") and the demo
    follow semg_band: 20-450 Hz with the upper edge at most 0.45 * fs, and one
    warning when it is lowered."""
    import warnings

    from sklearn_semg import HHTFeatures, HHTTransformer
    from sklearn_semg.utils import semg_band

    def caught(fn, warns=reduced):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = fn()
        messages = [str(x.message) for x in w if issubclass(x.category, UserWarning)]
        assert len(messages) == (1 if warns else 0), messages
        if warns:
            assert f"using (20, {band[1]:g}) Hz" in messages[0]
        return out

    assert caught(lambda: semg_band(fs)) == band
    pipe = caught(lambda: make_recommended_pipeline(fs=fs))
    hht = pipe.named_steps["features"].transformer_list[1][1].named_steps["hht"]
    features = pipe.named_steps["features"].transformer_list[0][1]
    assert hht.freq_range == band and features.freq_range == band
    X, y = semg_factory(8, n_times=400, fs=fs, band=(10.0, 0.4 * fs), seed=1)
    caught(lambda: pipe.fit(X, y), warns=False)  # the steps get the reduced band
    est = caught(lambda: HHTFeatures(fs=fs).fit(X))
    np.testing.assert_allclose(est.bin_edges_[[0, -1]], band)
    # an explicit band beyond fs/2 is an error whose hint is the same rule
    too_high = (20.0, fs)
    with pytest.raises(ValueError, match=rf"freq_range='semg'.*\(20, {band[1]:g}\)"):
        HHTTransformer(fs=fs, freq_range=too_high).fit(X)


def test_no_band_at_all_is_an_error():
    from sklearn_semg.utils import semg_band

    with pytest.raises(ValueError, match=r"fs=40 Hz nothing of the band"):
        semg_band(40)


def test_per_subject_pipelines_route_groups_as_in_the_docs():
    """The snippet of the documentation, with metadata routing."""
    import sklearn
    from sklearn.model_selection import GroupKFold, cross_validate

    from sklearn_semg import make_cnn_svm_pipeline
    from sklearn_semg.datasets import load_movements

    data = load_movements()
    keep = np.isin(data.groups, np.unique(data.groups)[:6])
    X = [rec[:, :512] for rec, k in zip(data.data, keep, strict=True) if k]
    y, g = data.target[keep], data.groups[keep]
    train, test = g != g[-1], g == g[-1]
    X_train = [x for x, t in zip(X, train, strict=True) if t]
    X_test = [x for x, t in zip(X, test, strict=True) if t]
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_recommended_pipeline(fs=data.fs, per_subject=True, random_state=0)
        pipe.fit(X_train, y[train], groups=g[train])
        y_pred = pipe.predict(X_test, groups=g[test])
        assert y_pred.shape == (test.sum(),)
        scores = cross_validate(pipe, X, y, cv=GroupKFold(3), params={"groups": g})
        assert scores["test_score"].mean() > 0.3  # 5 movements, chance 0.2
        m1 = make_cnn_svm_pipeline(
            fs=data.fs,
            hht_params={"n_freq_bins": 16, "n_time_bins": 16},
            base_channels=4,
            num_layers=2,
            pooling="time",
            per_subject=True,
            random_state=0,
        )
        assert [name for name, _ in m1.steps] == ["hht", "cnn", "subject", "clf"]
        m1.fit(X_train, y[train], groups=g[train])
        assert m1.predict(X_test, groups=g[test]).shape == (test.sum(),)
    # without routing, the missing groups are a clear error
    with pytest.raises(ValueError, match="needs groups.*enable_metadata_routing"):
        make_recommended_pipeline(fs=data.fs, per_subject=True).fit(X_train, y[train])
