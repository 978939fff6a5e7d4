import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from reference_hht import reference_hht_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_semg import HHTTransformer
from sklearn_semg.hht import hilbert_spectrum
from sklearn_semg.utils import MIN_N_TIMES


def _one_channel(semg_factory, fs, seconds, seed):
    X, _ = semg_factory(1, n_times=int(fs * seconds), fs=fs, seed=seed)
    return X[0, 0]


@pytest.mark.parametrize("fs, seconds", [(1000, 1), (2000, 1), (1000, 5), (2000, 5)])
def test_matches_reference_on_realistic_signals(semg_factory, fs, seconds):
    # Band-limited (20-450 Hz) noise with activation bursts.
    signal = _one_channel(semg_factory, fs, seconds, seed=fs + seconds)
    expected = reference_hht_matrix(signal, fs)
    got = HHTTransformer(fs=fs).fit_transform(signal[np.newaxis])
    assert got.shape == (1, 1, 256, 256)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[0, 0], expected, rtol=0, atol=1e-6)
    # Not a trivial match: the matrix has structure.
    assert np.count_nonzero(expected) > 1000


def _real_recordings(muscletracker_dir, biceps_fatigue_dir):
    mio = np.loadtxt(muscletracker_dir / "Data/Raw/Miotracker/3_2_2.txt")
    biopac = np.loadtxt(muscletracker_dir / "Data/Raw/Biopac/7_1_4.txt", delimiter=",")
    biceps = np.loadtxt(biceps_fatigue_dir / "emg_fatigue_biceps_1000hz.txt")
    return [
        ("miotracker ch1", mio[:, 0], 1001.0),
        ("miotracker ch2", mio[:, 1], 1001.0),
        ("biopac ch1", biopac[:, 0], 1001.0),
        ("biceps 3 s", biceps[60_000:63_000] - 2048.0, 1000.0),
    ]


def test_matches_reference_on_real_recordings(muscletracker_dir, biceps_fatigue_dir):
    for name, signal, fs in _real_recordings(muscletracker_dir, biceps_fatigue_dir):
        expected = reference_hht_matrix(signal, fs)
        got = HHTTransformer(fs=fs).fit_transform([signal])[0, 0]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=name)


def test_channels_are_transformed_independently(semg_factory):
    X, _ = semg_factory(2, n_channels=3, n_times=600)
    hht = HHTTransformer(n_freq_bins=32, n_time_bins=16).fit(X)
    both = hht.transform(X)
    assert both.shape == (2, 3, 32, 16)
    for c in range(3):
        single = HHTTransformer(n_freq_bins=32, n_time_bins=16).fit_transform(X[:, c])
        np.testing.assert_array_equal(both[:, c], single[:, 0])


def test_variable_length_recordings(semg_factory):
    X, _ = semg_factory(3, n_channels=2, n_times=1500)
    recordings = [X[0][:, :700], X[1], X[2][:, :1111]]
    out = HHTTransformer(n_freq_bins=64, n_time_bins=48).fit_transform(recordings)
    assert out.shape == (3, 2, 64, 48)
    for i, rec in enumerate(recordings):
        alone = HHTTransformer(n_freq_bins=64, n_time_bins=48).fit_transform([rec])
        np.testing.assert_array_equal(out[i], alone[0])
    # every time column of every recording receives energy: the whole time axis
    # of each recording is spread over the n_time_bins columns
    assert np.all(out.sum(axis=2) > 0)


def test_flatten_and_rectangular_grid(semg_factory):
    X, _ = semg_factory(2, n_times=500)
    full = HHTTransformer(n_freq_bins=40, n_time_bins=10).fit_transform(X[:, 0])
    flat = HHTTransformer(n_freq_bins=40, n_time_bins=10, flatten=True).fit_transform(
        X[:, 0]
    )
    assert full.shape == (2, 1, 40, 10)
    assert flat.shape == (2, 400)
    np.testing.assert_array_equal(flat, full.reshape(2, -1))


def test_normalize_none_keeps_amplitude(semg_factory):
    X, _ = semg_factory(1, n_times=800)
    hht = HHTTransformer(normalize=None, n_freq_bins=32, n_time_bins=32)
    a = hht.fit_transform(X)
    b = hht.fit_transform(3.0 * X)
    np.testing.assert_allclose(b, 3.0 * a, rtol=1e-5)
    maxnorm = HHTTransformer(n_freq_bins=32, n_time_bins=32).fit_transform(3.0 * X)
    np.testing.assert_allclose(maxnorm[0, 0], a[0, 0] / a[0, 0].max(), rtol=1e-5)


def test_freq_range_spreads_rows_over_band(semg_factory):
    X, _ = semg_factory(1, n_times=2000)
    full = HHTTransformer(normalize=None, n_freq_bins=100).fit_transform(X)[0, 0]
    band = HHTTransformer(
        normalize=None, n_freq_bins=100, freq_range=(20, 250)
    ).fit_transform(X)[0, 0]
    # with [0, 500] Hz on 100 rows, 20-250 Hz is rows 3..49; the band version
    # uses all 100 rows for it, and drops the energy outside
    assert np.count_nonzero(band.sum(axis=1)) > np.count_nonzero(full[3:50].sum(axis=1))
    assert band.sum() < full.sum()
    with pytest.raises(ValueError, match="freq_range.*fs/2 = 500"):
        HHTTransformer(freq_range=(20, 600)).fit(X)


def test_same_output_for_any_n_jobs(semg_factory):
    X, _ = semg_factory(4, n_channels=2, n_times=500)
    kw = dict(n_freq_bins=32, n_time_bins=32)
    one = HHTTransformer(n_jobs=1, **kw).fit_transform(X)
    two = HHTTransformer(n_jobs=2, **kw).fit_transform(X)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("method", ["eemd", "ceemdan"])
def test_ensemble_methods_reproducible_across_n_jobs(semg_factory, method):
    X, _ = semg_factory(3, n_channels=1, n_times=300)
    kw = dict(method=method, emd_params={"trials": 4}, n_freq_bins=16, n_time_bins=16)
    a = HHTTransformer(random_state=7, n_jobs=1, **kw).fit_transform(X)
    b = HHTTransformer(random_state=7, n_jobs=2, **kw).fit_transform(X)
    c = HHTTransformer(random_state=8, n_jobs=1, **kw).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.max() == pytest.approx(1.0)


def test_progress_bar(semg_factory, capsys):
    X, _ = semg_factory(3, n_times=300)
    HHTTransformer(n_freq_bins=8, n_time_bins=8, progress=True).fit_transform(X[:, 0])
    assert "3/3" in capsys.readouterr().err


def test_flat_recordings_do_not_crash():
    hht = HHTTransformer(n_freq_bins=16, n_time_bins=8)
    out = hht.fit_transform(np.vstack([np.full(200, 3.0), np.zeros(200)]))
    # constant: all energy in the 0 Hz row, spread over time, normalised to 1
    assert np.all(out[0, 0, 0] > 0)
    assert out[0, 0, 0].max() == 1.0
    assert out[0, 0, 1:].sum() == 0
    # all zero: an all-zero matrix (nothing to normalise)
    assert not out[1].any()


def test_hilbert_spectrum_without_imfs_is_zero():
    assert not hilbert_spectrum(np.empty((0, 50)), 1000, 4, 4).any()


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "bad, match",
    [
        (np.nan, r"X\[1\] contains NaN values \(first at channel 0, sample 5\)"),
        (np.inf, r"X\[1\] contains infinite values"),
    ],
)
def test_non_finite_values_name_the_recording(semg_factory, bad, match):
    X, _ = semg_factory(3, n_times=300)
    X = X[:, 0].copy()
    X[1, 5] = bad
    with pytest.raises(ValueError, match=match):
        HHTTransformer().fit(X)


def test_empty_input():
    with pytest.raises(ValueError, match="X is empty: found 0 recordings"):
        HHTTransformer().fit(np.empty((0, 100)))
    with pytest.raises(ValueError, match="X is empty"):
        HHTTransformer().fit([])


def test_too_short_recording_names_index_and_minimum(semg_factory):
    X, _ = semg_factory(2, n_times=300)
    recordings = [X[0, 0], X[1, 0][: MIN_N_TIMES - 1]]
    with pytest.raises(
        ValueError,
        match=rf"X\[1\] has {MIN_N_TIMES - 1} samples.*at least {MIN_N_TIMES}",
    ):
        HHTTransformer().fit(recordings)


@pytest.mark.parametrize("fs", [0, -1000.0])
def test_non_positive_sampling_rate(semg_factory, fs):
    X, _ = semg_factory(1, n_times=300)
    with pytest.raises(ValueError, match="'fs' parameter of HHTTransformer must be"):
        HHTTransformer(fs=fs).fit(X)


def test_channel_count_must_match_fit(semg_factory):
    X, _ = semg_factory(2, n_channels=2, n_times=300)
    hht = HHTTransformer(n_freq_bins=8, n_time_bins=8).fit(X)
    with pytest.raises(ValueError, match=r"1 channel\(s\).*fitted with 2 channel"):
        hht.transform(X[:, 0])
    # one recording given without its batch axis: the hint says how to add it
    with pytest.raises(ValueError, match=r"X\[np.newaxis\] \(shape \(1, 2, 300\)\)"):
        hht.transform(X[0])


def test_mixed_channel_counts_in_a_list(semg_factory):
    X, _ = semg_factory(2, n_channels=2, n_times=300)
    with pytest.raises(ValueError, match=r"X\[1\] has 1 channels but X\[0\] has 2"):
        HHTTransformer().fit([X[0], X[1, 0]])


def test_non_numeric_data():
    X = np.array([["a"] * 100, ["b"] * 100])
    with pytest.raises(ValueError, match=r"X\[0\] contains non-numeric values"):
        HHTTransformer().fit(X)


def test_single_1d_recording_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        HHTTransformer().fit(np.zeros(500))


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HHTTransformer().transform(np.zeros((1, 100)))


# -------------------------------------------------------- scikit-learn use
def test_grid_search_over_hht_parameters(semg_factory):
    X, y = semg_factory(16, n_times=400, seed=3)
    pipe = Pipeline(
        [
            ("hht", HHTTransformer(flatten=True, n_time_bins=4)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"hht__n_freq_bins": [8, 16]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    )
    search.fit(X[:, 0], y)
    assert search.best_params_["hht__n_freq_bins"] in (8, 16)
    assert search.predict(X[:, 0]).shape == (16,)
    # the classes differ in spectrum, which the flattened HHT exposes
    assert search.best_score_ > 0.5


# ------------------------------------------- amplitude-preserving options
def test_global_normalisation_keeps_amplitude_and_channel_ratios(semg_factory):
    X, _ = semg_factory(6, n_channels=2, n_times=600)
    kw = dict(n_freq_bins=16, n_time_bins=8)
    raw = HHTTransformer(normalize=None, **kw).fit_transform(X)
    hht = HHTTransformer(normalize="global", **kw)
    out = hht.fit_transform(X)
    # one scale for every matrix: the median of the recordings' largest cell
    expected_scale = np.median(raw.reshape(6, -1).max(axis=1))
    assert hht.scale_ == pytest.approx(expected_scale, rel=1e-6)
    np.testing.assert_allclose(out, raw / expected_scale, rtol=1e-5)
    # make_semg scales channel c by 1 / (1 + c): channel 1 keeps about half
    # the energy of channel 0, which "max" normalisation would erase
    ratio = out[:, 1].sum() / out[:, 0].sum()
    assert 0.3 < ratio < 0.7
    maxed = HHTTransformer(**kw).fit_transform(X)
    assert maxed[:, 1].max() == maxed[:, 0].max() == 1.0


def test_global_scale_is_learned_on_training_data_only(semg_factory):
    X, _ = semg_factory(4, n_times=500)
    hht = HHTTransformer(normalize="global", n_freq_bins=16, n_time_bins=8).fit(X)
    np.testing.assert_allclose(hht.transform(X), hht.fit_transform(X), rtol=1e-6)
    scale = hht.scale_
    # louder test recordings come out louder: nothing is re-learned
    np.testing.assert_allclose(hht.transform(10 * X), 10 * hht.transform(X), rtol=1e-4)
    assert hht.scale_ == scale


def test_compression(semg_factory):
    X, _ = semg_factory(2, n_times=500)
    kw = dict(n_freq_bins=16, n_time_bins=8)
    plain = HHTTransformer(**kw).fit_transform(X)
    root = HHTTransformer(compression=0.5, **kw).fit_transform(X)
    np.testing.assert_allclose(root, np.sqrt(plain), rtol=1e-6)
    logged = HHTTransformer(compression="log", log_floor=1e-2, **kw).fit_transform(X)
    np.testing.assert_allclose(
        logged, np.log(plain + 1e-2) - np.log(1e-2), rtol=1e-5, atol=1e-6
    )
    assert logged[plain == 0].max() == 0  # empty cells stay empty
    assert logged.dtype == np.float32
    with pytest.raises(ValueError, match="'compression' parameter"):
        HHTTransformer(compression=2.0).fit(X)


# ------------------------------------------------------------ long recordings
_LONG_RECORDING = """
import sys
import numpy as np
from sklearn_semg import HHTTransformer
from sklearn_semg.datasets import make_semg

def status(key):
    line = [l for l in open("/proc/self/status") if l.startswith(key)][0]
    return int(line.split()[1]) * 1024

minutes = float(sys.argv[1])
X, _ = make_semg(1, n_times=int(2000 * 60 * minutes), fs=2000, random_state=0)
hht = HHTTransformer(fs=2000).fit(X[:, :, :4000])
hht.transform(X[:, :, :4000])  # the engine loaded before measuring
base = status("VmRSS")
out = hht.transform(X)
assert out.shape == (1, 1, 256, 256) and out.max() == 1.0
print(status("VmHWM") - base, X.nbytes)
"""


def _hht_peak_memory(minutes):
    result = subprocess.run(
        [sys.executable, "-c", _LONG_RECORDING, str(minutes)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(v) for v in result.stdout.split()]


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="needs Linux's /proc to measure"
)
def test_long_recording_memory_grows_by_a_few_dozen_signal_lengths():
    # What the HHT of a long recording holds at its peak, per sample of the
    # recording: its 11 IMFs and the sifting's work arrays, about 30 arrays
    # of its length (measured as the growth between a 1- and a 4-minute
    # recording, so that fixed costs cancel). It used to keep several
    # full-size arrays per IMF at once.
    peak_1, bytes_1 = _hht_peak_memory(1)
    peak_4, bytes_4 = _hht_peak_memory(4)
    per_signal_length = (peak_4 - peak_1) / (bytes_4 - bytes_1)
    assert 11 <= per_signal_length < 40, per_signal_length


def test_feature_names_of_the_matrices_and_their_pandas_table(semg_factory):
    import pandas as pd
    import sklearn

    X, _ = semg_factory(3, n_channels=2, n_times=300)
    hht = HHTTransformer(fs=1000, n_freq_bins=4, n_time_bins=3, max_imf=3).fit(X)
    # matrices: one name per channel, the next step's input_features
    assert hht.get_feature_names_out().tolist() == ["ch0", "ch1"]
    assert hht.get_feature_names_out(["FDS", "EDC"]).tolist() == ["FDS", "EDC"]
    with pytest.raises(ValueError, match="n_channels_ = 2.*got 3 name"):
        hht.get_feature_names_out(["a", "b", "c"])
    # set_output leaves matrices as arrays ...
    assert isinstance(hht.set_output(transform="pandas").transform(X), np.ndarray)
    # ... and gives a flattened table as a DataFrame, columns in output order
    flat = HHTTransformer(
        fs=1000, n_freq_bins=4, n_time_bins=3, max_imf=3, flatten=True
    ).fit(X)
    names = flat.get_feature_names_out(["FDS", "EDC"])
    assert len(names) == 2 * 4 * 3
    assert names[:4].tolist() == ["FDS_f0_t0", "FDS_f0_t1", "FDS_f0_t2", "FDS_f1_t0"]
    assert names[12] == "EDC_f0_t0"
    values = flat.transform(X)
    frame = flat.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == flat.get_feature_names_out().tolist()
    np.testing.assert_array_equal(frame.to_numpy(), values)
    # cell (channel 1, row 2, column 1) is where its name says
    matrices = hht.transform(X)
    assert frame["ch1_f2_t1"].tolist() == matrices[:, 1, 2, 1].tolist()
    # the global setting works as well, and "default" goes back to arrays
    flat.set_output(transform="default")
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(flat.transform(X), pd.DataFrame)
    assert isinstance(flat.transform(X), np.ndarray)
