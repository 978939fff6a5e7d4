"""HHTFeatures: explicit features read off the Hilbert spectrum of sEMG."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np

from ..hht import instantaneous_amplitude_frequency
from ..hht._decomposition import DECOMPOSITION_CONSTRAINTS, DecomposingMixin
from ..utils._sklearn import Hidden, Interval, StrOptions, _fit_context
from ..utils._validation import MIN_N_TIMES
from ._base import PerChannelFeatures

__all__ = ["HHTFeatures"]


def _mean_median(freq, weight):
    """Weighted mean and median of instantaneous frequencies; 0 Hz if no weight.

    The median interpolates between the sorted frequencies at the midpoints of
    their cumulative weights, so it is exact for a single tone and continuous
    in the weights.
    """
    keep = weight > 0
    freq, weight = freq[keep], weight[keep]
    total = weight.sum()
    if total <= 0:
        return 0.0, 0.0
    # no BLAS dot products: their summation order depends on the number of
    # BLAS threads, which joblib workers limit, and n_jobs must not change
    # the output by even one bit
    mean = float(np.sum(freq * weight) / total)
    order = np.argsort(freq, kind="stable")
    freq, weight = freq[order], weight[order]
    midpoints = np.cumsum(weight) - weight / 2
    median = float(np.interp(total / 2, midpoints, freq))
    return mean, median


def _slope(t, values, valid):
    """Least-squares slope of ``values`` over ``t`` (valid points; 0 if < 2)."""
    t, values = t[valid], values[valid]
    if len(t) < 2:
        return 0.0
    dt = t - t.mean()
    return float(np.sum(dt * (values - values.mean())) / np.sum(dt * dt))


def _channel_features(
    imfs,
    instantaneous,
    *,
    fs,
    f_min,
    f_max,
    n_freq_bins,
    log_energy,
    n_segments,
    n_imfs,
):
    """The HHT features of one channel's IMFs, in the order of the names."""
    n_times = imfs.shape[1]
    if imfs.shape[0] == 0:  # an all-zero signal has no IMF
        imfs = np.zeros((1, n_times))
        instantaneous = None
    if instantaneous is None:
        instantaneous = instantaneous_amplitude_frequency(imfs, fs)
    amplitude, frequency = instantaneous
    energy = amplitude**2
    in_band = (frequency >= f_min) & (frequency <= f_max)
    band_energy = np.where(in_band, energy, 0.0)
    total = band_energy.sum()

    # (a) marginal Hilbert energy spectrum in n_freq_bins equal bands
    bins = ((frequency[in_band] - f_min) / (f_max - f_min) * n_freq_bins).astype(
        np.intp
    )
    np.clip(bins, 0, n_freq_bins - 1, out=bins)
    spectrum = np.bincount(bins, weights=energy[in_band], minlength=n_freq_bins)
    parts = [spectrum / total if total > 0 else np.zeros(n_freq_bins)]
    if log_energy:
        power = total / n_times
        parts.append([np.log(max(power, np.finfo(np.float64).tiny))])

    # (b) instantaneous mean and median frequency, whole and per segment
    mean, median = _mean_median(frequency.ravel(), band_energy.ravel())
    bounds = (np.arange(n_segments + 1) * n_times) // n_segments
    seg_mean = np.zeros(n_segments)
    seg_median = np.zeros(n_segments)
    valid = np.zeros(n_segments, dtype=bool)
    for s in range(n_segments):
        cols = slice(bounds[s], bounds[s + 1])
        w = band_energy[:, cols].ravel()
        valid[s] = w.sum() > 0
        seg_mean[s], seg_median[s] = _mean_median(frequency[:, cols].ravel(), w)
    centres = (bounds[:-1] + bounds[1:] - 1) / 2 / fs
    parts += [
        [mean, median],
        seg_mean,
        seg_median,
        [_slope(centres, seg_mean, valid), _slope(centres, seg_median, valid)],
    ]

    # (c) energy of the first n_imfs components, as fractions of their total
    imf_energy = np.sum(imfs**2, axis=1)
    fractions = np.zeros(n_imfs)
    imf_total = imf_energy.sum()
    if imf_total > 0:
        head = imf_energy[:n_imfs] / imf_total
        fractions[: len(head)] = head
    parts.append(fractions)
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])


@np.errstate(over="ignore", invalid="ignore")  # overflow: named by transform
def _decomposition_features(decomposition, **kwargs):
    """Features of every channel of one decomposed recording: ``(1-D,)``."""
    imfs = decomposition.imfs
    # a decomposition shared with other steps keeps its Hilbert transform
    if decomposition.shared:
        shared = decomposition.instantaneous(kwargs["fs"])
    else:
        shared = [None] * len(imfs)
    return (
        np.concatenate(
            [
                _channel_features(c, h, **kwargs)
                for c, h in zip(imfs, shared, strict=True)
            ]
        ),
    )


class HHTFeatures(DecomposingMixin, PerChannelFeatures):
    """Features read off the Hilbert spectrum of every channel.

    Each channel is decomposed into intrinsic mode functions (IMFs) by
    empirical mode decomposition, as in :class:`~sklearn_semg.HHTTransformer`;
    the Hilbert transform of every component (the residue included, as
    :func:`~sklearn_semg.hht.decompose` returns it) gives an instantaneous
    amplitude ``a`` and frequency ``f`` per sample. Only samples with ``f``
    inside ``freq_range`` count in the spectral features, which all weight a
    sample by its energy ``a**2``. Per channel, in output order:

    (a) the marginal Hilbert energy spectrum: the energy in each of
        ``n_bands`` equal bands over ``freq_range``, as fractions of the
        energy in ``freq_range`` (``hht_band0`` ..., zero-padded to the
        same width, e.g. ``hht_band00`` ... ``hht_band15``), then, if
        ``log_energy``, the natural log of that energy per sample
        (``hht_log_energy``);
    (b) the instantaneous mean frequency (energy-weighted mean of ``f``,
        ``hht_mnf``) and median frequency (the frequency that splits the
        Hilbert energy in two halves, ``hht_mdf``) over the whole recording,
        then over ``n_segments`` equal time segments (``hht_mnf_seg0`` ...,
        ``hht_mdf_seg0`` ...), then their least-squares trends across the
        segments in Hz per second (``hht_mnf_slope``, ``hht_mdf_slope``): the
        median frequency falls as a muscle fatigues, so a negative
        ``hht_mdf_slope`` is the classic fatigue indicator;
    (c) the energy ``sum(imf**2)`` of each of the first ``n_imfs`` components
        as a fraction of the energy of all components (``imf0_energy`` ...),
        zero where the decomposition has fewer components.

    These are ``n_bands + log_energy + 4 + 2 * n_segments + n_imfs``
    features per channel (35 with the defaults); the output is channel-major.

    ``X`` may also be the output of :class:`~sklearn_semg.EMDDecomposer`: the
    recordings are then decomposed already, once for every HHT step that
    follows it, and the decomposition parameters of this step (``max_imf``,
    ``method``, ``emd_params``, ``backend``, ``random_state``) are not used;
    the decomposer's apply.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the recordings, in Hz.
    freq_range : "semg", tuple of (float, float) or None, default="semg"
        The band of the spectral features (a) and (b). ``"semg"``: the sEMG
        band, 20 to 450 Hz, with its upper edge lowered to ``0.45 * fs`` (and a
        warning) when the sampling rate is too low for it (see
        :func:`~sklearn_semg.utils.semg_band`); it excludes the slow residue
        and motion artefacts. A pair ``(f_min, f_max)`` in Hz, with
        ``0 <= f_min < f_max <= fs / 2``, is used as given. ``None`` is
        ``(0, fs / 2)``.
    n_bands : int, default=16
        Number of equal bands of the relative marginal spectrum.
    log_energy : bool, default=True
        Add the natural log of the Hilbert energy in ``freq_range`` per
        sample, ``log(sum(a**2) / n_times)``, after the bands. It is the power
        of the analytic signal, in the squared units of the input, twice the
        mean square of the signal: a sine of amplitude ``A`` gives
        ``log(A**2)``.
    n_segments : int, default=4
        Number of equal time segments of each recording for the segment mean
        and median frequencies and their trends (at least 2).
    n_imfs : int, default=6
        Number of leading components whose energy fractions are returned.
    max_imf : int, default=10
        Largest number of IMFs extracted per channel; ``-1`` extracts all.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        Decomposition: plain EMD (deterministic), ensemble EMD, or complete
        ensemble EMD with adaptive noise (noise drawn from ``random_state``).
    emd_params : dict or None, default=None
        Extra keyword arguments of the PyEMD class, e.g. ``{"trials": 20}``;
        a key that class does not take is an error.
    backend : {"auto", "numba", "pyemd"}, default="auto"
        ``"numba"``: the compiled EMD engine, which reproduces PyEMD to
        round-off (bit for bit in our tests) many times faster; ``"pyemd"``:
        the EMD-signal package; ``"auto"``: the compiled engine whenever it
        supports the settings, else PyEMD.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the decomposition and of the features of each recording,
        keyed by its samples and every setting that changes them (see
        :mod:`sklearn_semg.hht`). ``None``: no cache.
    n_jobs : int or None, default=None
        Number of joblib jobs over recordings; ``-1`` uses all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise of ``"eemd"`` and ``"ceemdan"``. One seed per recording
        and channel is drawn before the work is split, so the same
        ``random_state`` gives the same output for any ``n_jobs``. Ignored by
        ``"emd"``.
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`).
    n_freq_bins : int

        .. deprecated:: 0.2
            Renamed ``n_bands``; it will be removed in 0.3.

    Attributes
    ----------
    n_channels_ : int
        Number of channels per recording seen at ``fit``.
    channel_feature_names_ : ndarray of shape (n_features_per_channel,), dtype=object
        The features computed for each channel, in output order.
    bin_edges_ : ndarray of shape (n_bands + 1,)
        Edges in Hz of the bands ``hht_band0`` ... of the marginal spectrum.

    See Also
    --------
    EMGFeatures : Classic time-domain and Welch-spectrum features.
    sklearn_semg.HHTTransformer : Full Hilbert-Huang time-frequency matrices.

    Notes
    -----
    A segment (or a whole channel) without energy in ``freq_range``, such as a
    constant one, has mean and median frequency 0 Hz, is left out of the
    trends (a trend needs two segments with energy, else it is 0), and has
    all-zero band fractions; the log energy of an all-zero channel is
    ``log`` of the smallest positive float (about -708), not ``-inf``.

    The output does not depend on ``n_jobs``, bit for bit: the per-channel
    sums avoid BLAS dot products, whose summation order follows the number of
    BLAS threads, which joblib limits in its workers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.features import HHTFeatures
    >>> fs = 1000.0
    >>> t = np.arange(2000) / fs                       # 2 s
    >>> chirp = np.sin(2 * np.pi * (150 * t - 20 * t**2))   # 150 Hz -> 70 Hz
    >>> hht = HHTFeatures(fs=fs, n_bands=8, n_segments=4, n_imfs=3)
    >>> F = hht.fit_transform(chirp[np.newaxis])
    >>> F.shape                                        # 8 + 1 + 4 + 2*4 + 3
    (1, 24)
    >>> names = hht.get_feature_names_out().tolist()
    >>> names[:2], names[-3:]
    (['ch0_hht_band0', 'ch0_hht_band1'], ['ch0_imf0_energy', 'ch0_imf1_energy', 'ch0_imf2_energy'])
    >>> features = dict(zip(names, F[0]))
    >>> bool(-50 < features["ch0_hht_mdf_slope"] < -30)   # -40 Hz/s
    True
    """

    _parameter_constraints: dict = {
        **DECOMPOSITION_CONSTRAINTS,
        "fs": [Interval(Real, 0, None, closed="neither")],
        "freq_range": [tuple, list, StrOptions({"semg"}), None],
        "n_bands": [Interval(Integral, 1, None, closed="left")],
        "n_freq_bins": [
            Interval(Integral, 1, None, closed="left"),
            Hidden(StrOptions({"deprecated"})),
        ],
        "log_energy": ["boolean"],
        "n_segments": [Interval(Integral, 2, None, closed="left")],
        "n_imfs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        fs=1000.0,
        freq_range="semg",
        n_bands=16,
        log_energy=True,
        n_segments=4,
        n_imfs=6,
        max_imf=10,
        method="emd",
        emd_params=None,
        backend="auto",
        memory=None,
        n_jobs=None,
        random_state=None,
        min_n_times=MIN_N_TIMES,
        n_freq_bins="deprecated",
    ):
        self.fs = fs
        self.freq_range = freq_range
        self.n_bands = n_bands
        self.n_freq_bins = n_freq_bins
        self.log_energy = log_energy
        self.n_segments = n_segments
        self.n_imfs = n_imfs
        self.max_imf = max_imf
        self.method = method
        self.emd_params = emd_params
        self.backend = backend
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.min_n_times = min_n_times

    def _n_bands(self):
        """``n_bands``, or the value of its former name ``n_freq_bins``."""
        if isinstance(self.n_freq_bins, str):  # "deprecated": not given
            return self.n_bands
        warnings.warn(
            "HHTFeatures: the parameter 'n_freq_bins' was renamed 'n_bands' (it "
            "counts bands of the marginal spectrum) in 0.2 and will be removed in "
            "0.3; pass n_bands instead.",
            FutureWarning,
            stacklevel=3,
        )
        return self.n_freq_bins

    def _channel_feature_names(self, n_bands):
        width = len(str(n_bands - 1))
        names = [f"hht_band{k:0{width}d}" for k in range(n_bands)]
        if self.log_energy:
            names.append("hht_log_energy")
        names += ["hht_mnf", "hht_mdf"]
        names += [f"hht_mnf_seg{s}" for s in range(self.n_segments)]
        names += [f"hht_mdf_seg{s}" for s in range(self.n_segments)]
        names += ["hht_mnf_slope", "hht_mdf_slope"]
        names += [f"imf{k}_energy" for k in range(self.n_imfs)]
        return names

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and recordings, remember the channel count.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), list of array-like, or \
                output of EMDDecomposer
            Raw recordings (a list may hold recordings of different lengths),
            or their decompositions.
        y : None
            Ignored.

        Returns
        -------
        self : HHTFeatures
            Fitted transformer.
        """
        f_min, f_max = self._check_freq_range(default=(0.0, float(self.fs) / 2))
        self._emd_settings()
        self._check_input(X, reset=True)
        n_bands = self._n_bands()
        self.channel_feature_names_ = np.asarray(
            self._channel_feature_names(n_bands), dtype=object
        )
        self.bin_edges_ = np.linspace(f_min, f_max, n_bands + 1)
        return self

    def transform(self, X):
        """Compute the Hilbert-spectrum features of every channel.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), list of array-like, or \
                output of EMDDecomposer
            Raw recordings or their decompositions, with the number of
            channels seen at ``fit``.

        Returns
        -------
        X_features : ndarray of shape (n_recordings, n_channels * \
                n_features_per_channel), float64
            Channel-major: the columns of channel 0 first.
        """
        items = self._check_input(X, reset=False)
        f_min, f_max = self._check_freq_range(
            default=(0.0, float(self.fs) / 2),
            warn=False,  # fit warned already
        )
        settings = dict(
            fs=float(self.fs),
            f_min=f_min,
            f_max=f_max,
            n_freq_bins=len(self.bin_edges_) - 1,
            log_energy=self.log_energy,
            n_segments=self.n_segments,
            n_imfs=self.n_imfs,
        )
        rows = self._map_recordings(
            partial(_decomposition_features, **settings),
            self._as_decompositions(items),
            kind="hht_features",
            settings=settings,
            desc="HHT features",
        )
        out = np.vstack([row for (row,) in rows]).astype(np.float64, copy=False)
        return self._check_finite_output(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
