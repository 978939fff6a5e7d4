"""HHTTransformer: raw sEMG recordings to Hilbert-Huang time-frequency matrices."""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..utils._base import ChannelOutputMixin
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils._validation import MIN_N_TIMES, first_non_finite
from ._decomposition import DECOMPOSITION_CONSTRAINTS, DecomposingMixin
from ._spectrum import compress, hilbert_spectrum

__all__ = ["HHTTransformer"]


@np.errstate(over="ignore", invalid="ignore")  # overflow: named by _finish
def _decomposition_hht(
    decomposition, *, fs, n_freq_bins, n_time_bins, freq_range, per_matrix_max
):
    """HHT of every channel of one decomposed recording: ``((C, F, T),)``."""
    imfs = decomposition.imfs
    # a decomposition shared with other steps keeps its Hilbert transform
    shared = decomposition.instantaneous(fs) if decomposition.shared else None
    out = np.empty((len(imfs), n_freq_bins, n_time_bins), dtype=np.float32)
    for c, channel in enumerate(imfs):
        spectrum = hilbert_spectrum(
            channel,
            fs,
            n_freq_bins,
            n_time_bins,
            freq_range,
            instantaneous=None if shared is None else shared[c],
        )
        if per_matrix_max:
            peak = spectrum.max()
            if peak > 0:
                spectrum = spectrum / peak
        out[c] = spectrum
    return (out,)


class HHTTransformer(
    ChannelOutputMixin,
    DecomposingMixin,
    TransformerMixin,
    BaseEstimator,
    auto_wrap_output_keys=None,
):
    """Raw sEMG recordings to Hilbert-Huang time-frequency matrices.

    Each channel of each recording is decomposed into intrinsic mode functions
    (IMFs) by empirical mode decomposition (the compiled engine, which
    reproduces the EMD-signal package, or that package itself: ``backend``);
    the Hilbert transform of every IMF gives an instantaneous amplitude and
    frequency per sample, and the amplitudes are summed on a fixed
    ``(n_freq_bins, n_time_bins)`` grid. The time axis of every recording is
    mapped onto the same ``n_time_bins`` columns, so recordings of different
    lengths give matrices of the same shape.

    ``X`` may also be the output of :class:`~sklearn_semg.EMDDecomposer`: the
    recordings are then decomposed already, once for every HHT step that
    follows it, and the decomposition parameters of this step (``max_imf``,
    ``method``, ``emd_params``, ``backend``, ``random_state``) are not used;
    the decomposer's apply.

    With the default parameters and a single-channel recording the output
    equals, to float32 precision, the reference notebook's
    ``compute_hht_matrix(signal, fs, matrix_size=256, max_imf=10)``, which made
    the 256x256 ``.npz`` matrices users already have (see
    :ref:`reference_notebook`). The reference's per-sample Python loop is
    replaced by one vectorised ``np.bincount``.

    Parameters
    ----------
    fs : float, default=1000.0
        Sampling rate of the recordings, in Hz.
    n_freq_bins : int, default=256
        Number of frequency rows. Row 0 is 0 Hz (or ``freq_range[0]``), the
        last row ``fs / 2`` (or ``freq_range[1]``).
    n_time_bins : int, default=256
        Number of time columns. Column 0 is the first sample, the last column
        the last sample of each recording.
    max_imf : int, default=10
        Largest number of IMFs extracted per channel; ``-1`` extracts all. The
        residue is kept as the last IMF, as in the reference.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        Decomposition: plain EMD (the reference, deterministic), ensemble EMD,
        or complete ensemble EMD with adaptive noise. The ensemble variants
        add noise drawn from ``random_state`` and cost ``trials`` (default
        100) decompositions each.
    emd_params : dict or None, default=None
        Extra keyword arguments of the PyEMD class, e.g.
        ``{"trials": 20, "noise_width": 0.05}`` for EEMD; a key that class
        does not take is an error.
    backend : {"auto", "numba", "pyemd"}, default="auto"
        ``"numba"``: the compiled EMD engine, which reproduces PyEMD to
        round-off (bit for bit in our tests) many times faster; ``"pyemd"``:
        the EMD-signal package; ``"auto"``: the compiled engine whenever it
        supports the settings (cubic splines, simple extrema), else PyEMD.
    freq_range : tuple of (float, float), "semg" or None, default=None
        ``(f_min, f_max)`` in Hz spread over the frequency rows. Samples
        outside are dropped. ``"semg"``: the sEMG band, 20 to 450 Hz, its upper
        edge lowered to ``0.45 * fs`` (with a warning) when the sampling rate
        is too low (:func:`~sklearn_semg.utils.semg_band`). ``None`` covers
        ``[0, fs / 2]`` with out-of-range values clipped into the edge rows
        (the reference).
    normalize : {"max", "global"} or None, default="max"
        ``"max"`` divides each matrix (each channel of each recording) by its
        own maximum when that is positive, as the reference does: the shape
        of the spectrum survives, its absolute amplitude and the ratio
        between channels do not. ``"global"`` divides every matrix by one
        scale learned at ``fit`` over the training recordings (``scale_``,
        the median over recordings of their largest cell), so amplitudes and
        channel ratios survive and nothing is learned from test data.
        ``None`` keeps the summed amplitudes in the units of the input.
    compression : {"log"}, float or None, default=None
        Applied after normalisation. ``"log"`` maps ``x`` to
        ``log(x + log_floor) - log(log_floor)`` (zeros stay zero, a strong
        compression of the dynamic range); a float ``p`` in (0, 1] maps ``x``
        to ``x ** p`` (``0.5``: square root). Helps on some tasks and hurts on
        others: choose it by (inner) cross-validation.
    log_floor : float, default=1e-3
        Floor of the ``"log"`` compression, relative to the normalised scale.
    flatten : bool, default=False
        If True, ``transform`` returns a 2-D array
        ``(n_recordings, n_channels * n_freq_bins * n_time_bins)`` for
        scikit-learn steps that expect one row per sample, named by
        ``get_feature_names_out`` and wrapped as ``set_output`` asks.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of the decomposition and of the matrices of each recording,
        keyed by its samples and every setting that changes them (see
        :mod:`sklearn_semg.hht`): a search over later steps, the folds of a
        cross-validation and other steps with the same ``memory`` decompose
        each recording once in total. ``None``: no cache.
    n_jobs : int or None, default=None
        Number of joblib jobs over recordings; ``-1`` uses all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise of ``"eemd"`` and ``"ceemdan"``. One seed per recording
        and channel is drawn before the work is split, so the same
        ``random_state`` gives the same output for any ``n_jobs``. Ignored by
        ``"emd"``.
    progress : bool, default=False
        Show a tqdm progress bar over recordings (useful for long batches).
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`). Shorter ones raise a
        ``ValueError`` that names them: it is most often an array passed as
        ``(n_times, n_recordings)`` instead of ``(n_recordings, n_times)``.

    Attributes
    ----------
    n_channels_ : int
        Number of channels per recording seen at ``fit``.
    scale_ : float
        With ``normalize="global"``, the amplitude scale learned at ``fit``;
        ``1.0`` otherwise.

    Notes
    -----
    Recordings must have at least ``min_n_times`` samples, only finite values, and the same number of channels as at
    ``fit``; otherwise a ``ValueError`` names the recording. A flat (constant)
    recording does not fail: its decomposition is the constant itself, so all
    its energy lands in the 0 Hz row, spread over all time columns; an all-zero
    recording gives an all-zero matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg import HHTTransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((3, 2, 500))   # 3 recordings, 2 channels
    >>> hht = HHTTransformer(fs=1000, n_freq_bins=64, n_time_bins=32)
    >>> M = hht.fit_transform(X)
    >>> M.shape, M.dtype
    ((3, 2, 64, 32), dtype('float32'))
    >>> float(M.max())
    1.0
    >>> HHTTransformer(fs=1000, n_freq_bins=8, n_time_bins=8).fit_transform(
    ...     [rng.standard_normal(300), rng.standard_normal(450)]).shape
    (2, 1, 8, 8)
    """

    _parameter_constraints: dict = {
        **DECOMPOSITION_CONSTRAINTS,
        "fs": [Interval(Real, 0, None, closed="neither")],
        "n_freq_bins": [Interval(Integral, 2, None, closed="left")],
        "n_time_bins": [Interval(Integral, 2, None, closed="left")],
        "freq_range": [tuple, list, StrOptions({"semg"}), None],
        "normalize": [StrOptions({"max", "global"}), None],
        "compression": [
            StrOptions({"log"}),
            Interval(Real, 0, 1, closed="right"),
            None,
        ],
        "log_floor": [Interval(Real, 0, None, closed="neither")],
        "flatten": ["boolean"],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        *,
        fs=1000.0,
        n_freq_bins=256,
        n_time_bins=256,
        max_imf=10,
        method="emd",
        emd_params=None,
        backend="auto",
        freq_range=None,
        normalize="max",
        compression=None,
        log_floor=1e-3,
        flatten=False,
        memory=None,
        n_jobs=None,
        random_state=None,
        progress=False,
        min_n_times=MIN_N_TIMES,
    ):
        self.fs = fs
        self.n_freq_bins = n_freq_bins
        self.n_time_bins = n_time_bins
        self.max_imf = max_imf
        self.method = method
        self.emd_params = emd_params
        self.backend = backend
        self.freq_range = freq_range
        self.normalize = normalize
        self.compression = compression
        self.log_floor = log_floor
        self.flatten = flatten
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress
        self.min_n_times = min_n_times

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the recordings; learn the amplitude scale if ``"global"``.

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
        self : HHTTransformer
            Fitted transformer.
        """
        recordings = self._fit(X)
        if self.normalize == "global":
            self._learn_scale(self._compute(recordings))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then transform ``X``, computing its matrices only once.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings or their decompositions.
        y : None
            Ignored.

        Returns
        -------
        X_hht : ndarray, float32
            As :meth:`transform`.
        """
        matrices = self._compute(self._fit(X))
        if self.normalize == "global":
            self._learn_scale(matrices)
        return self._finish(matrices)

    def _fit(self, X):
        """Validate the parameters and the input, record the channels."""
        self._check_freq_range()
        self._emd_settings()
        items = self._check_input(X, reset=True)
        self.scale_ = 1.0
        return items

    def _learn_scale(self, matrices):
        """Median over recordings of their largest cell (all channels)."""
        peaks = matrices.reshape(len(matrices), -1).max(axis=1)
        scale = float(np.median(peaks))
        self.scale_ = scale if scale > 0 else 1.0

    def transform(self, X):
        """Compute the Hilbert-Huang matrix of every channel of every recording.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), list of array-like, or \
                output of EMDDecomposer
            Raw recordings or their decompositions, with the number of
            channels seen at ``fit``.

        Returns
        -------
        X_hht : ndarray of shape (n_recordings, n_channels, n_freq_bins, \
                n_time_bins), float32
            Frequency on axis -2 (row 0 = lowest), time on axis -1. With
            ``flatten=True``, shape ``(n_recordings, n_channels * n_freq_bins *
            n_time_bins)``.
        """
        return self._finish(self._compute(self._check_input(X, reset=False)))

    def _finish(self, matrices):
        """Global scale, compression and flattening of computed matrices."""
        bad = first_non_finite(matrices)
        if bad is not None:
            raise ValueError(
                f"{type(self).__name__}: the HHT matrices of X[{bad[0]}] overflow float32 "
                "(amplitude sums beyond 3.4e38): its samples are too large in "
                "magnitude; rescale the recordings (e.g. to millivolts) or use "
                "normalize='max' or 'global'."
            )
        if self.normalize == "global":
            matrices /= np.float32(self.scale_)
        matrices = compress(matrices, self.compression, self.log_floor)
        matrices = matrices.astype(np.float32, copy=False)
        if self.flatten:
            return self._as_configured_table(matrices.reshape(len(matrices), -1))
        return matrices

    def get_feature_names_out(self, input_features=None):
        """Names of the output: the channels, or the cells when flattened.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names, one per channel; ``None`` names them
            ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The channel names (each channel's output is a matrix, read by the
            next step as a whole); with ``flatten=True``, one name per column,
            ``"{channel}_f{row}_t{column}"`` in the order of the columns (row
            0 is the lowest frequency).
        """
        channels = super().get_feature_names_out(input_features)
        if not self.flatten:
            return channels
        return np.asarray(
            [
                f"{ch}_f{f}_t{t}"
                for ch in channels
                for f in range(self.n_freq_bins)
                for t in range(self.n_time_bins)
            ],
            dtype=object,
        )

    def _compute(self, items):
        """Matrices of raw recordings or decompositions, before ``_finish``."""
        decompositions = self._as_decompositions(items)
        spectrum = dict(
            fs=float(self.fs),
            n_freq_bins=self.n_freq_bins,
            n_time_bins=self.n_time_bins,
            freq_range=self._check_freq_range(warn=False),  # _fit warned
            per_matrix_max=self.normalize == "max",
        )
        results = self._map_recordings(
            partial(_decomposition_hht, **spectrum),
            decompositions,
            kind="hht",
            settings=spectrum,
            desc="HHT",
        )
        out = np.empty(
            (len(results), self.n_channels_, self.n_freq_bins, self.n_time_bins),
            dtype=np.float32,
        )
        for i, (matrices,) in enumerate(results):
            out[i] = matrices
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
