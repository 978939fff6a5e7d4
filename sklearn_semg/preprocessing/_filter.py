"""SEMGFilter: zero-phase band-pass and mains notch for raw recordings."""

from numbers import Integral, Real

import numpy as np
from scipy import signal
from sklearn.base import BaseEstimator, TransformerMixin

from ..utils._base import ChannelOutputMixin, RecordingsMixin
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils._validation import MIN_N_TIMES

__all__ = ["SEMGFilter"]

#: Mains frequencies that ``mains="auto"`` chooses between.
MAINS_FREQUENCIES = (50.0, 60.0)


class SEMGFilter(
    ChannelOutputMixin,
    RecordingsMixin,
    TransformerMixin,
    BaseEstimator,
    auto_wrap_output_keys=None,
):
    """Zero-phase band-pass and mains notch filter for raw sEMG.

    Every channel of every recording goes through one cascade of
    second-order sections (:func:`scipy.signal.sosfiltfilt`, forward and
    backward, so no phase shift): a Butterworth band-pass over
    ``freq_range`` and, with ``mains``, an IIR notch at the mains frequency
    and at each of its harmonics inside the pass band. The input forms are
    those of :class:`~sklearn_semg.HHTTransformer`, and the output keeps the
    form of the input (recordings of one length come back as an array of the
    input's shape, recordings of different lengths as a list), so the filter
    can be the first step of any pipeline on raw recordings.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the recordings, in Hz.
    freq_range : tuple of (float, float), "semg" or None, default="semg"
        Pass band ``(f_min, f_max)`` in Hz. ``"semg"``: 20 to 450 Hz, its
        upper edge lowered to ``0.45 * fs`` (with a warning) when the
        sampling rate is too low. ``None``: no band-pass (notch only).
    mains : {50, 60, "auto"} or None, default=None
        Mains frequency to notch out, with its harmonics. ``"auto"`` picks at
        ``fit`` the one whose lines stand out more above the neighbouring
        spectrum of the training recordings (``mains_``). ``None``: no notch.
    n_harmonics : int or None, default=None
        Number of mains lines to notch (1: the fundamental only). ``None``:
        every harmonic inside the pass band (below ``0.45 * fs`` without a
        band-pass).
    order : int, default=4
        Order of the Butterworth band-pass (the zero-phase response is its
        square).
    quality : float, default=30.0
        Quality factor of each notch: its -3 dB width is ``f / quality``
        (2 Hz at 60 Hz).
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`). A recording shorter than
        the filter's edge padding is filtered with a padding of its own
        length less one.

    Attributes
    ----------
    n_channels_ : int
        Number of channels seen at ``fit``.
    band_ : tuple of (float, float) or None
        The pass band used, in Hz.
    mains_ : float or None
        The mains frequency notched (resolved from ``"auto"``).
    mains_prominence_ : dict or None
        With ``mains="auto"``: ``{50.0: dB, 60.0: dB}``, how far the
        strongest line of each stands above its neighbouring spectrum in the
        training recordings. Two similar, small values mean no clear mains
        line: the choice is then a toss-up.
    notch_frequencies_ : ndarray of shape (n_notches,)
        The frequencies notched, in Hz.
    sos_ : ndarray of shape (n_sections, 6)
        The whole cascade, as :func:`scipy.signal.sosfiltfilt` takes it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.preprocessing import SEMGFilter
    >>> t = np.arange(2000) / 1000
    >>> X = np.sin(2 * np.pi * 60 * t)[None] + np.sin(2 * np.pi * 150 * t)[None]
    >>> filt = SEMGFilter(fs=1000, mains="auto").fit(X)
    >>> filt.mains_, filt.notch_frequencies_.tolist()
    (60.0, [60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0])
    >>> Y = filt.transform(X)
    >>> bool(np.abs(Y[0, 500:1500] - np.sin(2 * np.pi * 150 * t[500:1500])).max() < 0.05)
    True
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "freq_range": [tuple, list, StrOptions({"semg"}), None],
        "mains": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
            None,
        ],
        "n_harmonics": [Interval(Integral, 1, None, closed="left"), None],
        "order": [Interval(Integral, 1, 16, closed="both")],
        "quality": [Interval(Real, 0, None, closed="neither")],
        "min_n_times": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        fs=1000.0,
        freq_range="semg",
        mains=None,
        n_harmonics=None,
        order=4,
        quality=30.0,
        min_n_times=MIN_N_TIMES,
    ):
        self.fs = fs
        self.freq_range = freq_range
        self.mains = mains
        self.n_harmonics = n_harmonics
        self.order = order
        self.quality = quality
        self.min_n_times = min_n_times

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Design the filter (and pick the mains frequency for ``"auto"``).

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings.
        y : None
            Ignored.

        Returns
        -------
        self : SEMGFilter
            Fitted filter.
        """
        recordings = self._validate_recordings(X, reset=True)
        fs = float(self.fs)
        band = self._check_freq_range(default=None)
        if band is not None and band[0] <= 0:
            band = (None, band[1])  # a low-pass from 0 Hz
        prominence = None
        if self.mains is None:
            mains = None
        elif isinstance(self.mains, str):
            prominence = _mains_prominence(recordings, fs)
            mains = max(MAINS_FREQUENCIES, key=lambda m: prominence[m])
        else:
            mains = float(self.mains)
            if mains >= fs / 2:
                raise ValueError(
                    f"The 'mains' parameter of SEMGFilter must be below fs/2 = "
                    f"{fs / 2:g} Hz; got {self.mains!r} (with fs={self.fs!r})."
                )
        top = band[1] if band is not None else 0.45 * fs
        notches = []
        if mains is not None:
            count = int(top // mains)
            if self.n_harmonics is not None:
                count = min(count, int(self.n_harmonics))
            notches = [mains * k for k in range(1, count + 1) if mains * k < fs / 2]
        sections = []
        if band is not None:
            low, high = band
            if low is None:
                sos = signal.butter(
                    self.order, high, btype="lowpass", fs=fs, output="sos"
                )
            else:
                sos = signal.butter(
                    self.order, [low, high], btype="bandpass", fs=fs, output="sos"
                )
            sections.append(sos)
        for f in notches:
            b, a = signal.iirnotch(f, float(self.quality), fs=fs)
            sections.append(signal.tf2sos(b, a))
        self.band_ = None if band is None else (band[0] or 0.0, band[1])
        self.mains_ = mains
        self.mains_prominence_ = prominence
        self.notch_frequencies_ = np.asarray(notches, dtype=float)
        self.sos_ = np.concatenate(sections) if sections else np.empty((0, 6))
        return self

    def transform(self, X):
        """Filter every channel of every recording (zero phase).

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings, with the number of channels seen at ``fit``.

        Returns
        -------
        X_filtered : ndarray of shape (n_recordings, [n_channels,] n_times), \
                or list of ndarray of shape (n_channels, n_times_i)
            float64: an array when the recordings have one length (2-D for
            2-D input), else a list.
        """
        recordings = self._validate_recordings(X, reset=False)
        out = [self._filter(rec) for rec in recordings]
        if len({rec.shape[-1] for rec in out}) > 1:
            return out  # recordings of different lengths: a list again
        stacked = np.stack(out)
        return stacked[:, 0] if _input_ndim(X) == 2 else stacked

    def _filter(self, recording):
        recording = np.array(recording, dtype=np.float64)  # (read-only input)
        if len(self.sos_) == 0:
            return recording
        n_times = recording.shape[-1]
        sos = np.array(
            self.sos_
        )  # scipy writes into it (a loaded model's is read-only)
        padlen = 3 * (
            2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
        )
        return signal.sosfiltfilt(
            sos, recording, axis=-1, padlen=min(padlen, n_times - 1)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags


def _input_ndim(X):
    """2 when ``X`` is a table of single-channel recordings, else 3."""
    try:
        return 2 if np.asarray(X).ndim == 2 else 3
    except ValueError:  # ragged nesting
        return 3


def _mains_prominence(recordings, fs):
    """``{50.0: dB, 60.0: dB}``: how far the strongest line of each mains
    frequency (fundamental or harmonic below ``0.45 * fs``) stands above its
    neighbourhood (3 to 10 Hz away), in the Welch spectra of the channels."""
    spectra = []
    for rec in recordings:
        nperseg = min(rec.shape[-1], int(fs))  # about 1 Hz bins
        freqs, power = signal.welch(rec, fs=fs, nperseg=nperseg, axis=-1)
        spectra.append((freqs, power.reshape(-1, len(freqs))))
    prominence = {}
    for mains in MAINS_FREQUENCIES:
        best = -np.inf
        for freqs, power in spectra:
            width = max(freqs[1] - freqs[0], 1.0)
            for k in range(1, int(0.45 * fs // mains) + 1):
                distance = np.abs(freqs - mains * k)
                line, near = (
                    distance <= width,
                    (distance > 3 * width) & (distance <= 10 * width),
                )
                if line.any() and near.any():
                    peak = power[:, line].max(axis=1)
                    floor = np.maximum(np.median(power[:, near], axis=1), 1e-300)
                    best = max(
                        best, float(np.max(10 * np.log10(peak / floor + 1e-300)))
                    )
        prominence[mains] = best
    return prominence
