"""EMGFeatures: the classic time-domain and spectral sEMG feature baseline."""

import difflib
from numbers import Integral, Real

import numpy as np
from scipy.linalg import lstsq, toeplitz
from scipy.signal import welch

from ..utils._sklearn import Interval, _fit_context
from ..utils._validation import MIN_N_TIMES
from ._base import PerChannelFeatures

__all__ = ["EMGFeatures", "FEATURE_SETS"]

#: Features computed when ``features=None``, in output order.
DEFAULT_FEATURES = ("mav", "rms", "wl", "zc", "ssc", "var", "mnf", "mdf")
#: The TD-PSD features (Al-Timemy et al. 2016), in their published order.
_TDPSD = ("log_m0", "log_m0_m2", "log_m0_m4", "sparseness", "irregularity", "wl_ratio")
#: Named feature sets of the sEMG literature, accepted by ``features=``.
FEATURE_SETS = {
    "default": DEFAULT_FEATURES,
    "td": ("mav", "zc", "ssc", "wl"),
    "tdar": ("mav", "zc", "ssc", "wl", "ar"),
    "tdpsd": _TDPSD,
    "ls4": ("ls", "mfl", "msr", "wamp"),
    "hjorth": ("activity", "mobility", "complexity"),
}
#: Every feature EMGFeatures knows, in the order they are documented.
AVAILABLE_FEATURES = (
    *DEFAULT_FEATURES,
    *("iemg", "wamp", "pkf", "ar"),
    *_TDPSD,
    *("ls", "mfl", "msr"),
    *FEATURE_SETS["hjorth"],
)
#: Features that need the Welch power spectral density.
_SPECTRAL = frozenset({"mnf", "mdf", "pkf"})
#: Counts and sums over samples, divided by n_times when normalize_length=True.
_LENGTH_DEPENDENT = frozenset({"wl", "zc", "ssc", "wamp"})
#: Exponent of the power transform of the TD-PSD moments (Al-Timemy et al.).
_TDPSD_LAMBDA = 0.1


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


def _safe_ratio(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0 (the ratio of
    a flat channel, which is undefined)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _safe_log(values):
    """``log(|values|)``, 0 where ``values`` is 0 (a flat channel)."""
    magnitude = np.abs(values)
    out = np.zeros(magnitude.shape)
    np.log(magnitude, out=out, where=magnitude > 0)
    return out


def _autoregressive(rec, order):
    """Yule-Walker coefficients ``a_1 .. a_p`` of every channel, ``(n_channels, p)``.

    The model is ``x[n] = a_1 x[n-1] + ... + a_p x[n-p] + e[n]``; the
    coefficients solve the Toeplitz system of the biased autocorrelation
    ``r[k] = sum(x[n] x[n+k]) / N`` (minimum-norm solution where it is
    singular); a channel of zeros gives zeros.
    """
    n_times = rec.shape[1]
    out = np.zeros((rec.shape[0], order))
    for c, x in enumerate(rec):
        r = np.array([x[: n_times - k] @ x[k:] for k in range(order + 1)]) / n_times
        if r[0] > 0:
            out[c] = lstsq(toeplitz(r[:order]), r[1:])[0]
    return out


class _Channels:
    """One recording ``(n_channels, n_times)`` and what several features share
    (differences, the Welch spectrum, the TD-PSD moments), computed once."""

    def __init__(self, rec, *, fs, threshold, nperseg):
        self.rec = rec
        self.fs = fs
        self.nperseg = nperseg
        self.d1 = np.diff(rec, axis=1)
        self.abs_d1 = np.abs(self.d1)
        self.thr = threshold * rec.std(axis=1, keepdims=True)
        self._cache = {}

    def shared(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def d2(self):
        return self.shared("d2", lambda: np.diff(self.d1, axis=1))

    @property
    def spectrum(self):
        """Welch PSD: ``(freqs, psd, total power per channel)``."""

        def compute():
            n_times = self.rec.shape[1]
            freqs, psd = welch(
                self.rec, fs=self.fs, nperseg=min(self.nperseg, n_times), axis=-1
            )
            return freqs, psd, psd.sum(axis=1)

        return self.shared("spectrum", compute)

    @property
    def moments(self):
        """Power-transformed root moments ``m0, m2, m4`` of TD-PSD."""

        def compute():
            lam = _TDPSD_LAMBDA
            return tuple(
                np.sqrt(np.sum(v**2, axis=1)) ** lam / lam
                for v in (self.rec, self.d1, self.d2)
            )

        return self.shared("moments", compute)

    def hjorth_mobility(self):
        return np.sqrt(_safe_ratio(self.d1.var(axis=1), self.rec.var(axis=1)))


def _zero_crossings(ch):
    # zero counts as positive, so a crossing through an exact zero sample is
    # counted once
    positive = ch.rec >= 0
    crossing = (positive[:, :-1] != positive[:, 1:]) & (ch.abs_d1 >= ch.thr)
    return crossing.sum(axis=1).astype(np.float64)


def _slope_sign_changes(ch):
    extremum = ch.d1[:, :-1] * ch.d1[:, 1:] < 0
    steep = np.maximum(ch.abs_d1[:, :-1], ch.abs_d1[:, 1:]) >= ch.thr
    return (extremum & steep).sum(axis=1).astype(np.float64)


def _mean_frequency(ch):
    freqs, psd, total = ch.spectrum
    return _safe_ratio(np.sum(psd * freqs, axis=1), total)


def _peak_frequency(ch):
    freqs, psd, total = ch.spectrum
    return np.where(total > 0, freqs[np.argmax(psd, axis=1)], 0.0)


def _sparseness(ch):
    m0, m2, m4 = ch.moments
    return _safe_log(_safe_ratio(m0, np.sqrt(np.abs((m0 - m2) * (m0 - m4)))))


def _l_scale(ch):
    """Second sample L-moment, ``2 b1 - b0`` (Hosking 1990)."""
    ordered = np.sort(ch.rec, axis=1)
    n_times = ordered.shape[1]
    weights = np.arange(n_times) / (n_times - 1)
    return 2 * (ordered @ weights) / n_times - ordered.mean(axis=1)


def _hjorth_complexity(ch):
    mobility_d1 = np.sqrt(_safe_ratio(ch.d2.var(axis=1), ch.d1.var(axis=1)))
    return _safe_ratio(mobility_d1, ch.hjorth_mobility())


#: One function per single-column feature, of a :class:`_Channels`.
_FEATURE_FUNCTIONS = {
    "mav": lambda ch: np.mean(np.abs(ch.rec), axis=1),
    "rms": lambda ch: np.sqrt(np.mean(ch.rec**2, axis=1)),
    "wl": lambda ch: ch.abs_d1.sum(axis=1),
    "zc": _zero_crossings,
    "ssc": _slope_sign_changes,
    "var": lambda ch: np.var(ch.rec, axis=1, ddof=1),
    "mnf": _mean_frequency,
    "mdf": lambda ch: _median_frequency(ch.spectrum[0], ch.spectrum[1]),
    "iemg": lambda ch: np.sum(np.abs(ch.rec), axis=1),
    "wamp": lambda ch: (ch.abs_d1 > ch.thr).sum(axis=1).astype(np.float64),
    "pkf": _peak_frequency,
    "log_m0": lambda ch: _safe_log(ch.moments[0]),
    "log_m0_m2": lambda ch: _safe_log(ch.moments[0] - ch.moments[1]),
    "log_m0_m4": lambda ch: _safe_log(ch.moments[0] - ch.moments[2]),
    "sparseness": _sparseness,
    "irregularity": lambda ch: _safe_ratio(
        ch.moments[1], np.sqrt(ch.moments[0] * ch.moments[2])
    ),
    "wl_ratio": lambda ch: _safe_log(
        _safe_ratio(ch.abs_d1.sum(axis=1), np.abs(ch.d2).sum(axis=1))
    ),
    "ls": _l_scale,
    "mfl": lambda ch: _safe_log(np.sqrt(np.sum(ch.d1**2, axis=1))) / np.log(10),
    "msr": lambda ch: np.mean(np.sqrt(np.abs(ch.rec)), axis=1),
    "activity": lambda ch: ch.rec.var(axis=1),
    "mobility": lambda ch: ch.hjorth_mobility(),
    "complexity": _hjorth_complexity,
}


def _recording_features(
    rec, features, *, fs, threshold, normalize_length, nperseg, ar_order
):
    """Features of one recording ``(n_channels, n_times)``: ``(n_channels, k)``,
    ``ar`` giving ``ar_order`` columns and every other feature one."""
    ch = _Channels(rec, fs=fs, threshold=threshold, nperseg=nperseg)
    columns = []
    for name in features:
        if name == "ar":
            columns.append(_autoregressive(rec, ar_order))
            continue
        value = _FEATURE_FUNCTIONS[name](ch)
        if normalize_length and name in _LENGTH_DEPENDENT:
            value = value / rec.shape[1]
        columns.append(value[:, np.newaxis])
    return np.concatenate(columns, axis=1)


class EMGFeatures(PerChannelFeatures):
    """Classic time-domain and spectral sEMG features, per channel.

    The hand-crafted baseline of surface-EMG pattern recognition (Hudgins et
    al. 1993; Phinyomark et al. 2012): amplitude, complexity and frequency
    features of every channel of every recording, one row per recording. It
    accepts the same raw inputs as :class:`~sklearn_semg.HHTTransformer`,
    including lists of recordings of different lengths, and feeds a scaler and
    classifier in a :class:`~sklearn.pipeline.Pipeline`.

    Available features (``x`` is one channel of ``n`` samples, ``dx`` its
    first difference ``x[k+1] - x[k]``, ``d2x`` the second, and ``thr`` is
    ``threshold * std(x)``):

    - ``"mav"``: mean absolute value, ``mean(|x|)``.
    - ``"rms"``: root mean square, ``sqrt(mean(x**2))``.
    - ``"wl"``: waveform length, ``sum(|dx|)``.
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
      ``|dx[k]| > thr``.
    - ``"pkf"``: peak frequency, where the Welch PSD is largest, in Hz.
    - ``"ar"``: the ``ar_order`` coefficients ``a_1 .. a_p`` of the
      autoregressive model ``x[k] = a_1 x[k-1] + ... + a_p x[k-p] + e[k]``,
      from the Yule-Walker equations on the biased autocorrelation
      ``r[j] = sum(x[k] x[k+j]) / n`` (columns ``ar1 .. arP``).
    - TD-PSD (Al-Timemy et al. 2016), from the root moments
      ``m0 = sqrt(sum(x**2))``, ``m2 = sqrt(sum(dx**2))`` and
      ``m4 = sqrt(sum(d2x**2))`` (by Parseval, the zeroth, second and fourth
      spectral moments), each power-transformed ``m -> m**0.1 / 0.1``:
      ``"log_m0"``, ``log(m0)``; ``"log_m0_m2"``, ``log(m0 - m2)``;
      ``"log_m0_m4"``, ``log(m0 - m4)``; ``"sparseness"``,
      ``log(m0 / sqrt((m0 - m2) (m0 - m4)))``; ``"irregularity"``,
      ``m2 / sqrt(m0 m4)``; ``"wl_ratio"``, ``log(sum(|dx|) / sum(|d2x|))``.
      Where a difference is negative (a channel whose power lies mostly above
      ``fs / 6``), the logarithm is taken of its absolute value. The
      published method's last step, which combines these features with those
      of ``log(x**2)`` by a cosine similarity, is not applied.
    - ``"ls"``: L-scale, the second sample L-moment ``2 b1 - b0`` with
      ``b0 = mean(x)`` and ``b1 = sum(i / (n - 1) * x_(i)) / n`` over the
      sorted samples ``x_(0) <= ... <= x_(n-1)`` (Hosking 1990): half the
      mean absolute difference between two samples.
    - ``"mfl"``: maximum fractal length, ``log10(sqrt(sum(dx**2)))``.
    - ``"msr"``: mean square root, ``mean(sqrt(|x|))``.
    - Hjorth parameters (Hjorth 1970): ``"activity"``, ``var(x)``;
      ``"mobility"``, ``sqrt(var(dx) / var(x))``; ``"complexity"``,
      ``mobility(dx) / mobility(x)`` (variances with ``ddof=0``).

    Named feature sets, accepted by ``features=`` alone or in a list with
    other sets and feature names (:data:`~sklearn_semg.features.FEATURE_SETS` holds them):

    - ``"default"``: ``mav, rms, wl, zc, ssc, var, mnf, mdf``.
    - ``"td"``: Hudgins' time-domain set (Hudgins et al. 1993),
      ``mav, zc, ssc, wl``.
    - ``"tdar"``: ``"td"`` and the autoregressive coefficients ``ar``
      (Hargrove et al. 2007; order 4 by default).
    - ``"tdpsd"``: the six TD-PSD features (Al-Timemy et al. 2016).
    - ``"ls4"``: ``ls, mfl, msr, wamp`` (Phinyomark et al. 2018), chosen for
      low-sampling-rate armbands; give ``threshold`` a value for ``wamp``.
    - ``"hjorth"``: ``activity, mobility, complexity`` (Hjorth 1970).

    Frequency features of a channel without power (all constant) are 0 Hz,
    and a ratio or logarithm that a flat channel leaves undefined is 0. The
    recordings are used as given: remove any DC offset (e.g. the mid-scale of
    an ADC) first, as zero crossings are counted around zero. ``ar``, the
    TD-PSD moments and ``mfl`` depend on the window length: compare them
    between windows of one length.

    References: B. Hudgins, P. Parker, R. N. Scott, "A new strategy for
    multifunction myoelectric control", IEEE Trans. Biomed. Eng. 40(1),
    1993. L. J. Hargrove, K. Englehart, B. Hudgins, "A comparison of surface
    and intramuscular myoelectric signal classification", IEEE Trans. Biomed.
    Eng. 54(5), 2007. A. H. Al-Timemy, R. N. Khushaba, G. Bugmann, J.
    Escudero, "Improving the performance against force variation of EMG
    controlled multifunctional upper-limb prostheses for transradial
    amputees", IEEE Trans. Neural Syst. Rehabil. Eng. 24(6), 2016. A.
    Phinyomark, R. N. Khushaba, E. Scheme, "Feature extraction and selection
    for myoelectric control based on wearable EMG sensors", Sensors 18(5),
    2018. B. Hjorth, "EEG analysis based on time domain properties",
    Electroencephalogr. Clin. Neurophysiol. 29(3), 1970. J. R. M. Hosking,
    "L-moments", J. R. Stat. Soc. B 52(1), 1990.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the recordings, in Hz.
    features : str, list of str or None, default=None
        The features to compute, in output order: names of features or of
        feature sets (expanded in place) from the lists above, alone or in a
        list, e.g. ``"tdpsd"`` or ``["td", "mnf"]``; ``None`` computes the
        eight default ones. A feature may appear only once.
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
    ar_order : int, default=4
        Order of the autoregressive model of ``"ar"``: the number of ``ar``
        columns per channel.
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`). Shorter ones raise a
        ``ValueError`` that names them: it is most often an array passed as
        ``(n_times, n_recordings)`` instead of ``(n_recordings, n_times)``.

    Attributes
    ----------
    n_channels_ : int
        Number of channels per recording seen at ``fit``.
    features_ : tuple of str
        The features computed, in output order, with the sets expanded.
    channel_feature_names_ : ndarray of shape (n_features_per_channel,), dtype=object
        The columns computed for each channel, in output order, with sets
        expanded and ``"ar"`` as ``"ar1" .. "arP"``.

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
        "features": [list, tuple, str, None],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "normalize_length": ["boolean"],
        "nperseg": [Interval(Integral, 2, None, closed="left")],
        "ar_order": [Interval(Integral, 1, None, closed="left")],
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
        ar_order=4,
        min_n_times=MIN_N_TIMES,
    ):
        self.fs = fs
        self.features = features
        self.threshold = threshold
        self.normalize_length = normalize_length
        self.nperseg = nperseg
        self.ar_order = ar_order
        self.min_n_times = min_n_times

    def _check_features(self):
        """The features to compute, sets expanded: a tuple of names."""
        if self.features is None:
            return DEFAULT_FEATURES
        names = (self.features,) if isinstance(self.features, str) else self.features
        names = tuple(names)
        known = (*FEATURE_SETS, *AVAILABLE_FEATURES)
        valid = (
            f"feature sets {', '.join(repr(f) for f in FEATURE_SETS)} or "
            f"features {', '.join(repr(f) for f in AVAILABLE_FEATURES)}"
        )
        if not names:
            raise ValueError(
                "The 'features' parameter of EMGFeatures must be None, a name or "
                f"a non-empty list of names among {valid}; got an empty list."
            )
        expanded = []
        for name in names:
            if not isinstance(name, str) or name not in known:
                close = (
                    difflib.get_close_matches(name.lower(), known, n=1)
                    if isinstance(name, str)
                    else []
                )
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"The 'features' parameter of EMGFeatures got an unknown "
                    f"feature {name!r}; valid names are {valid}.{hint}"
                )
            expanded.extend(FEATURE_SETS.get(name, (name,)))
        duplicates = sorted({n for n in expanded if expanded.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"The 'features' parameter of EMGFeatures ({self.features!r}) "
                f"lists {', '.join(repr(d) for d in duplicates)} more than once "
                "(after expanding the feature sets); each feature may appear "
                "only once."
            )
        return tuple(expanded)

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
        columns = []
        for name in features:
            if name == "ar":
                columns.extend(f"ar{k}" for k in range(1, self.ar_order + 1))
            else:
                columns.append(name)
        self.features_ = features
        self.channel_feature_names_ = np.asarray(columns, dtype=object)
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
        features = self.features_
        n_columns = len(self.channel_feature_names_)
        out = np.empty((len(recordings), self.n_channels_ * n_columns))
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
                    ar_order=self.ar_order,
                ).ravel()
        return self._check_finite_output(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
