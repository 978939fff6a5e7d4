import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg.features import FEATURE_SETS, EMGFeatures, HHTFeatures

FS = 1000.0
DEFAULT_EMG = ["mav", "rms", "wl", "zc", "ssc", "var", "mnf", "mdf"]
# small, fast HHTFeatures settings for the tests that do not look at values
FAST_HHT = dict(max_imf=4, n_bands=4, n_segments=2, n_imfs=3)


def _sine(freq, seconds=2.0, amplitude=1.0, fs=FS, phase=0.3):
    t = np.arange(int(seconds * fs)) / fs
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def _as_dict(estimator, row):
    return dict(zip(estimator.get_feature_names_out(), row, strict=True))


# ================================================================ EMGFeatures
def test_emg_shapes_names_and_default_list(semg_factory):
    X, _ = semg_factory(4, n_channels=2, n_times=500)
    feats = EMGFeatures().fit(X)
    out = feats.transform(X)
    assert out.shape == (4, 16)
    assert out.dtype == np.float64
    assert np.all(np.isfinite(out))
    assert feats.n_channels_ == 2
    assert feats.channel_feature_names_.tolist() == DEFAULT_EMG
    names = feats.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == [f"ch{c}_{f}" for c in range(2) for f in DEFAULT_EMG]
    np.testing.assert_array_equal(EMGFeatures().fit_transform(X), out)
    # a chosen list, in the chosen order, with the extra features
    some = EMGFeatures(features=["pkf", "rms", "wamp", "iemg"]).fit(X[:, :1])
    assert some.get_feature_names_out().tolist() == [
        "ch0_pkf",
        "ch0_rms",
        "ch0_wamp",
        "ch0_iemg",
    ]
    np.testing.assert_array_equal(some.transform(X[:, :1])[:, 1], out[:, 1])


def test_emg_values_on_a_pure_sine():
    amplitude, freq = 3.0, 50.0
    x = _sine(freq, seconds=2.0, amplitude=amplitude, phase=0.3)
    n = len(x)
    feats = EMGFeatures(
        features=[*DEFAULT_EMG, "iemg", "wamp", "pkf"], normalize_length=False
    ).fit([x])
    got = _as_dict(feats, feats.transform([x])[0])
    assert got["ch0_rms"] == pytest.approx(amplitude / np.sqrt(2), rel=1e-3)
    # 20 samples per period: the sampled mean of |sin| is within 1 % of 2 / pi
    assert got["ch0_mav"] == pytest.approx(2 * amplitude / np.pi, rel=0.01)
    assert got["ch0_var"] == pytest.approx(amplitude**2 / 2, rel=1e-3)
    assert got["ch0_iemg"] == pytest.approx(n * got["ch0_mav"], rel=1e-12)
    # 100 periods of 20 samples, two zero crossings and two extrema each (the
    # phase keeps samples off zero); sin(2 pi 50 t + 0.3) crosses zero at
    # t = (k pi - 0.3) / (100 pi), k = 1..200, and the 200th, at 1.99905 s,
    # falls after the last sample (1.999 s)
    assert got["ch0_zc"] == 2 * freq * 2.0 - 1
    assert got["ch0_ssc"] == 2 * freq * 2.0
    assert got["ch0_wamp"] == n - 1  # every step is non-zero
    # waveform length: 4 amplitudes per period, less the peaks missed between
    # samples
    assert got["ch0_wl"] == pytest.approx(4 * amplitude * freq * 2.0, rel=0.02)
    assert got["ch0_mnf"] == pytest.approx(freq, abs=1.0)
    assert got["ch0_mdf"] == pytest.approx(freq, abs=0.5)
    assert got["ch0_pkf"] == pytest.approx(freq, abs=FS / 256 / 2)


def test_emg_frequency_features_follow_the_frequency():
    X = np.stack([_sine(f) for f in (40.0, 90.0, 180.0)])
    out = EMGFeatures(features=["mnf", "mdf", "zc"]).fit_transform(X)
    np.testing.assert_allclose(out[:, 1], [40, 90, 180], atol=0.6)
    np.testing.assert_allclose(out[:, 0], [40, 90, 180], atol=1.5)
    # normalised zero crossings: 2 f / fs crossings per sample
    np.testing.assert_allclose(out[:, 2], 2 * np.array([40, 90, 180]) / FS, atol=1e-3)


def test_emg_threshold_is_a_fraction_of_the_channel_std():
    rng = np.random.default_rng(0)
    sine = _sine(50.0, seconds=1.0, amplitude=1.0)
    noise = 0.01 * rng.standard_normal(1000)  # low-level noise, many crossings
    x = np.concatenate([sine, noise])
    feats = ["zc", "ssc", "wamp"]
    raw = EMGFeatures(features=feats, normalize_length=False).fit_transform([x])[0]
    gated = EMGFeatures(
        features=feats, threshold=0.1, normalize_length=False
    ).fit_transform([x])[0]
    # without a threshold the noise half adds hundreds of counts
    assert np.all(raw > 300)
    # 0.1 * std(x) ~ 0.07 rejects every step of the noise, keeps the sine's
    assert gated[0] == pytest.approx(100, abs=1)
    assert gated[1] == pytest.approx(100, abs=1)
    assert 500 < gated[2] <= 999
    # scale invariant: the threshold follows the units
    scaled = EMGFeatures(
        features=feats, threshold=0.1, normalize_length=False
    ).fit_transform([1000 * x])[0]
    np.testing.assert_array_equal(scaled, gated)


def test_emg_normalize_length(semg_factory):
    short, long = _sine(60.0, seconds=1.0), _sine(60.0, seconds=3.0)
    counts = ["wl", "zc", "ssc", "wamp"]
    per_sample = EMGFeatures(features=counts).fit_transform([short, long])
    np.testing.assert_allclose(per_sample[0], per_sample[1], rtol=0.01)
    totals = EMGFeatures(features=counts, normalize_length=False).fit_transform(
        [short, long]
    )
    np.testing.assert_allclose(totals[1] / totals[0], 3.0, rtol=0.01)
    np.testing.assert_allclose(totals / [[1000], [3000]], per_sample)
    # amplitude features do not depend on the flag
    amp = ["mav", "rms", "var", "mnf"]
    np.testing.assert_array_equal(
        EMGFeatures(features=amp).fit_transform([short, long]),
        EMGFeatures(features=amp, normalize_length=False).fit_transform([short, long]),
    )


def test_emg_variable_length_recordings(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=1500)
    recordings = [X[0][:, :700], X[1], X[2][:, :1111]]
    feats = EMGFeatures().fit(recordings)
    out = feats.transform(recordings)
    assert out.shape == (3, 16)
    for i, rec in enumerate(recordings):
        np.testing.assert_array_equal(out[i], feats.transform([rec])[0])


def test_emg_channels_are_independent(semg_factory):
    X, _ = semg_factory(3, n_channels=3, n_times=600)
    both = EMGFeatures().fit_transform(X)
    k = len(DEFAULT_EMG)
    for c in range(3):
        alone = EMGFeatures().fit_transform(X[:, c])
        np.testing.assert_allclose(both[:, c * k : (c + 1) * k], alone, rtol=1e-12)
    # channel c is scaled by 1 / (1 + c) in make_semg: rms follows
    assert both[0, 1] > both[0, k + 1] > both[0, 2 * k + 1]


def test_emg_flat_channel_gives_zeros_not_nan():
    out = EMGFeatures().fit_transform(np.vstack([np.zeros(300), np.full(300, 2.0)]))
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[0], 0.0)
    # constant 2: mav = rms = 2, no steps, no crossings, no spectrum (DC removed)
    np.testing.assert_array_equal(out[1], [2, 2, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    "features, match",
    [
        (["rms", "median_freq"], r"unknown feature 'median_freq'; valid names are"),
        (["RMS"], r"unknown feature 'RMS'.*'mav', 'rms'.*Did you mean 'rms'\?"),
        (["mav", "zcr"], r"Did you mean 'zc'\?"),
        ([], r"non-empty list"),
        (["rms", "rms"], r"lists 'rms' more than once"),
        ([3], r"unknown feature 3"),
        ("tdspd", r"unknown feature 'tdspd'.*Did you mean 'tdpsd'\?"),
        (["td", "tdar"], r"lists 'mav', 'ssc', 'wl', 'zc' more than once"),
    ],
)
def test_emg_bad_feature_names(features, match):
    with pytest.raises(ValueError, match=match):
        EMGFeatures(features=features).fit(np.zeros((2, 100)))


def test_emg_bad_parameters():
    X = np.zeros((2, 100))
    with pytest.raises(ValueError, match="'features' parameter of EMGFeatures"):
        EMGFeatures(features=7).fit(X)
    with pytest.raises(ValueError, match="'ar_order' parameter of EMGFeatures"):
        EMGFeatures(features="tdar", ar_order=0).fit(X)
    with pytest.raises(ValueError, match="'threshold' parameter of EMGFeatures"):
        EMGFeatures(threshold=-0.1).fit(X)
    with pytest.raises(ValueError, match="'fs' parameter of EMGFeatures"):
        EMGFeatures(fs=0).fit(X)


# ------------------------------------------------------- named feature sets
def test_emg_feature_sets_expand_in_place(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=400)
    names = {
        "td": ["mav", "zc", "ssc", "wl"],
        "tdar": ["mav", "zc", "ssc", "wl", "ar1", "ar2", "ar3", "ar4"],
        "tdpsd": [
            "log_m0",
            "log_m0_m2",
            "log_m0_m4",
            "sparseness",
            "irregularity",
            "wl_ratio",
        ],
        "ls4": ["ls", "mfl", "msr", "wamp"],
        "hjorth": ["activity", "mobility", "complexity"],
        "default": DEFAULT_EMG,
    }
    for name, columns in names.items():
        feats = EMGFeatures(features=name).fit(X)
        assert feats.channel_feature_names_.tolist() == columns, name
        out = feats.transform(X)
        assert out.shape == (3, 2 * len(columns))
        assert np.all(np.isfinite(out))
    assert sorted(FEATURE_SETS) == sorted(names)
    # sets mix with single features, in the order given; ar_order sets the columns
    feats = EMGFeatures(features=["hjorth", "rms", "tdar"], ar_order=2).fit(X)
    assert feats.get_feature_names_out()[:9].tolist() == [
        "ch0_activity",
        "ch0_mobility",
        "ch0_complexity",
        "ch0_rms",
        "ch0_mav",
        "ch0_zc",
        "ch0_ssc",
        "ch0_wl",
        "ch0_ar1",
    ]
    assert feats.transform(X).shape == (3, 2 * 10)
    # the td columns are the default ones, computed the same way
    default = _as_dict(EMGFeatures().fit(X), EMGFeatures().fit_transform(X)[1])
    td_est = EMGFeatures(features="td").fit(X)
    td = _as_dict(td_est, td_est.transform(X)[1])
    for name, value in td.items():
        assert value == default[name]


def test_emg_autoregressive_coefficients_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # biased autocorrelation: r0 = 30/4, r1 = 20/4, r2 = 11/4
    r0, r1, r2 = 7.5, 5.0, 2.75
    one = EMGFeatures(features="ar", ar_order=1, min_n_times=2).fit_transform([x])
    np.testing.assert_allclose(one, [[r1 / r0]])
    two = EMGFeatures(features="ar", ar_order=2, min_n_times=2).fit_transform([x])
    det = r0 * r0 - r1 * r1
    np.testing.assert_allclose(
        two, [[(r1 * r0 - r1 * r2) / det, (r0 * r2 - r1 * r1) / det]]
    )
    # a long AR(2) process gives back its coefficients
    rng = np.random.default_rng(0)
    e = rng.standard_normal(20_000)
    y = np.zeros_like(e)
    for k in range(2, len(y)):
        y[k] = 1.2 * y[k - 1] - 0.5 * y[k - 2] + e[k]
    got = EMGFeatures(features="ar", ar_order=3).fit_transform([y])[0]
    np.testing.assert_allclose(got, [1.2, -0.5, 0.0], atol=0.03)


def test_emg_tdpsd_by_hand():
    x = np.array([0.0, 1.0, 2.0, 2.0, 1.0])
    # dx = [1, 1, 0, -1], d2x = [0, -1, -1]: sums of squares 10, 3, 2
    m0, m2, m4 = (10 * s**0.05 for s in (10.0, 3.0, 2.0))  # sqrt(s) ** 0.1 / 0.1
    est = EMGFeatures(features="tdpsd", min_n_times=2).fit([x])
    got = _as_dict(est, est.transform([x])[0])
    assert got["ch0_log_m0"] == pytest.approx(np.log(m0))
    assert got["ch0_log_m0_m2"] == pytest.approx(np.log(m0 - m2))
    assert got["ch0_log_m0_m4"] == pytest.approx(np.log(m0 - m4))
    assert got["ch0_sparseness"] == pytest.approx(
        np.log(m0 / np.sqrt((m0 - m2) * (m0 - m4)))
    )
    assert got["ch0_irregularity"] == pytest.approx(m2 / np.sqrt(m0 * m4))
    assert got["ch0_wl_ratio"] == pytest.approx(np.log(3 / 2))
    # a fast-alternating signal: m2 > m0, the logarithm of the absolute difference
    z = np.array([1.0, -1.0, 2.0, 0.0])  # sums of squares 6, 17, 50
    m0, m2, m4 = (10 * s**0.05 for s in (6.0, 17.0, 50.0))
    est = EMGFeatures(features=["log_m0_m2", "sparseness"], min_n_times=2).fit([z])
    np.testing.assert_allclose(
        est.transform([z])[0],
        [np.log(m2 - m0), np.log(m0 / np.sqrt((m2 - m0) * (m4 - m0)))],
    )


def test_emg_ls4_and_hjorth_by_hand():
    x = np.array([3.0, 1.0, 2.0])
    est = EMGFeatures(features=["ls", "mfl", "msr"], min_n_times=2).fit([x])
    # sorted [1, 2, 3]: b0 = 2, b1 = (0 * 1 + 0.5 * 2 + 1 * 3) / 3 = 4 / 3, and
    # half the mean absolute difference of the pairs (1 + 2 + 1) / 3 / 2 = 2 / 3
    # dx = [-2, 1]: sqrt(5)
    np.testing.assert_allclose(
        est.transform([x])[0],
        [2 / 3, np.log10(np.sqrt(5)), (np.sqrt(3) + 1 + np.sqrt(2)) / 3],
    )
    # the L-scale is half the mean absolute difference of two samples
    r = np.random.default_rng(1).standard_normal(301)
    half_gini = np.abs(r[:, None] - r[None, :]).sum() / (301 * 300) / 2
    assert EMGFeatures(features="ls").fit_transform([r])[0, 0] == pytest.approx(
        half_gini
    )

    y = np.array([0.0, 1.0, 2.0, 2.0, 1.0])
    # var(y) = 2.8 / 5, var(dy) = 2.75 / 4, var(d2y) = (6 / 9) / 3
    activity, var_d1, var_d2 = 0.56, 0.6875, 2 / 9
    mobility = np.sqrt(var_d1 / activity)
    est = EMGFeatures(features="hjorth", min_n_times=2).fit([y])
    np.testing.assert_allclose(
        est.transform([y])[0],
        [activity, mobility, np.sqrt(var_d2 / var_d1) / mobility],
    )
    # a pure sine: mobility 2 sin(pi f / fs), complexity 1
    s = _sine(50.0, amplitude=2.0)
    activity, mobility, complexity = EMGFeatures(features="hjorth").fit_transform([s])[
        0
    ]
    assert activity == pytest.approx(2.0, rel=1e-3)
    assert mobility == pytest.approx(2 * np.sin(np.pi * 50 / FS), rel=1e-3)
    assert complexity == pytest.approx(1.0, rel=1e-3)


def test_emg_feature_sets_on_flat_channels_are_finite():
    flat = np.vstack([np.zeros(300), np.full(300, 2.0)])
    for name in FEATURE_SETS:
        out = EMGFeatures(features=name).fit_transform(flat)
        assert np.all(np.isfinite(out)), name
        np.testing.assert_array_equal(out[0], 0.0)


# ================================================================ HHTFeatures
def test_hht_shapes_names_and_bin_edges(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=600)
    hht = HHTFeatures().fit(X)
    out = hht.transform(X)
    per_channel = 16 + 1 + 4 + 2 * 4 + 6
    assert out.shape == (3, 2 * per_channel)
    assert out.dtype == np.float64
    assert np.all(np.isfinite(out))
    names = hht.get_feature_names_out().tolist()
    assert len(names) == out.shape[1]
    assert names[:2] == ["ch0_hht_band00", "ch0_hht_band01"]
    assert names[15:24] == [
        "ch0_hht_band15",
        "ch0_hht_log_energy",
        "ch0_hht_mnf",
        "ch0_hht_mdf",
        "ch0_hht_mnf_seg0",
        "ch0_hht_mnf_seg1",
        "ch0_hht_mnf_seg2",
        "ch0_hht_mnf_seg3",
        "ch0_hht_mdf_seg0",
    ]
    assert names[27:31] == [
        "ch0_hht_mnf_slope",
        "ch0_hht_mdf_slope",
        "ch0_imf0_energy",
        "ch0_imf1_energy",
    ]
    assert names[per_channel] == "ch1_hht_band00"
    assert names[-1] == "ch1_imf5_energy"
    np.testing.assert_allclose(hht.bin_edges_, np.linspace(20, 450, 17))
    # relative spectrum sums to 1 per channel
    for c in range(2):
        np.testing.assert_allclose(
            out[:, c * per_channel : c * per_channel + 16].sum(1), 1
        )
    no_log = HHTFeatures(log_energy=False, **FAST_HHT).fit(X)
    assert "ch0_hht_log_energy" not in no_log.get_feature_names_out()
    assert no_log.transform(X).shape == (3, 2 * (4 + 4 + 2 * 2 + 3))


def test_hht_values_on_a_pure_sine():
    amplitude, freq = 3.0, 85.0
    x = _sine(freq, seconds=2.0, amplitude=amplitude)
    hht = HHTFeatures(n_bands=43, freq_range=(20, 450)).fit([x])  # 10 Hz bands
    got = _as_dict(hht, hht.transform([x])[0])
    assert got["ch0_hht_mnf"] == pytest.approx(freq, abs=0.5)
    assert got["ch0_hht_mdf"] == pytest.approx(freq, abs=0.5)
    for s in range(4):
        assert got[f"ch0_hht_mdf_seg{s}"] == pytest.approx(freq, abs=0.5)
    assert got["ch0_hht_mdf_slope"] == pytest.approx(0, abs=0.1)
    assert got["ch0_hht_mnf_slope"] == pytest.approx(0, abs=0.1)
    # all the energy in the 80-90 Hz band (index 6)
    assert got["ch0_hht_band06"] > 0.99
    # analytic-signal energy per sample of A sin: A**2
    assert got["ch0_hht_log_energy"] == pytest.approx(np.log(amplitude**2), abs=0.01)
    # one IMF carries the sine
    assert got["ch0_imf0_energy"] > 0.99


def test_hht_median_frequency_falls_on_a_falling_chirp():
    # instantaneous frequency 150 - 20 t Hz over 4 s: 150 -> 70 Hz
    t = np.arange(4000) / FS
    chirp = np.sin(2 * np.pi * (150 * t - 10 * t**2))
    hht = HHTFeatures(n_segments=4).fit([chirp])
    got = _as_dict(hht, hht.transform([chirp])[0])
    assert got["ch0_hht_mdf_slope"] == pytest.approx(-20, abs=1)
    assert got["ch0_hht_mnf_slope"] == pytest.approx(-20, abs=1)
    # segment s is centred at t = 0.5 + s seconds: f = 150 - 20 (0.5 + s)
    for s in range(4):
        expected = 150 - 20 * (0.5 + s)
        assert got[f"ch0_hht_mdf_seg{s}"] == pytest.approx(expected, abs=1)
        assert got[f"ch0_hht_mnf_seg{s}"] == pytest.approx(expected, abs=1)
    assert got["ch0_hht_mdf"] == pytest.approx(110, abs=1)
    # a rising chirp has a positive trend
    rising = HHTFeatures().fit_transform([chirp[::-1]])[0]
    assert _as_dict(hht, rising)["ch0_hht_mdf_slope"] == pytest.approx(20, abs=1)


def test_hht_freq_range_selects_the_band_and_imf_energies():
    # 100 Hz of amplitude 2 plus 10 Hz of amplitude 1: EMD separates them
    x = _sine(100.0, amplitude=2.0) + _sine(10.0, amplitude=1.0, phase=1.0)
    wide = HHTFeatures(freq_range=(5, 450)).fit([x])
    w = _as_dict(wide, wide.transform([x])[0])
    high = HHTFeatures(freq_range=(50, 450)).fit([x])
    h = _as_dict(high, high.transform([x])[0])
    # energy-weighted: (4 * 100 + 1 * 10) / 5 = 82 Hz; median 100 Hz
    assert w["ch0_hht_mnf"] == pytest.approx(82, abs=1)
    assert w["ch0_hht_mdf"] == pytest.approx(100, abs=0.5)
    assert w["ch0_hht_log_energy"] == pytest.approx(np.log(5.0), abs=0.02)
    # only the 100 Hz tone inside 50-450 Hz
    assert h["ch0_hht_mnf"] == pytest.approx(100, abs=0.5)
    assert h["ch0_hht_log_energy"] == pytest.approx(np.log(4.0), abs=0.02)
    # IMF energies: sum(imf**2) of the tones, 4 : 1, whatever freq_range
    assert w["ch0_imf0_energy"] == pytest.approx(0.8, abs=0.01)
    assert w["ch0_imf1_energy"] == pytest.approx(0.2, abs=0.01)
    assert h["ch0_imf0_energy"] == w["ch0_imf0_energy"]


def test_hht_no_energy_in_band_and_flat_channels():
    low = _sine(5.0)  # below the default 20-450 Hz band
    hht = HHTFeatures(n_imfs=12).fit([low])
    got = _as_dict(hht, hht.transform([low])[0])
    bands = [v for k, v in got.items() if "band" in k]
    assert not any(bands)
    assert got["ch0_hht_mnf"] == got["ch0_hht_mdf"] == got["ch0_hht_mdf_slope"] == 0
    # zero-padded IMF energies: fewer components than n_imfs
    imf = [got[f"ch0_imf{k}_energy"] for k in range(12)]
    assert imf[0] > 0.99 and imf[-1] == 0 and sum(imf) == pytest.approx(1)
    flat = HHTFeatures(**FAST_HHT).fit_transform(
        np.vstack([np.zeros(200), np.ones(200)])
    )
    assert np.all(np.isfinite(flat))


def test_hht_variable_length_and_channel_independence(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=900)
    recordings = [X[0][:, :500], X[1], X[2][:, :777]]
    hht = HHTFeatures(**FAST_HHT).fit(recordings)
    out = hht.transform(recordings)
    k = len(hht.channel_feature_names_)
    assert out.shape == (3, 2 * k)
    for i, rec in enumerate(recordings):
        np.testing.assert_array_equal(out[i], hht.transform([rec])[0])
        for c in range(2):
            alone = HHTFeatures(**FAST_HHT).fit_transform([rec[c]])[0]
            np.testing.assert_array_equal(out[i, c * k : (c + 1) * k], alone)


def test_hht_same_output_for_any_n_jobs(semg_factory):
    # long enough (over 10,000 in-band IMF samples per channel) that a BLAS dot
    # product would run multi-threaded in the parent but not in the workers
    X, _ = semg_factory(2, n_channels=2, n_times=4000)
    one = HHTFeatures(n_jobs=1, **FAST_HHT).fit_transform(X)
    two = HHTFeatures(n_jobs=2, **FAST_HHT).fit_transform(X)
    np.testing.assert_array_equal(one, two)


def test_hht_eemd_reproducible_across_n_jobs(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=300)
    kw = dict(method="eemd", emd_params={"trials": 3}, **FAST_HHT)
    a = HHTFeatures(random_state=7, n_jobs=1, **kw).fit_transform(X)
    b = HHTFeatures(random_state=7, n_jobs=2, **kw).fit_transform(X)
    c = HHTFeatures(random_state=8, n_jobs=1, **kw).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # a second transform with an integer seed repeats itself
    est = HHTFeatures(random_state=7, **kw).fit(X)
    np.testing.assert_array_equal(est.transform(X), est.transform(X))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(freq_range=(20, 600)), r"freq_range.*fs/2 = 500 Hz; got \(20, 600\)"),
        (dict(freq_range=(300, 100)), r"0 <= f_min < f_max"),
        (dict(freq_range=(-5, 100)), r"0 <= f_min < f_max"),
        (
            dict(fs=500.0, freq_range=(20, 450)),
            r"fs/2 = 250 Hz.*freq_range='semg'.*or freq_range=\(20, 225\)",
        ),
        (dict(freq_range=(20,)), r"must be None, 'semg' or a pair"),
        (dict(freq_range=("a", "b")), r"must be None, 'semg' or a pair"),
    ],
)
def test_hht_bad_freq_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HHTFeatures(**kwargs).fit(np.zeros((1, 100)))


def test_hht_default_band_follows_the_sampling_rate():
    # the default "semg" band is lowered to 0.45 * fs, with a warning
    with pytest.warns(UserWarning, match=r"fs=500 Hz.*using \(20, 225\) Hz"):
        est = HHTFeatures(fs=500.0).fit(np.zeros((1, 100)))
    np.testing.assert_allclose(est.bin_edges_[[0, -1]], [20, 225])


def test_hht_bad_parameters():
    X = np.zeros((1, 100))
    with pytest.raises(ValueError, match="'n_segments' parameter of HHTFeatures"):
        HHTFeatures(n_segments=1).fit(X)
    with pytest.raises(ValueError, match="'method' parameter of HHTFeatures"):
        HHTFeatures(method="vmd").fit(X)
    # None covers the whole band
    assert HHTFeatures(freq_range=None).fit(X).bin_edges_[[0, -1]].tolist() == [0, 500]


# ====================================================================== both
@pytest.mark.parametrize("cls", [EMGFeatures, HHTFeatures])
def test_nan_names_the_recording(cls, semg_factory):
    X, _ = semg_factory(3, n_times=300)
    X = X[:, 0].copy()
    X[1, 5] = np.nan
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}: X\[1\] contains NaN values \(first at"
    ):
        cls().fit(X)
    est = cls(**(FAST_HHT if cls is HHTFeatures else {})).fit(X[[0, 2]])
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN"):
        est.transform(X)


@pytest.mark.parametrize("cls", [EMGFeatures, HHTFeatures])
def test_channel_count_must_match_fit(cls, semg_factory):
    X, _ = semg_factory(2, n_channels=2, n_times=300)
    est = cls(**(FAST_HHT if cls is HHTFeatures else {})).fit(X)
    with pytest.raises(ValueError, match=r"1 channel\(s\).*fitted with 2 channel"):
        est.transform(X[:, 0])


@pytest.mark.parametrize("cls", [EMGFeatures, HHTFeatures])
def test_short_input_and_not_fitted(cls):
    with pytest.raises(ValueError, match=r"transpose it"):
        cls().fit(np.zeros((100, 3)))  # (n_times, n_recordings)
    with pytest.raises(NotFittedError):
        cls().transform(np.zeros((1, 100)))
    with pytest.raises(NotFittedError):
        cls().get_feature_names_out()


@pytest.mark.parametrize("cls", [EMGFeatures, HHTFeatures])
def test_input_features_name_the_channels(cls, semg_factory):
    X, _ = semg_factory(2, n_channels=2, n_times=300)
    est = cls(**(FAST_HHT if cls is HHTFeatures else {})).fit(X)
    default = est.get_feature_names_out()
    named = est.get_feature_names_out(["biceps", "triceps"])
    assert [n.replace("biceps", "ch0").replace("triceps", "ch1") for n in named] == (
        default.tolist()
    )
    assert named[0].startswith("biceps_")
    with pytest.raises(ValueError, match=r"number of channels seen at fit.*= 2"):
        est.get_feature_names_out(["only_one"])


@pytest.mark.parametrize("cls", [EMGFeatures, HHTFeatures])
def test_pipeline_with_pandas_output(cls, semg_factory):
    X, y = semg_factory(16, n_times=400, seed=3)
    est = cls(**(FAST_HHT if cls is HHTFeatures else {}))
    pipe = make_pipeline(clone(est), StandardScaler(), LogisticRegression())
    scores = cross_val_score(
        pipe, X, y, cv=StratifiedKFold(2, shuffle=True, random_state=0)
    )
    # the two classes differ in spectrum and amplitude
    assert scores.mean() > 0.7
    frame = clone(est).set_output(transform="pandas").fit_transform(X)
    assert frame.shape[0] == 16
    assert list(frame.columns) == list(clone(est).fit(X).get_feature_names_out())


# ================================================================= real data
def test_fatigue_lowers_median_frequency_on_real_biceps(biceps_fatigue_dir):
    raw = np.loadtxt(biceps_fatigue_dir / "emg_fatigue_biceps_1000hz.txt")
    x = raw - 2048.0  # 12-bit ADC counts around mid-scale
    third, win = len(x) // 3, 2000  # 2 s windows
    early = [x[s : s + win] for s in range(0, third - win + 1, win)]
    late = [x[s : s + win] for s in range(2 * third, len(x) - win + 1, win)]
    assert len(early) == len(late) == 21

    hht = HHTFeatures(fs=1000.0).fit(early)
    names = hht.get_feature_names_out().tolist()
    mdf = names.index("ch0_hht_mdf")
    early_mdf = np.median(hht.transform(early)[:, mdf])
    late_mdf = np.median(hht.transform(late)[:, mdf])
    # about 67 Hz early, 55 Hz late
    assert 50 < late_mdf < early_mdf - 5 < 80

    # the Welch median frequency of the baseline agrees
    emg = EMGFeatures(fs=1000.0, features=["mdf", "rms"]).fit(early)
    e, lt = emg.transform(early), emg.transform(late)
    assert np.median(e[:, 0]) > np.median(lt[:, 0]) + 5


# ------------------------------------------------------- MarginalSpectrum
def test_marginal_spectrum_values_and_scale_invariance():
    from sklearn_semg import MarginalSpectrum

    rng = np.random.default_rng(0)
    M = rng.random((5, 2, 12, 7))
    ms = MarginalSpectrum(n_bands=4, log_floor=1e-2).fit(M)
    bands = M.sum(-1).reshape(5, 2, 4, 3).sum(-1).reshape(5, 8)
    assert ms.scale_ == pytest.approx(np.median(bands))
    # HHTTransformer's log compression: zeros stay zero
    np.testing.assert_allclose(
        ms.transform(M), np.log(bands / ms.scale_ + 1e-2) - np.log(1e-2), rtol=1e-12
    )
    np.testing.assert_allclose(
        MarginalSpectrum(n_bands=4, compression=0.5).fit(M).transform(M),
        np.sqrt(bands / ms.scale_),
        rtol=1e-12,
    )
    # the learned scale makes the output independent of the recording units
    loud = MarginalSpectrum(n_bands=4, log_floor=1e-2).fit(1000 * M)
    np.testing.assert_allclose(loud.transform(1000 * M), ms.transform(M), rtol=1e-9)
    # but amplitude differences between recordings survive
    out = ms.transform(np.concatenate([M[:1], 3 * M[:1]]))
    assert np.all(out[1] > out[0])
    assert MarginalSpectrum(compression=None).fit_transform(M).shape == (5, 24)
    # the former parameters still work, with a FutureWarning
    with pytest.warns(FutureWarning, match="'log' is deprecated"):
        plain = MarginalSpectrum(log=False).fit(M).transform(M)
    np.testing.assert_array_equal(
        plain, MarginalSpectrum(compression=None).fit_transform(M)
    )
    with pytest.warns(FutureWarning, match="'floor' is deprecated.*'log_floor'"):
        old = MarginalSpectrum(n_bands=4, floor=1e-2).fit(M).transform(M)
    np.testing.assert_array_equal(old, ms.transform(M))


def test_marginal_spectrum_bad_input():
    from sklearn_semg import MarginalSpectrum

    M = np.ones((3, 8, 4))
    with pytest.raises(ValueError, match="n_bands=9 exceeds the 8 frequency rows"):
        MarginalSpectrum(n_bands=9).fit(M)
    with pytest.raises(
        ValueError, match=r"Negative values in data passed to MarginalSpectrum \(X\)"
    ):
        MarginalSpectrum().fit(-M)
    ms = MarginalSpectrum().fit(M)
    with pytest.raises(ValueError, match="expecting 32 features"):
        ms.transform(np.ones((3, 8, 5)))


def test_feature_sets_on_real_recordings(biceps_fatigue_dir, muscletracker_dir):
    from sklearn_semg.datasets import load_biceps_fatigue, load_muscletracker

    bunch = load_biceps_fatigue(biceps_fatigue_dir)
    early, late = (
        bunch.data[bunch.target == "early"],
        bunch.data[bunch.target == "late"],
    )
    hjorth = EMGFeatures(fs=bunch.fs, features="hjorth").fit(bunch.data)
    e, lt = hjorth.transform(early), hjorth.transform(late)
    # fatigue: the amplitude rises and the frequency content, hence the
    # mobility (2 sin(pi f / fs) for a sine), falls
    assert np.median(lt[:, 0]) > np.median(e[:, 0])
    assert np.median(lt[:, 1]) < np.median(e[:, 1]) - 0.02

    mio = load_muscletracker(muscletracker_dir)
    X = [rec - rec.mean(axis=1, keepdims=True) for rec in mio.data[:40]]
    for name in FEATURE_SETS:
        out = EMGFeatures(fs=mio.fs, features=name, threshold=0.05).fit_transform(X)
        assert out.shape[0] == 40 and np.all(np.isfinite(out)), name
        # no column is constant across real recordings
        assert np.all(out.std(axis=0) > 0), name


def test_marginal_spectrum_feature_names():
    from sklearn_semg import MarginalSpectrum

    M = np.random.default_rng(0).random((4, 2, 8, 5))
    est = MarginalSpectrum(n_bands=4).fit(M)
    names = est.get_feature_names_out(["FDS", "EDC"])
    assert names.tolist() == [
        f"{c}_marginal{b}" for c in ("FDS", "EDC") for b in range(4)
    ]
    assert len(MarginalSpectrum().fit(M).get_feature_names_out()) == 2 * 8
    one = MarginalSpectrum().fit(M[:, 0])  # (n, F, T): one channel
    assert one.get_feature_names_out()[:2].tolist() == [
        "ch0_marginal0",
        "ch0_marginal1",
    ]
    with pytest.raises(ValueError, match="n_channels_ = 2"):
        est.get_feature_names_out(["only one"])


def test_hht_features_n_freq_bins_is_the_former_name_of_n_bands(semg_factory):
    X, _ = semg_factory(2, n_times=300)
    new = HHTFeatures(**FAST_HHT).fit(X)
    old_params = {**FAST_HHT, "n_freq_bins": FAST_HHT["n_bands"]}
    del old_params["n_bands"]
    with pytest.warns(FutureWarning, match="'n_freq_bins' was renamed 'n_bands'"):
        old = HHTFeatures(**old_params).fit(X)
    assert old.channel_feature_names_.tolist() == new.channel_feature_names_.tolist()
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
    assert HHTFeatures(n_bands=5).fit(X).bin_edges_.shape == (6,)
