"""SEMGFilter: zero-phase band-pass and mains notch (issue 14, item 1)."""

import numpy as np
import pytest
from scipy import signal
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_semg import EMGFeatures, SEMGFilter
from sklearn_semg.datasets import load_movements


def tones(fs, n_times, *freqs, n_channels=1):
    t = np.arange(n_times) / fs
    one = sum(np.sin(2 * np.pi * f * t) for f in freqs)
    return np.tile(one, (1, n_channels, 1))


def amplitude(x, fs, f):
    """Amplitude of the f Hz component (the middle half: no edge effects)."""
    n = x.shape[-1]
    mid = x[..., n // 4 : 3 * n // 4]
    t = np.arange(mid.shape[-1]) / fs
    return 2 * np.abs((mid * np.exp(-2j * np.pi * f * t)).mean(axis=-1)).max()


@pytest.mark.parametrize("mains", [50, 60])
def test_the_notch_removes_mains_and_its_harmonics_and_keeps_the_rest(mains):
    fs = 2000.0
    X = tones(fs, 8000, mains, 3 * mains, 85.0)
    Y = SEMGFilter(fs=fs, mains=mains).fit_transform(X)
    assert amplitude(Y, fs, mains) < 0.01 and amplitude(Y, fs, 3 * mains) < 0.01
    assert amplitude(Y, fs, 85.0) == pytest.approx(1.0, abs=0.02)
    # zero phase: the kept tone is where it was, sample for sample
    clean = tones(fs, 8000, 85.0)
    np.testing.assert_allclose(Y[..., 2000:6000], clean[..., 2000:6000], atol=0.03)


def test_the_band_pass_removes_drift_and_high_frequencies():
    fs = 2000.0
    X = tones(fs, 8000, 3.0, 100.0, 700.0)
    Y = SEMGFilter(fs=fs).fit_transform(X)  # 20-450 Hz
    assert amplitude(Y, fs, 3.0) < 0.01 and amplitude(Y, fs, 700.0) < 0.01
    assert amplitude(Y, fs, 100.0) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_auto_picks_the_mains_frequency_present(mains):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2, 3000)) + 3 * tones(1000, 3000, mains, n_channels=2)
    filt = SEMGFilter(fs=1000, mains="auto").fit(X)
    assert filt.mains_ == mains
    assert filt.notch_frequencies_[0] == mains


def test_on_the_bundled_recordings_auto_finds_60_hz_and_removes_the_120_hz_line():
    """The MioTracker channels carry a line near 120 Hz (a 60 Hz harmonic)."""
    data = load_movements()
    X = data.data[:40]
    filt = SEMGFilter(fs=data.fs, mains="auto").fit(X)
    assert filt.mains_ == 60.0
    # a clear choice: the 60 Hz lines stand 10 dB further out than any 50 Hz one
    assert filt.mains_prominence_[60.0] > filt.mains_prominence_[50.0] + 10
    Y = filt.transform(X)
    assert isinstance(Y, list) and [y.shape for y in Y] == [x.shape for x in X]

    def median_psd(recs):
        spectra = [signal.welch(r, fs=data.fs, nperseg=1001)[1] for r in recs]
        return np.median(spectra, axis=0)  # (channels, freqs)

    freqs = signal.welch(X[0], fs=data.fs, nperseg=1001)[0]
    gain = 10 * np.log10(median_psd(Y) / median_psd(X))
    at = lambda f: np.argmin(np.abs(freqs - f))  # noqa: E731
    assert (gain[:, at(120)] < -10).all()  # the line, on both channels
    assert (np.abs(gain[:, at(100)]) < 0.5).all()  # the band between lines


@pytest.mark.parametrize("fs, tone", [(200.0, 35.0), (10_000.0, 85.0)])
def test_stable_from_200_hz_to_10_khz(fs, tone):
    X = tones(fs, int(4 * fs), 50.0, tone)
    if fs == 200:
        with pytest.warns(UserWarning, match="too low for the band"):
            filt = SEMGFilter(fs=fs, mains=50).fit(X)
        assert filt.band_ == (20.0, 90.0)
    else:
        filt = SEMGFilter(fs=fs, mains=50).fit(X)
    Y = filt.transform(X)
    assert np.isfinite(Y).all()
    assert amplitude(Y, fs, 50.0) < 0.02
    assert amplitude(Y, fs, tone) == pytest.approx(1.0, abs=0.03)


def test_output_keeps_the_form_of_the_input():
    rng = np.random.default_rng(1)
    X2 = rng.standard_normal((3, 500))
    X3 = rng.standard_normal((3, 2, 500))
    ragged = [rng.standard_normal((2, 500)), rng.standard_normal((2, 700))]
    filt = SEMGFilter(fs=1000, mains=50)
    assert filt.fit_transform(X2).shape == (3, 500)
    out3 = filt.fit_transform(X3)
    assert out3.shape == (3, 2, 500)
    np.testing.assert_array_equal(filt.fit(X3).transform(X3), out3)
    out = filt.fit_transform(ragged)
    assert isinstance(out, list) and [o.shape for o in out] == [(2, 500), (2, 700)]
    # each recording filtered on its own: the same as alone
    np.testing.assert_allclose(out[1], filt.transform([ragged[1]])[0])
    assert SEMGFilter(freq_range=None).fit(X2).sos_.shape == (0, 6)
    np.testing.assert_array_equal(SEMGFilter(freq_range=None).fit_transform(X2), X2)


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({"freq_range": (20, 600)}, np.zeros((2, 500)), "'freq_range' parameter"),
        (
            {"mains": 600},
            np.zeros((2, 500)),
            "'mains' parameter of SEMGFilter must be below",
        ),
        ({"mains": "50Hz"}, np.zeros((2, 500)), "'mains' parameter of SEMGFilter"),
        ({}, np.full((2, 500), np.nan), r"X\[0\] contains NaN"),
        ({}, np.zeros((2, 5)), "fewer than min_n_times=16"),
    ],
)
def test_errors_name_the_parameter_or_the_recording(params, X, match):
    with pytest.raises(ValueError, match=match):
        SEMGFilter(fs=1000, **params).fit(X)


def test_channel_count_is_checked_at_transform():
    filt = SEMGFilter().fit(np.zeros((2, 3, 500)))
    with pytest.raises(ValueError, match="fitted with 3 channel"):
        filt.transform(np.zeros((2, 2, 500)))


def test_as_the_first_step_of_a_subject_wise_pipeline():
    data = load_movements()
    keep = np.isin(data.groups, np.unique(data.groups)[:4])
    X = [x[:, :1024] for x, k in zip(data.data, keep, strict=True) if k]
    y, groups = data.target[keep], data.groups[keep]
    pipe = make_pipeline(
        SEMGFilter(fs=data.fs, mains="auto"),
        EMGFeatures(fs=data.fs),
        StandardScaler(),
        SVC(),
    )
    scores = cross_val_score(pipe, X, y, groups=groups, cv=GroupKFold(4))
    assert scores.shape == (4,) and (scores > 0.2).mean() >= 0.5  # above chance


def test_every_factory_takes_a_filter_step_off_by_default():
    from sklearn_semg import (
        make_cnn_svm_pipeline,
        make_end_to_end_pipeline,
        make_method_comparison,
        make_recommended_pipeline,
    )

    factories = {
        "cnn-svm": make_cnn_svm_pipeline,
        "end-to-end": make_end_to_end_pipeline,
        "comparison": lambda **kw: make_method_comparison(**kw)[0],
        "recommended": make_recommended_pipeline,
    }
    for name, make in factories.items():
        assert make(fs=2000).steps[0][0] != "filter", name
        pipe = make(fs=2000, filter=True)
        step = pipe.named_steps["filter"]
        assert pipe.steps[0][0] == "filter", name
        assert (step.fs, step.mains, step.freq_range) == (2000, "auto", "semg")
        custom = make(fs=2000, filter={"mains": 50, "freq_range": (10, 400)})
        assert custom.named_steps["filter"].get_params()["freq_range"] == (10, 400)
    with pytest.raises(ValueError, match="'filter' parameter of make_cnn_svm_pipeline"):
        make_cnn_svm_pipeline(hht=False, filter=True)
    with pytest.raises(TypeError, match="a dict of SEMGFilter parameters"):
        make_recommended_pipeline(filter="yes")


def test_the_recommended_pipeline_with_its_filter_cross_validates():
    from sklearn_semg import make_recommended_pipeline

    data = load_movements()
    keep = np.isin(data.groups, np.unique(data.groups)[:4])
    X = [x[:, :1024] for x, k in zip(data.data, keep, strict=True) if k]
    y, groups = data.target[keep], data.groups[keep]
    pipe = make_recommended_pipeline(fs=data.fs, filter=True)
    scores = cross_val_score(pipe, X, y, groups=groups, cv=GroupKFold(4))
    assert scores.shape == (4,) and scores.mean() > 0.3  # chance 0.2
