"""Realistic synthetic sEMG: band-limited noise modulated by activation bursts."""

from numbers import Integral, Real

import numpy as np
from scipy.signal import butter, sosfiltfilt
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, validate_params

__all__ = ["make_semg"]


@validate_params(
    {
        "n_recordings": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "n_times": [Interval(Integral, 16, None, closed="left")],
        "fs": [Interval(Real, 0, None, closed="neither")],
        "band": [tuple],
        "n_classes": [Interval(Integral, 1, None, closed="left")],
        "n_bursts": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_semg(
    n_recordings=20,
    *,
    n_channels=1,
    n_times=1000,
    fs=1000.0,
    band=(20.0, 450.0),
    n_classes=2,
    n_bursts=3,
    random_state=None,
):
    """Generate realistic raw sEMG recordings with a class-dependent spectrum.

    Each channel is white noise band-pass filtered to ``band`` (4th-order
    Butterworth, zero phase), multiplied by an activation envelope made of
    ``n_bursts`` Hann-shaped bursts on a 10 % baseline, the interference-pattern
    model of surface EMG. Class ``k`` shifts the spectrum down by a first-order
    low-pass whose corner falls with ``k`` (as muscle fatigue lowers the median
    frequency) and raises the burst amplitude, so classes are separable by
    their time-frequency content. Channel ``c`` is scaled by ``1 / (1 + c)``.

    Parameters
    ----------
    n_recordings : int, default=20
        Number of recordings.
    n_channels : int, default=1
        Channels per recording.
    n_times : int, default=1000
        Samples per recording.
    fs : float, default=1000.0
        Sampling rate in Hz.
    band : tuple of (float, float), default=(20.0, 450.0)
        Pass band in Hz; the upper edge must be below ``fs / 2``.
    n_classes : int, default=2
        Number of classes, balanced (labels ``0 .. n_classes - 1``).
    n_bursts : int, default=3
        Activation bursts per recording.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise, the burst positions and the class order.

    Returns
    -------
    X : ndarray of shape (n_recordings, n_channels, n_times)
        float64 signals in arbitrary units (about unit amplitude in bursts).
    y : ndarray of shape (n_recordings,)
        Integer class labels.

    Examples
    --------
    >>> from sklearn_semg.datasets import make_semg
    >>> X, y = make_semg(6, n_channels=2, n_times=500, n_classes=3, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((6, 2, 500), [0, 1, 2])
    """
    low, high = band
    if not 0 < low < high < fs / 2:
        raise ValueError(
            f"band must satisfy 0 < low < high < fs/2 = {fs / 2:g} Hz; got {band!r}."
        )
    rng = check_random_state(random_state)
    y = rng.permutation(np.arange(n_recordings) % n_classes)
    sos_band = butter(4, [low, high], btype="bandpass", fs=fs, output="sos")
    X = np.empty((n_recordings, n_channels, n_times))
    for i, label in enumerate(y):
        corner = high * (0.6**label)
        sos_tilt = butter(
            1, min(corner, 0.99 * fs / 2), btype="lowpass", fs=fs, output="sos"
        )
        envelope = np.full(n_times, 0.1)
        width = max(n_times // (2 * max(n_bursts, 1)), 8)
        for _ in range(n_bursts):
            start = rng.randint(0, max(n_times - width, 1))
            stop = min(start + width, n_times)
            envelope[start:stop] += (1 + 0.3 * label) * np.hanning(stop - start)
        for c in range(n_channels):
            noise = rng.standard_normal(n_times + 200)
            signal = sosfiltfilt(sos_tilt, sosfiltfilt(sos_band, noise))[100:-100]
            signal /= signal.std()
            X[i, c] = envelope * signal / (1 + c) + 0.01 * rng.standard_normal(n_times)
    return X, y
