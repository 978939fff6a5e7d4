"""EMGFeatures: the classic time-domain and spectral sEMG feature baseline."""

import difflib
from numbers import Integral, Real

import numpy as np
from scipy.signal import welch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..utils._base import RecordingsMixin
from ..utils._validation import MIN_N_TIMES, first_non_finite

__all__ = ["EMGFeatures"]

#: Features computed when ``features=None``, in output order.
DEFAULT_FEATURES = ("mav", "rms", "wl", "zc", "ssc", "var", "mnf", "mdf")
#: Every feature EMGFeatures knows, in the order they are documented.
AVAILABLE_FEATURES = (*DEFAULT_FEATURES, "iemg", "wamp", "pkf")
#: Features that need the Welch power spectral density.
_SPECTRAL = frozenset({"mnf", "mdf", "pkf"})
#: Counts and sums over samples, divided by n_times when normalize_length=True.
_LENGTH_DEPENDENT = frozenset({"wl", "zc", "ssc", "wamp"})


def _channel_names(input_features, n_channels, estimator_name):
    """Channel prefixes of the output feature names.

    ``input_features`` of the feature transformers name the channels, since the
    columns of their input are time samples, not features.
    """
    if input_features is None:
        return [f"ch{c}" for c in range(n_channels)]
    if isinstance(input_features, str):
        raise ValueError(
            f"{estimator_name}.get_feature_names_out: input_features must be a list "
            f"of {n_channels} channel name(s), one per channel; got the string "
            f"{input_features!r}."
        )
    names = [str(name) for name in input_features]
    if len(names) != n_channels:
        raise ValueError(
            f"{estimator_name}.get_feature_names_out: input_features should have "
            f"length equal to the number of channels seen at fit, n_channels_ = "
            f"{n_channels} (one name per channel: the columns of X are time "
            f"samples, not features); got {len(names)} name(s)."
        )
    return names


def _median_frequency(freqs, power):
    """Frequency that splits ``power`` (last axis) into two equal halves.

    Every PSD value is spread uniformly over its bin, ``[f - df/2, f + df/2]``
    clipped to ``[0, fs/2]``, and the cumulative power is interpolated linearly,
    so a spectral peak symmetric around one bin gives that bin's frequency
    exactly rather than a frequency one bin too low or too high.
    """
    df = freqs[1] - freqs[0] if len(freqs) > 1 else 1.0
    upper = np.minimum(freqs + df / 2, freqs[-1])
    edges = np.concatenate([[0.0], upper])
    cumulative = np.concatenate(
        [np.zeros(power.shape[:-1] + (1,)), np.cumsum(power, axis=-1)], axis=-1
    )
    out = np.zeros(power.shape[:-1])
    for c in range(power.shape[0]):
        total = cumulative[c, -1]
        if total > 0:
            out[c] = np.interp(total / 2, cumulative[c], edges)
    return out


def _recording_features(rec, features, *, fs, threshold, normalize_length, nperseg):
    """Features of one recording ``(n_channels, n_times)``: ``(n_channels, k)``."""
    n_times = rec.shape[1]
    diff = np.diff(rec, axis=1)
    abs_diff = np.abs(diff)
    thr = threshold * rec.std(axis=1, keepdims=True)
    values = {}
    if _SPECTRAL.intersection(features):
        freqs, psd = welch(rec, fs=fs, nperseg=min(nperseg, n_times), axis=-1)
        total = psd.sum(axis=1)
        safe_total = np.where(total > 0, total, 1.0)
        values["mnf"] = np.sum(psd * freqs, axis=1) / safe_total
        values["mdf"] = _median_frequency(freqs, psd)
        values["pkf"] = np.where(total > 0, freqs[np.argmax(psd, axis=1)], 0.0)
    for name in features:
        if name in values:
            continue
        if name == "mav":
            value = np.mean(np.abs(rec), axis=1)
        elif name == "rms":
            value = np.sqrt(np.mean(rec**2, axis=1))
        elif name == "var":
            value = np.var(rec, axis=1, ddof=1)
        elif name == "iemg":
            value = np.sum(np.abs(rec), axis=1)
        elif name == "wl":
            value = abs_diff.sum(axis=1)
        elif name == "zc":
            # zero counts as positive, so a crossing through an exact zero
            # sample is counted once
            positive = rec >= 0
            crossing = (positive[:, :-1] != positive[:, 1:]) & (abs_diff >= thr)
            value = crossing.sum(axis=1).astype(np.float64)
        elif name == "ssc":
            extremum = diff[:, :-1] * diff[:, 1:] < 0
            steep = np.maximum(abs_diff[:, :-1], abs_diff[:, 1:]) >= thr
            value = (extremum & steep).sum(axis=1).astype(np.float64)
        elif name == "wamp":
            value = (abs_diff > thr).sum(axis=1).astype(np.float64)
        else:  # pragma: no cover - names are validated in fit
            raise AssertionError(name)
        if normalize_length and name in _LENGTH_DEPENDENT:
            value = value / n_times
        values[name] = value
    return np.column_stack([values[name] for name in features])


class _PerChannelFeatures(RecordingsMixin, TransformerMixin, BaseEstimator):
    """Transformers of raw recordings into a fixed set of features per channel.

    Subclasses set ``n_channels_`` (through ``_validate_recordings``) and
    ``channel_feature_names_`` at ``fit``.
    """

    def _check_finite_output(self, out):
        """``out``, or a ValueError naming the first recording whose features
        overflowed (recordings of an absurd magnitude)."""
        bad = first_non_finite(out)
        if bad is not None:
            raise ValueError(
                f"{type(self).__name__}: the features of X[{bad[0]}] are not finite: "
                "its samples are too large in magnitude for float64 arithmetic "
                "(squares overflow above about 1e154); rescale the recordings, "
                "e.g. to millivolts."
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, ``"{channel}_{feature}"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names, one per channel (the columns of ``X`` are time
            samples, so they have no names of their own); ``None`` names the
            channels ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_channels_ * n_features_per_channel`` names, e.g. ``"ch0_mav"``
            or ``"ch0_hht_mdf"``.
        """
        check_is_fitted(self)
        channels = _channel_names(input_features, self.n_channels_, type(self).__name__)
        return np.asarray(
            [f"{ch}_{name}" for ch in channels for name in self.channel_feature_names_],
            dtype=object,
        )


class EMGFeatures(_PerChannelFeatures):
    """Classic time-domain and spectral sEMG features, per channel.

    The hand-crafted baseline of surface-EMG pattern recognition (Hudgins et
    al. 1993; Phinyomark et al. 2012): amplitude, complexity and frequency
    features of every channel of every recording, one row per recording. It
    accepts the same raw inputs as :class:`~sklearn_semg.HHTTransformer`,
    including lists of recordings of different lengths, and feeds a scaler and
    classifier in a :class:`~sklearn.pipeline.Pipeline`.

    Available features (``x`` is one channel of ``n`` samples, ``thr`` is
    ``threshold * std(x)``):

    - ``"mav"``: mean absolute value, ``mean(|x|)``.
    - ``"rms"``: root mean square, ``sqrt(mean(x**2))``.
    - ``"wl"``: waveform length, ``sum(|x[k+1] - x[k]|)``.
    - ``"zc"``: zero crossings, the number of ``k`` where ``x[k]`` and
      ``x[k+1]`` lie on different sides of zero (a sample equal to zero counts
      as positive) and ``|x[k+1] - x[k]| >= thr``.
    - ``"ssc"``: slope sign changes, the number of strict local extrema
      ``x[k]`` (``(x[k] - x[k-1]) * (x[k] - x[k+1]) > 0``) where
      ``max(|x[k] - x[k-1]|, |x[k] - x[k+1]|) >= thr``.
    - ``"var"``: variance, ``var(x)`` with ``ddof=1``.
    - ``"mnf"``: mean frequency of the Welch power spectral density, in Hz.
    - ``"mdf"``: median frequency of the Welch PSD (splits its power into two
      equal halves; each PSD bin is spread over its width), in Hz.
    - ``"iemg"``: integrated EMG, ``sum(|x|)``. Never divided by the length:
      use ``"mav"`` to compare recordings of different lengths.
    - ``"wamp"``: Willison amplitude, the number of ``k`` with
      ``|x[k+1] - x[k]| > thr``.
    - ``"pkf"``: peak frequency, where the Welch PSD is largest, in Hz.

    The default, ``features=None``, computes the first eight
    (``mav, rms, wl, zc, ssc, var, mnf, mdf``). Frequency features of a
    channel without power (all constant) are 0 Hz. The recordings are used as
    given: remove any DC offset (e.g. the mid-scale of an ADC) first, as zero
    crossings are counted around zero.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the recordings, in Hz.
    features : list of str or None, default=None
        Names of the features to compute, in output order, from the list
        above; ``None`` computes the eight default ones.
    threshold : float, default=0.0
        Noise threshold of ``"zc"``, ``"ssc"`` and ``"wamp"``, as a fraction of
        each channel's standard deviation (so it does not depend on the units
        or the gain): a crossing, slope change or amplitude step smaller than
        ``threshold * std(x)`` is not counted. ``0`` counts every one (for
        ``"wamp"``, every non-zero step). Values of 0.01 to 0.1 reject
        low-amplitude noise.
    normalize_length : bool, default=True
        Divide ``"wl"``, ``"zc"``, ``"ssc"`` and ``"wamp"`` by the number of
        samples of the recording, so that recordings of different lengths are
        comparable (``"zc" * fs`` is then the zero-crossing rate in 1/s).
        ``False`` gives the raw sums and counts.
    nperseg : int, default=256
        Length of the Welch segments (Hann window, 50 % overlap) for the
        frequency features; a recording shorter than ``nperseg`` is one segment.
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`). Shorter ones raise a
        ``ValueError`` that names them: it is most often an array passed as
        ``(n_times, n_recordings)`` instead of ``(n_recordings, n_times)``.

    Attributes
    ----------
    n_channels_ : int
        Number of channels per recording seen at ``fit``.
    channel_feature_names_ : ndarray of shape (n_features_per_channel,), dtype=object
        The features computed for each channel, in output order.

    See Also
    --------
    HHTFeatures : Features read off the Hilbert spectrum.
    sklearn_semg.HHTTransformer : Full Hilbert-Huang time-frequency matrices.

    Notes
    -----
    The output is channel-major: the features of channel 0 come first, then
    those of channel 1, and so on, as named by ``get_feature_names_out()``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.features import EMGFeatures
    >>> t = np.arange(1000) / 1000.0                     # 1 s at 1000 Hz
    >>> X = np.stack([2 * np.sin(2 * np.pi * 50 * t),    # one recording,
    ...               np.sin(2 * np.pi * 125 * t)])[np.newaxis]  # 2 channels
    >>> feats = EMGFeatures(features=["rms", "zc", "mdf"]).fit(X)
    >>> feats.get_feature_names_out().tolist()
    ['ch0_rms', 'ch0_zc', 'ch0_mdf', 'ch1_rms', 'ch1_zc', 'ch1_mdf']
    >>> feats.transform(X).round(2).tolist()   # rms = A / sqrt(2), zc = 2 f / fs
    [[1.41, 0.1, 50.17, 0.71, 0.25, 125.0]]
    >>> EMGFeatures().fit_transform([np.ones(300), np.ones(500)]).shape
    (2, 8)
    """

    _parameter_constraints: dict = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "features": [list, tuple, None],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "normalize_length": ["boolean"],
        "nperseg": [Interval(Integral, 2, None, closed="left")],
        "min_n_times": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        fs=1000.0,
        features=None,
        threshold=0.0,
        normalize_length=True,
        nperseg=256,
        min_n_times=MIN_N_TIMES,
    ):
        self.fs = fs
        self.features = features
        self.threshold = threshold
        self.normalize_length = normalize_length
        self.nperseg = nperseg
        self.min_n_times = min_n_times

    def _check_features(self):
        if self.features is None:
            return DEFAULT_FEATURES
        names = tuple(self.features)
        valid = ", ".join(repr(f) for f in AVAILABLE_FEATURES)
        if not names:
            raise ValueError(
                "The 'features' parameter of EMGFeatures must be None or a "
                f"non-empty list of feature names among {valid}; got an empty list."
            )
        for name in names:
            if not isinstance(name, str) or name not in AVAILABLE_FEATURES:
                close = (
                    difflib.get_close_matches(name.lower(), AVAILABLE_FEATURES, n=1)
                    if isinstance(name, str)
                    else []
                )
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"The 'features' parameter of EMGFeatures got an unknown "
                    f"feature {name!r}; valid names are {valid}.{hint}"
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                "The 'features' parameter of EMGFeatures lists "
                f"{', '.join(repr(d) for d in duplicates)} more than once; each "
                "feature may appear only once."
            )
        return names

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and recordings, remember the channel count.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings; a list may hold recordings of different lengths.
        y : None
            Ignored.

        Returns
        -------
        self : EMGFeatures
            Fitted transformer.
        """
        features = self._check_features()
        self._validate_recordings(X, reset=True)
        self.channel_feature_names_ = np.asarray(features, dtype=object)
        return self

    def transform(self, X):
        """Compute the features of every channel of every recording.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings, with the number of channels seen at ``fit``.

        Returns
        -------
        X_features : ndarray of shape (n_recordings, n_channels * \
                n_features_per_channel), float64
            Channel-major: the columns of channel 0 first.
        """
        recordings = self._validate_recordings(X, reset=False)
        features = tuple(self.channel_feature_names_)
        out = np.empty((len(recordings), self.n_channels_ * len(features)))
        # overflow is detected below, with the recording named
        with np.errstate(over="ignore", invalid="ignore"):
            for i, rec in enumerate(recordings):
                out[i] = _recording_features(
                    rec,
                    features,
                    fs=float(self.fs),
                    threshold=float(self.threshold),
                    normalize_length=self.normalize_length,
                    nperseg=self.nperseg,
                ).ravel()
        return self._check_finite_output(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
