"""One decomposition per recording: EMDDecomposer, the HHT steps that read its
output, and the per-recording cache (``memory``)."""

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_semg.hht._decomposition as decomposition_module
from sklearn_semg import (
    CalibratedSVC,
    EMDDecomposer,
    HHTFeatures,
    HHTTransformer,
    MarginalSpectrum,
    make_recommended_pipeline,
)
from sklearn_semg.hht import Decomposition, decompose, is_decomposed

SMALL_HHT = dict(n_freq_bins=16, n_time_bins=8)
SMALL_FEATURES = dict(n_bands=4, n_segments=2, n_imfs=3)


@pytest.fixture
def count_decompositions(monkeypatch):
    """Count the recordings decomposed (each call decomposes all channels)."""
    calls = []
    original = decomposition_module._decompose_channels

    def counting(recording, seeds, settings):
        calls.append(recording.shape)
        return original(recording, seeds, settings)

    monkeypatch.setattr(decomposition_module, "_decompose_channels", counting)
    return calls


def _cache_files(folder):
    return sorted(Path(folder).rglob("*.npz"))


# ------------------------------------------------------------ EMDDecomposer
def test_decomposer_output_is_the_emd_of_every_channel(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=400)
    dec = EMDDecomposer().fit(X)
    D = dec.transform(X)
    assert D.shape == (3,) and D.dtype == object and is_decomposed(D)
    assert dec.n_channels_ == 2 and dec.backend_ == "numba"
    for i in range(3):
        assert isinstance(D[i], Decomposition)
        assert (D[i].n_channels, D[i].n_times) == (2, 400)
        for c in range(2):
            np.testing.assert_array_equal(D[i].imfs[c], decompose(X[i, c]))
    # the PyEMD back-end gives the same IMFs, under another key
    P = EMDDecomposer(backend="pyemd").fit_transform(X)
    assert P[0].settings["backend"] == "pyemd" and P[0].key != D[0].key
    for c in range(2):
        np.testing.assert_allclose(P[0].imfs[c], D[0].imfs[c], rtol=0, atol=1e-12)
    assert "Decomposition(method='emd', n_channels=2, n_times=400" in repr(D[0])


@pytest.mark.parametrize(
    "view",
    [
        HHTTransformer(**SMALL_HHT),
        HHTTransformer(normalize="global", compression="log", **SMALL_HHT),
        HHTFeatures(**SMALL_FEATURES),
    ],
    ids=["hht", "hht-global-log", "features"],
)
def test_views_read_decompositions_exactly_as_recordings(semg_factory, view):
    X, _ = semg_factory(4, n_channels=2, n_times=500)
    recordings = [X[0], X[1][:, :321], X[2], X[3][:, :450]]  # different lengths
    expected = view.fit(recordings).transform(recordings)
    piped = make_pipeline(EMDDecomposer(), view).fit(recordings)
    np.testing.assert_array_equal(piped.transform(recordings), expected)
    # fitted on decompositions, a view still accepts raw recordings, and back
    D = EMDDecomposer().fit_transform(recordings)
    np.testing.assert_array_equal(view.fit(D).transform(recordings), expected)
    np.testing.assert_array_equal(view.fit(recordings).transform(D), expected)


@pytest.mark.parametrize("method", ["eemd", "ceemdan"])
def test_noise_seeds_are_the_same_through_the_decomposer(semg_factory, method):
    X, _ = semg_factory(3, n_times=300)
    kw = dict(method=method, emd_params={"trials": 3}, random_state=7)
    raw = HHTTransformer(**SMALL_HHT, **kw).fit_transform(X)
    piped = make_pipeline(EMDDecomposer(**kw), HHTTransformer(**SMALL_HHT))
    np.testing.assert_array_equal(piped.fit_transform(X), raw)
    other = make_pipeline(
        EMDDecomposer(**{**kw, "random_state": 8}), HHTTransformer(**SMALL_HHT)
    )
    assert not np.array_equal(other.fit_transform(X), raw)


def test_decompositions_are_checked_against_fit(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=300)
    D2 = EMDDecomposer().fit_transform(X)
    D1 = EMDDecomposer().fit_transform(X[:, 0])
    hht = HHTTransformer(**SMALL_HHT).fit(D2)
    with pytest.raises(ValueError, match=r"1 channel\(s\).*fitted with 2 channel"):
        hht.transform(D1)
    with pytest.raises(ValueError, match=r"X\[1\] is the decomposition of a record"):
        HHTTransformer(**SMALL_HHT).fit([D2[0], D1[1]])
    short = EMDDecomposer(min_n_times=2).fit_transform(X[:, :, :10])
    with pytest.raises(ValueError, match=r"10 samples.*min_n_times=16"):
        HHTFeatures().fit(short)
    with pytest.raises(ValueError, match="'backend' parameter of EMDDecomposer"):
        EMDDecomposer(backend="gpu").fit(X)
    with pytest.raises(ValueError, match=r"\['trails'\].*EEMD"):
        EMDDecomposer(method="eemd", emd_params={"trails": 3}).fit(X)


# --------------------------------------------------- decompose once, shared
def _two_view_union(fs):
    """The recommended features as two independent views of raw recordings,
    each running its own EMD: what the recommended pipeline used to be."""
    band = (20.0, 0.45 * fs)
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("hht_features", HHTFeatures(fs=fs, freq_range=band)),
                        (
                            "spectrum",
                            make_pipeline(
                                HHTTransformer(
                                    fs=fs,
                                    n_freq_bins=64,
                                    n_time_bins=64,
                                    freq_range=band,
                                    normalize=None,
                                ),
                                MarginalSpectrum(),
                            ),
                        ),
                    ]
                ),
            ),
            ("scale", StandardScaler()),
            ("clf", CalibratedSVC(C=10.0, random_state=0)),
        ]
    )


def test_recommended_pipeline_decomposes_each_recording_once(
    semg_factory, count_decompositions
):
    X, y = semg_factory(12, n_channels=2, n_times=400, seed=5)
    pipe = make_recommended_pipeline(fs=1000, random_state=0).fit(X, y)
    assert len(count_decompositions) == 12  # one per recording, both views fed
    proba = pipe.predict_proba(X)
    assert len(count_decompositions) == 24
    count_decompositions.clear()
    old = _two_view_union(1000).fit(X, y)
    assert len(count_decompositions) == 24  # the two views decompose twice
    np.testing.assert_allclose(proba, old.predict_proba(X), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------- memory
def test_memory_decomposes_each_recording_once_across_folds_and_searches(
    semg_factory, count_decompositions, tmp_path
):
    X, y = semg_factory(15, n_channels=2, n_times=400, seed=2)
    groups = np.repeat(np.arange(5), 3)
    pipe = make_recommended_pipeline(fs=1000, memory=tmp_path, random_state=0)
    search = GridSearchCV(pipe, {"clf__C": [1.0, 10.0]}, cv=GroupKFold(3))
    search.fit(X, y, groups=groups)
    # 3 folds x 2 values of C, then the refit: every recording decomposed once
    assert sorted(count_decompositions) == [(2, 400)] * 15
    count_decompositions.clear()
    again = GridSearchCV(pipe, {"clf__C": [1.0, 10.0]}, cv=GroupKFold(3))
    again.fit(X, y, groups=groups)
    assert count_decompositions == []
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], again.cv_results_["mean_test_score"]
    )
    # the same results as without a cache
    plain = GridSearchCV(
        make_recommended_pipeline(fs=1000, random_state=0),
        {"clf__C": [1.0, 10.0]},
        cv=GroupKFold(3),
    ).fit(X, y, groups=groups)
    np.testing.assert_array_equal(
        plain.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )


def test_steps_with_one_memory_share_decompositions(
    semg_factory, count_decompositions, tmp_path
):
    X, _ = semg_factory(4, n_times=300)
    memory = joblib.Memory(tmp_path, verbose=0)
    D = EMDDecomposer(memory=memory).fit_transform(X)
    assert len(count_decompositions) == 4
    # raw recordings into HHTTransformer and HHTFeatures: the decompositions
    # above are reused, whatever the later settings
    HHTTransformer(memory=memory, **SMALL_HHT).fit_transform(X)
    HHTFeatures(memory=str(tmp_path), **SMALL_FEATURES).fit_transform(X)
    HHTTransformer(memory=memory, n_freq_bins=32, n_time_bins=4).fit_transform(D)
    assert len(count_decompositions) == 4
    # a setting that changes the decomposition is another entry
    EMDDecomposer(memory=memory, max_imf=3).fit_transform(X)
    EMDDecomposer(memory=memory, backend="pyemd").fit_transform(X)
    assert len(count_decompositions) == 12
    # a recording that changes by one sample is another entry too
    X2 = X.copy()
    X2[0, 0, 17] += 1e-9
    EMDDecomposer(memory=memory).fit_transform(X2)
    assert len(count_decompositions) == 13


def test_cached_decompositions_load_only_when_read(semg_factory, tmp_path):
    X, _ = semg_factory(3, n_times=300)
    fresh = EMDDecomposer(memory=tmp_path).fit_transform(X)
    cached = EMDDecomposer(memory=tmp_path).fit_transform(X)
    assert all(d._imfs is None for d in cached)  # nothing read yet
    for a, b in zip(fresh, cached, strict=True):
        assert a.key == b.key
        np.testing.assert_array_equal(a.imfs[0], b.imfs[0])


def test_cache_entries_are_plain_npz_and_damage_is_recomputed(
    semg_factory, count_decompositions, tmp_path
):
    from sklearn_semg.hht import _cache

    X, _ = semg_factory(3, n_times=300)
    expected = HHTTransformer(**SMALL_HHT).fit_transform(X)
    HHTTransformer(memory=tmp_path, **SMALL_HHT).fit_transform(X)
    files = _cache_files(tmp_path)
    assert len(files) == 6  # 3 decompositions, 3 matrices
    for f in files:
        with np.load(f, allow_pickle=False) as npz:  # no pickled objects
            assert set(npz.files) >= {"n", "a0"}
    # truncate every entry, and forget what this process remembers
    for f in files:
        f.write_bytes(f.read_bytes()[:40])
    _cache._memo.clear()
    # a leftover temporary file of a killed write is never read
    (files[0].parent / f".{files[0].stem}.abc.tmp").write_bytes(b"garbage")
    count_decompositions.clear()
    got = HHTTransformer(memory=tmp_path, **SMALL_HHT).fit_transform(X)
    np.testing.assert_array_equal(got, expected)
    assert len(count_decompositions) == 3  # recomputed, and rewritten
    _cache._memo.clear()
    count_decompositions.clear()
    np.testing.assert_array_equal(
        HHTTransformer(memory=tmp_path, **SMALL_HHT).fit_transform(X), expected
    )
    assert count_decompositions == []


def test_memory_with_parallel_jobs_and_other_processes(semg_factory, tmp_path):
    X, _ = semg_factory(6, n_channels=2, n_times=300, seed=9)
    expected = HHTTransformer(**SMALL_HHT).fit_transform(X)
    two = HHTTransformer(memory=tmp_path, n_jobs=2, **SMALL_HHT).fit_transform(X)
    np.testing.assert_array_equal(two, expected)
    files = {f: f.stat().st_mtime_ns for f in _cache_files(tmp_path)}
    assert len(files) == 12
    # another process finds every entry and writes none
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(
        f"""
        import numpy as np
        import sklearn_semg.hht._decomposition as m
        def refuse(*args):
            raise AssertionError("decomposed again")
        m._decompose_channels = refuse
        from sklearn_semg import HHTTransformer
        X = np.load({str(tmp_path / "X.npy")!r})
        out = HHTTransformer(memory={str(tmp_path)!r}, n_freq_bins=16,
                             n_time_bins=8).fit_transform(X)
        np.save({str(tmp_path / "out.npy")!r}, out)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)
    assert {f: f.stat().st_mtime_ns for f in _cache_files(tmp_path)} == files


def test_pipelines_with_memory_pickle_and_clone(semg_factory, tmp_path):
    X, y = semg_factory(10, n_times=300, seed=1)
    pipe = make_recommended_pipeline(fs=1000, memory=tmp_path, random_state=0)
    pipe.fit(X, y)
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    from sklearn.base import clone

    assert clone(pipe).get_params()["emd__memory"] == tmp_path


def test_quick_start_scores_with_and_without_memory(tmp_path):
    from sklearn_semg.datasets import load_movements

    data = load_movements()
    keep = np.isin(data.groups, np.unique(data.groups)[:5])
    X = [rec[:, :512] for rec, k in zip(data.data, keep, strict=True) if k]
    y, groups = data.target[keep], data.groups[keep]
    cv = GroupKFold(5)
    plain = cross_val_score(
        make_recommended_pipeline(fs=data.fs, random_state=0),
        X,
        y,
        groups=groups,
        cv=cv,
    )
    cached = cross_val_score(
        make_recommended_pipeline(fs=data.fs, memory=tmp_path, random_state=0),
        X,
        y,
        groups=groups,
        cv=cv,
    )
    np.testing.assert_array_equal(plain, cached)
    assert plain.mean() > 0.3  # 5 movements, chance 0.2
