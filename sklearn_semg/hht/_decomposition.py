"""One decomposition per recording, shared by every HHT view.

:class:`EMDDecomposer` is the step that runs the empirical mode decomposition;
its output, one :class:`~sklearn_semg.hht.Decomposition` per recording, is what
:class:`~sklearn_semg.HHTTransformer` and :class:`~sklearn_semg.HHTFeatures`
read when they follow it in a pipeline, so that two views side by side (a
:class:`~sklearn.pipeline.FeatureUnion`) share one EMD of each recording and
channel. Given raw recordings instead, those views decompose them themselves,
through the same code. :class:`DecomposingMixin` is what the three share:
their decomposition parameters, the choice of input, the per-recording cache
(``memory``) and the parallel map over recordings.
"""

import os
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._base import ChannelOutputMixin, RecordingsMixin
from ..utils._sklearn import HasMethods, Interval, StrOptions, _fit_context
from ..utils._validation import MIN_N_TIMES
from ._cache import RecordingCache, recording_key
from ._emd import (
    BACKENDS,
    EMD_METHODS,
    ENGINE_VERSION,
    check_emd_params,
    decompose,
    resolve_backend,
)
from ._spectrum import instantaneous_amplitude_frequency

__all__ = [
    "DECOMPOSITION_CONSTRAINTS",
    "Decomposition",
    "DecomposingMixin",
    "EMDDecomposer",
    "is_decomposed",
]

#: ``_parameter_constraints`` of the decomposition parameters, shared by every
#: estimator that decomposes.
DECOMPOSITION_CONSTRAINTS = {
    "max_imf": [Interval(Integral, -1, None, closed="left")],
    "method": [StrOptions(set(EMD_METHODS))],
    "emd_params": [dict, None],
    "backend": [StrOptions(set(BACKENDS))],
    "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
    "min_n_times": [Interval(Integral, 2, None, closed="left")],
}


def _decompose_channels(recording, seeds, settings):
    """The IMFs of every channel of one recording: a tuple of 2-D arrays."""
    return tuple(
        decompose(
            signal,
            method=settings["method"],
            max_imf=settings["max_imf"],
            seed=None if seeds is None else seeds[c],
            emd_params=settings["emd_params"],
            backend=settings["backend"],
        )
        for c, signal in enumerate(recording)
    )


class Decomposition:
    """The empirical mode decomposition of one recording.

    What :class:`EMDDecomposer` returns, one per recording, and what the HHT
    steps after it read. A decomposition taken from the cache (``memory``) is
    read from disk only when its IMFs are first needed, so a step whose own
    result is cached never loads it.

    Attributes
    ----------
    key : str
        Digest of the recording's samples, its noise seeds (EEMD, CEEMDAN)
        and the decomposition settings: the name of this decomposition in
        the cache.
    settings : dict
        ``method``, ``max_imf``, ``emd_params``, ``backend`` (the one that
        ran: ``"numba"`` or ``"pyemd"``) and ``engine`` (its version).
    n_channels, n_times : int
        Channels and samples of the recording.
    imfs : tuple of ndarray of shape (n_imfs_c, n_times)
        The IMFs of each channel, the residue last (as
        :func:`~sklearn_semg.hht.decompose` returns them); ``n_imfs_c`` may
        differ between channels.
    shared : bool
        True for the output of :class:`EMDDecomposer`, which several steps
        may read: it keeps its :meth:`instantaneous` amplitude and frequency
        once computed (twice the memory of its IMFs), so that they are
        computed once.
    """

    __slots__ = (
        "_cache",
        "_imfs",
        "_instantaneous",
        "_recording",
        "_seeds",
        "key",
        "settings",
        "shared",
    )

    def __init__(
        self,
        *,
        key,
        settings,
        imfs=None,
        recording=None,
        seeds=None,
        cache=None,
        shared=False,
    ):
        self.key = key
        self.settings = settings
        self.shared = shared
        self._imfs = None if imfs is None else tuple(imfs)
        self._recording = recording
        self._seeds = seeds
        self._cache = cache
        self._instantaneous = None

    @property
    def n_channels(self):
        return len(self._imfs) if self._imfs is not None else len(self._recording)

    @property
    def n_times(self):
        if self._imfs is not None:
            return self._imfs[0].shape[-1]
        return self._recording.shape[-1]

    @property
    def imfs(self):
        if self._imfs is None:
            imfs = None if self._cache is None else self._cache.get(self.key)
            if imfs is None:
                imfs = _decompose_channels(self._recording, self._seeds, self.settings)
                if self._cache is not None:
                    self._cache.put(self.key, imfs)
            self._imfs = tuple(imfs)
        return self._imfs

    def instantaneous(self, fs):
        """Instantaneous amplitude and frequency of every IMF of every channel.

        :func:`~sklearn_semg.hht.instantaneous_amplitude_frequency` of each
        channel's IMFs. A decomposition that several steps read (the output
        of :class:`EMDDecomposer`, ``shared``) keeps the result, so the
        Hilbert transform runs once for all of them.

        Parameters
        ----------
        fs : float
            Sampling rate in Hz.

        Returns
        -------
        per_channel : tuple of (amplitude, frequency)
            Two arrays of shape ``(n_imfs_c, n_times)`` per channel.
        """
        fs = float(fs)
        memo = self._instantaneous
        if memo is not None and memo[0] == fs:
            return memo[1]
        result = tuple(instantaneous_amplitude_frequency(c, fs) for c in self.imfs)
        if self.shared:
            self._instantaneous = (fs, result)
        return result

    def __repr__(self):
        method = self.settings.get("method", "?")
        return (
            f"Decomposition(method={method!r}, n_channels={self.n_channels}, "
            f"n_times={self.n_times}, key={self.key[:10]!r})"
        )


def is_decomposed(X):
    """True if ``X`` holds :class:`~sklearn_semg.hht.Decomposition` objects
    (the output of :class:`EMDDecomposer`), not raw recordings."""
    if isinstance(X, np.ndarray):
        return (
            X.dtype == object
            and X.ndim == 1
            and X.size > 0
            and all(isinstance(item, Decomposition) for item in X)
        )
    if isinstance(X, (list, tuple)) and X:
        return all(isinstance(item, Decomposition) for item in X)
    return False


def check_decompositions(X, *, min_n_times, n_channels=None, estimator_name=None):
    """Validate the output of :class:`EMDDecomposer`; return it as a list."""
    who = f"{estimator_name}: " if estimator_name else ""
    items = list(X)
    first = items[0].n_channels
    for i, item in enumerate(items):
        if item.n_channels != first:
            raise ValueError(
                f"{who}X[{i}] is the decomposition of a recording with "
                f"{item.n_channels} channels but X[0] has {first}; all recordings "
                "must have the same number of channels."
            )
        if item.n_times < min_n_times:
            raise ValueError(
                f"{who}X[{i}] is the decomposition of a recording of {item.n_times} "
                f"samples; recordings must have at least {min_n_times} samples "
                f"(n_times >= min_n_times={min_n_times})."
            )
    if n_channels is not None and first != n_channels:
        raise ValueError(
            f"{who}X has {first} channel(s) per recording, but the estimator was "
            f"fitted with {n_channels} channel(s); expected the same channels as at "
            "fit."
        )
    return items


def _engine_version(backend):
    if backend == "numba":
        return ENGINE_VERSION
    from importlib.metadata import version

    return f"EMD-signal-{version('EMD-signal')}"


class DecomposingMixin(RecordingsMixin):
    """What every estimator that decomposes recordings shares.

    For estimators with the parameters of :data:`DECOMPOSITION_CONSTRAINTS`
    (``max_imf``, ``method``, ``emd_params``, ``backend``, ``memory``,
    ``n_jobs``, ``random_state``, ``min_n_times``) and an optional
    ``progress``.
    """

    def _emd_settings(self):
        """The decomposition settings, checked, with the back-end that runs."""
        name = type(self).__name__
        params = check_emd_params(self.method, self.emd_params, owner=name)
        backend = resolve_backend(self.backend, self.method, params, owner=name)
        return {
            "method": self.method,
            "max_imf": int(self.max_imf),
            "emd_params": params,
            "backend": backend,
            "engine": _engine_version(backend),
        }

    def _check_input(self, X, *, reset):
        """Raw recordings (validated) or decompositions, as a list.

        At ``fit`` (``reset=True``) records ``n_channels_``; afterwards checks
        that the channels match.
        """
        if not reset:
            check_is_fitted(self)
        if is_decomposed(X):
            items = check_decompositions(
                X,
                min_n_times=self.min_n_times,
                n_channels=None if reset else self.n_channels_,
                estimator_name=type(self).__name__,
            )
            if reset:
                self.n_channels_ = items[0].n_channels
            return items
        return self._validate_recordings(X, reset=reset)

    def _as_decompositions(self, items):
        """:class:`~sklearn_semg.hht.Decomposition` objects for ``items``; the
        EMD of raw recordings runs when their IMFs are first read (or comes
        from the cache)."""
        if items and isinstance(items[0], Decomposition):
            return items
        settings = self._emd_settings()
        cache = RecordingCache(self.memory, "emd", settings)
        if settings["method"] == "emd":
            seeds = [None] * len(items)
        else:
            seeds = list(self._channel_seeds(len(items), items[0].shape[0]))
        return [
            Decomposition(
                key=recording_key(rec, seeds[i], cache.digest),
                settings=settings,
                recording=rec,
                seeds=seeds[i],
                cache=cache if cache.enabled else None,
            )
            for i, rec in enumerate(items)
        ]

    def _map_recordings(self, func, decompositions, *, kind, settings, desc):
        """``[func(d) for d in decompositions]`` over joblib, each result a
        tuple of arrays, looked up in (and added to) the cache of ``kind``."""
        cache = RecordingCache(self.memory, kind, settings)
        results = [cache.get(d.key) for d in decompositions]
        todo = [i for i, value in enumerate(results) if value is None]
        computed = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(func)(decompositions[i]) for i in todo
        )
        if getattr(self, "progress", False) and todo:
            from tqdm.auto import tqdm

            computed = tqdm(computed, total=len(todo), desc=desc, unit="rec")
        for i, value in zip(todo, computed, strict=True):
            results[i] = cache.put(decompositions[i].key, value)
        return results


class EMDDecomposer(
    ChannelOutputMixin,
    DecomposingMixin,
    TransformerMixin,
    BaseEstimator,
    auto_wrap_output_keys=None,
):
    """Empirical mode decomposition of raw recordings, once, for every HHT view.

    The first step of a pipeline whose later steps read the Hilbert-Huang
    transform in several ways: :class:`~sklearn_semg.HHTTransformer` (the
    time-frequency matrices) and :class:`~sklearn_semg.HHTFeatures` accept
    its output in place of raw recordings and then skip their own EMD, so
    views side by side in a :class:`~sklearn.pipeline.FeatureUnion` share one
    decomposition of each recording and channel
    (:func:`~sklearn_semg.make_recommended_pipeline` is built that way). With
    ``memory``, each decomposition is also kept across fits, folds and
    searches.

    Parameters
    ----------
    max_imf : int, default=10
        Largest number of IMFs extracted per channel; ``-1`` extracts all. The
        residue is kept as the last IMF.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        Plain EMD (deterministic), ensemble EMD, or complete ensemble EMD with
        adaptive noise (noise drawn from ``random_state``).
    emd_params : dict or None, default=None
        Keyword arguments of PyEMD's ``EMD``, ``EEMD`` or ``CEEMDAN``, e.g.
        ``{"trials": 20}``; a key that class does not take is an error.
    backend : {"auto", "numba", "pyemd"}, default="auto"
        ``"numba"``: the compiled engine, which reproduces PyEMD to round-off
        (bit for bit in our tests) many times faster; ``"pyemd"``: the
        EMD-signal package itself; ``"auto"``: the compiled engine whenever
        it supports the settings (cubic splines, simple extrema), else PyEMD.
    memory : str, path-like, joblib.Memory or None, default=None
        Cache of decompositions, keyed by the bytes of each recording and
        every setting above (see :mod:`sklearn_semg.hht`): a recording is
        decomposed once across fits, cross-validation folds and searches,
        in this and in other processes. ``None``: no cache.
    n_jobs : int or None, default=None
        Number of joblib jobs over recordings; ``-1`` uses all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise of ``"eemd"`` and ``"ceemdan"``: one seed per
        recording and channel, drawn before the work is split, so the output
        does not depend on ``n_jobs``. Ignored by ``"emd"``.
    progress : bool, default=False
        Show a tqdm progress bar over the recordings being decomposed.
    min_n_times : int, default=16
        Shortest recording accepted, in samples (see
        :data:`~sklearn_semg.utils.MIN_N_TIMES`).

    Attributes
    ----------
    n_channels_ : int
        Number of channels per recording seen at ``fit``.
    backend_ : {"numba", "pyemd"}
        The back-end that runs.

    See Also
    --------
    sklearn_semg.hht.decompose : The decomposition of one signal.

    Notes
    -----
    ``transform`` returns a 1-D object array of
    :class:`~sklearn_semg.hht.Decomposition`, one per recording (recordings
    may differ in length, so the IMFs do not fit one numeric array). Only the
    HHT steps of this package read it; it is not a feature table:
    ``get_feature_names_out`` names its channels (the next step's
    ``input_features``) and ``set_output`` leaves it unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_semg import EMDDecomposer, HHTTransformer
    >>> X = np.random.default_rng(0).standard_normal((3, 2, 500))
    >>> D = EMDDecomposer().fit_transform(X)
    >>> D.shape, D[0].n_channels, D[0].imfs[0].shape[1]
    ((3,), 2, 500)
    >>> hht = HHTTransformer(n_freq_bins=8, n_time_bins=8)
    >>> pipe = make_pipeline(EMDDecomposer(), hht)
    >>> np.array_equal(pipe.fit_transform(X), hht.fit_transform(X))
    True
    """

    _parameter_constraints: dict = {
        **DECOMPOSITION_CONSTRAINTS,
        "progress": ["boolean"],
    }

    def __init__(
        self,
        *,
        max_imf=10,
        method="emd",
        emd_params=None,
        backend="auto",
        memory=None,
        n_jobs=None,
        random_state=None,
        progress=False,
        min_n_times=MIN_N_TIMES,
    ):
        self.max_imf = max_imf
        self.method = method
        self.emd_params = emd_params
        self.backend = backend
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress
        self.min_n_times = min_n_times

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
        self : EMDDecomposer
            Fitted decomposer.
        """
        self._fit(X)
        return self

    def _fit(self, X):
        """Validate the recordings, record their channels and the back-end."""
        recordings = self._validate_recordings(X, reset=True)
        self.backend_ = self._emd_settings()["backend"]
        return recordings

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then decompose ``X``, validating the recordings once.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings.
        y : None
            Ignored.

        Returns
        -------
        decompositions : ndarray of shape (n_recordings,), dtype=object
            As :meth:`transform`.
        """
        return self._decompose(self._fit(X))

    def transform(self, X):
        """Decompose every channel of every recording.

        Parameters
        ----------
        X : array-like of shape (n_recordings, n_times) or \
                (n_recordings, n_channels, n_times), or list of array-like
            Raw recordings, with the number of channels seen at ``fit``.

        Returns
        -------
        decompositions : ndarray of shape (n_recordings,), dtype=object
            One :class:`~sklearn_semg.hht.Decomposition` per recording.
        """
        return self._decompose(self._validate_recordings(X, reset=False))

    def _decompose(self, recordings):
        decompositions = self._as_decompositions(recordings)
        cache = decompositions[0]._cache
        d_settings = decompositions[0].settings
        todo = [
            i
            for i, d in enumerate(decompositions)
            if cache is None or d.key not in cache
        ]
        computed = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_decompose_channels)(
                decompositions[i]._recording, decompositions[i]._seeds, d_settings
            )
            for i in todo
        )
        if self.progress and todo:
            from tqdm.auto import tqdm

            computed = tqdm(computed, total=len(todo), desc="EMD", unit="rec")
        for i, imfs in zip(todo, computed, strict=True):
            d = decompositions[i]
            d._imfs = imfs if cache is None else cache.put(d.key, imfs)
            d._recording = d._seeds = None
        out = np.empty(len(decompositions), dtype=object)
        for i, d in enumerate(decompositions):
            d.shared = True
            out[i] = d
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags
