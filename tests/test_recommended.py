import numpy as np
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


def test_recommended_band_follows_the_sampling_rate():
    pipe = make_recommended_pipeline(fs=500)
    hht = pipe.named_steps["features"].transformer_list[1][1].named_steps["hht"]
    assert hht.freq_range == (20.0, 225.0)
