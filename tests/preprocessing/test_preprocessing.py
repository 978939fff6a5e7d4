"""SEMGFilter: zero-phase band-pass and mains notch (issue 14, item 1)."""

import numpy as np
import pandas as pd
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


# -- window_recordings (issue 14, item 2) -------------------------------------
def bundled_windows(n_subjects, window_s, step_s):
    """Windows of the bundled recordings of the first subjects, labelled by
    their recording's movement, grouped by subject."""
    from sklearn_semg.preprocessing import window_recordings

    data = load_movements()
    keep = np.flatnonzero(np.isin(data.groups, np.unique(data.groups)[:n_subjects]))
    return window_recordings(
        [data.data[i] for i in keep], fs=data.fs, window_s=window_s, step_s=step_s,
        labels=data.target[keep], subjects=data.groups[keep],
    )  # fmt: skip


def test_windows_are_the_slices_with_their_times_labels_and_groups():
    from sklearn_semg.preprocessing import window_recordings

    rng = np.random.default_rng(2)
    X = [rng.standard_normal((2, 10_000)), rng.standard_normal((2, 7_500))]
    w = window_recordings(
        X, fs=1000, window_s=2, step_s=1, labels=["a", "b"], subjects=[3, 4],
        sessions=["s1", "s2"],
    )  # fmt: skip
    assert len(w.data) == 9 + 6 and w.data.shape[1:] == (2, 2000)
    for piece, row in zip(w.data, w.metadata.itertuples(), strict=True):
        start = int(round(row.start_s * 1000))
        np.testing.assert_array_equal(piece, X[row.recording][:, start : start + 2000])
    assert w.target.tolist() == ["a"] * 9 + ["b"] * 6
    assert w.groups.tolist() == [3] * 9 + [4] * 6
    assert w.metadata["session"].tolist() == ["s1"] * 9 + ["s2"] * 6
    assert w.metadata["stop_s"].iloc[-1] == 7.0  # the incomplete window is not made
    assert len(w.dropped) == 0


def test_annotations_label_the_windows_they_cover_and_the_rest_is_reported():
    from sklearn_semg.preprocessing import window_recordings

    X = np.random.default_rng(3).standard_normal((1, 1, 6000))
    annotations = pd.DataFrame(
        {"recording": [0, 0], "start_s": [0.0, 3.5], "stop_s": [3.0, 6.0],
         "label": ["rest", "grip"]}
    )  # fmt: skip
    with pytest.warns(UserWarning, match="dropped 1 of 6 windows.*not covered"):
        w = window_recordings(X, fs=1000, window_s=1, annotations=annotations)
    assert w.target.tolist() == ["rest"] * 3 + ["grip"] * 2
    assert w.metadata["start_s"].tolist() == [0.0, 1.0, 2.0, 4.0, 5.0]
    # the window 3-4 s is covered by no annotation ("grip" starts at 3.5 s)
    assert w.dropped["start_s"].tolist() == [3.0]
    assert set(w.dropped["reason"]) == {"not covered by one annotation"}


def test_the_activity_detector_drops_quiet_windows_with_a_report():
    from sklearn_semg.preprocessing import window_recordings

    rng = np.random.default_rng(4)
    burst = rng.standard_normal(4000)
    burst[1000:2000] *= 0.01  # one quiet second
    with pytest.warns(UserWarning, match="1 inactive"):
        w = window_recordings(burst[None], fs=1000, window_s=1, activity=0.5)
    assert w.metadata["start_s"].tolist() == [0.0, 2.0, 3.0]
    assert w.dropped["start_s"].tolist() == [1.0]


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({"window_s": 2}, [np.zeros((1, 3000)), np.zeros((1, 1500))],
         r"X\[1\] has 1500 samples \(1.5 s\), fewer than one window"),
        ({"window_s": 1, "annotations": pd.DataFrame(
            {"recording": [0], "start_s": [2.0], "stop_s": [9.0], "label": ["x"]})},
         [np.zeros((1, 3000))], "annotations row 0 spans 2.0 to 9.0 s, outside"),
        ({"window_s": 1, "annotations": pd.DataFrame(
            {"recording": [5], "start_s": [0.0], "stop_s": [1.0], "label": ["x"]})},
         [np.zeros((1, 3000))], "names recording 5"),
        ({"window_s": 1, "labels": ["a", "b"]}, [np.zeros((1, 3000))],
         "labels must hold one value per recording"),
        ({"window_s": 0}, [np.zeros((1, 3000))], "window_s must be a positive"),
        ({"window_s": 1}, [np.full((1, 3000), np.nan)], r"X\[0\] contains NaN"),
    ],
)  # fmt: skip
def test_window_errors_name_the_parameter_or_the_recording(kwargs, X, match):
    from sklearn_semg.preprocessing import window_recordings

    with pytest.raises(ValueError, match=match):
        window_recordings(X, fs=1000, **kwargs)


def test_windows_of_real_recordings_cross_validate_by_subject_with_calibration():
    """Windows of the bundled recordings: groups for GroupKFold and for the
    per-subject calibration, straight from window_recordings."""
    import sklearn

    from sklearn_semg import make_recommended_pipeline

    data = load_movements()
    w = bundled_windows(n_subjects=4, window_s=0.5, step_s=0.5)
    assert set(np.unique(w.groups)) == set(np.unique(data.groups)[:4])
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_recommended_pipeline(fs=data.fs, per_subject=True)
        scores = cross_val_score(
            pipe, w.data, w.target, cv=GroupKFold(4), params={"groups": w.groups},
        )  # fmt: skip
    assert scores.shape == (4,) and scores.mean() > 0.3  # chance 0.2


# -- majority_vote (issue 14, item 5) ------------------------------------------
def test_majority_vote_is_causal_within_each_recording():
    from sklearn_semg.preprocessing import majority_vote

    y = np.array(["a", "b", "b", "a", "b", "a", "a"])
    rec = np.array([0, 0, 0, 0, 1, 1, 1])
    voted = majority_vote(y, rec, k=3)
    # recording 0: a | a,b -> b (tie: most recent) | a,b,b -> b | b,b,a -> b;
    # recording 1 starts afresh: b | b,a -> a | b,a,a -> a
    assert voted.tolist() == ["a", "b", "b", "b", "b", "a", "a"]
    np.testing.assert_array_equal(majority_vote(y, rec, k=1), y)
    # interleaved recordings: the votes follow each recording's own order
    order = np.array([0, 4, 1, 5, 2, 6, 3])
    np.testing.assert_array_equal(
        majority_vote(y[order], rec[order], k=3), voted[order]
    )
    with pytest.raises(ValueError, match="k must be a positive int"):
        majority_vote(y, rec, k=0)
    with pytest.raises(ValueError, match="one value per window"):
        majority_vote(y, rec[:3])


def test_majority_vote_inside_subject_wise_cross_validation():
    """Windows of the bundled recordings (one movement per recording): votes
    over the last 5 windows of a recording beat the single windows."""
    from sklearn.model_selection import cross_val_predict

    from sklearn_semg.preprocessing import majority_vote

    w = bundled_windows(n_subjects=6, window_s=0.25, step_s=0.125)
    pipe = make_pipeline(EMGFeatures(fs=w.fs), StandardScaler(), SVC())
    y_pred = cross_val_predict(
        pipe, w.data, w.target, groups=w.groups, cv=GroupKFold(3)
    )
    voted = majority_vote(y_pred, w.metadata["recording"], k=5)
    single, smoothed = np.mean(y_pred == w.target), np.mean(voted == w.target)
    assert smoothed > single > 0.2  # chance 0.2


def test_filter_and_decomposer_name_the_channels():
    from sklearn_semg import EMDDecomposer

    X = np.random.default_rng(0).standard_normal((2, 3, 400))
    for step in (SEMGFilter(fs=1000.0), EMDDecomposer(max_imf=2)):
        step.fit(X)
        assert step.get_feature_names_out().tolist() == ["ch0", "ch1", "ch2"]
        assert step.get_feature_names_out(list("abc")).tolist() == ["a", "b", "c"]
        with pytest.raises(ValueError, match="input_features"):
            step.get_feature_names_out("abc")
        # their output is not a table: set_output keeps it an array
        out = step.set_output(transform="pandas").transform(X)
        assert isinstance(out, np.ndarray)
