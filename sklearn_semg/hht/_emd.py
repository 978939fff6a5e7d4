"""Empirical mode decomposition: the compiled engine and the EMD-signal package.

Two back-ends compute the same decomposition:

``"numba"``
    :mod:`sklearn_semg.hht._emd_numba`, a compiled port of PyEMD's ``EMD``
    (cubic not-a-knot splines, ``nbsym`` mirrored extrema, PyEMD's stopping
    rules), with EEMD and CEEMDAN driven from here exactly as PyEMD drives
    them, with the same noise for the same seed.
``"pyemd"``
    The EMD-signal package itself (``PyEMD.EMD``, ``EEMD``, ``CEEMDAN`` with
    ``parallel=False``): the reference.

``"auto"`` (the default everywhere) is the compiled engine whenever it
supports the requested settings, otherwise PyEMD.
"""

import numpy as np

__all__ = [
    "BACKENDS",
    "EMD_METHODS",
    "ENGINE_VERSION",
    "check_emd_params",
    "decompose",
    "resolve_backend",
]

#: Decompositions that ``method`` accepts: plain EMD (the reference),
#: ensemble EMD and complete ensemble EMD with adaptive noise.
EMD_METHODS = ("emd", "eemd", "ceemdan")

#: Values of ``backend``: ``"auto"`` (the compiled engine where it supports
#: the settings, else PyEMD), ``"numba"`` (the compiled engine; an error for
#: settings it does not support) and ``"pyemd"`` (the EMD-signal package).
BACKENDS = ("auto", "numba", "pyemd")

#: Changes whenever the compiled engine could return different numbers, so
#: that cached decompositions of an older engine are not reused.
ENGINE_VERSION = "numba-emd-1"

# Keyword arguments of PyEMD's classes (all reach EMD through **kwargs).
_EMD_KEYS = {
    "spline_kind": "cubic",
    "nbsym": 2,
    "extrema_detection": "simple",
    "energy_ratio_thr": 0.2,
    "std_thr": 0.2,
    "svar_thr": 0.001,
    "total_power_thr": 0.005,
    "range_thr": 0.001,
    "scale_factor": 1.0,
    "DTYPE": np.float64,
    "FIXE": 0,
    "FIXE_H": 0,
    "MAX_ITERATION": 1000,
}
_ENSEMBLE_KEYS = {"trials", "noise_kind", "parallel", "processes", "ext_EMD"}
_EEMD_KEYS = _ENSEMBLE_KEYS | {"noise_width", "separate_trends"}
_CEEMDAN_KEYS = _ENSEMBLE_KEYS | {"epsilon", "noise_scale", "beta_progress", "seed"}
_ACCEPTED = {
    "emd": set(_EMD_KEYS),
    "eemd": set(_EMD_KEYS) | _EEMD_KEYS,
    # CEEMDAN's max_imf caps its loop over components
    "ceemdan": set(_EMD_KEYS) | _CEEMDAN_KEYS | {"max_imf"},
}


def check_emd_params(method, emd_params, *, owner="decompose"):
    """``emd_params`` as a plain dict, checked against ``method``'s keywords.

    Parameters
    ----------
    method : {"emd", "eemd", "ceemdan"}
        The decomposition.
    emd_params : dict or None
        Keyword arguments of the PyEMD class of ``method``.
    owner : str, default="decompose"
        Who receives them, for the error message.

    Returns
    -------
    params : dict
        A copy of ``emd_params`` (empty for ``None``).
    """
    if method not in EMD_METHODS:
        raise ValueError(
            f"The 'method' parameter of {owner} must be one of {EMD_METHODS}; got "
            f"{method!r}."
        )
    if emd_params is None:
        return {}
    if not isinstance(emd_params, dict):
        raise ValueError(
            f"The 'emd_params' parameter of {owner} must be a dict of keyword "
            f"arguments of PyEMD's {method.upper()} or None; got "
            f"{type(emd_params).__name__}."
        )
    unknown = sorted(set(emd_params) - _ACCEPTED[method], key=str)
    if unknown:
        raise ValueError(
            f"The 'emd_params' parameter of {owner} got {unknown} that PyEMD's "
            f"{method.upper()} does not take (method={method!r}); expected keys "
            f"among {sorted(_ACCEPTED[method])}."
        )
    return dict(emd_params)


def _unsupported_by_engine(method, params):
    """Settings the compiled engine does not reproduce (empty if none)."""
    reasons = []
    if params.get("spline_kind", "cubic") != "cubic":
        reasons.append(f"spline_kind={params['spline_kind']!r}")
    if params.get("extrema_detection", "simple") != "simple":
        reasons.append(f"extrema_detection={params['extrema_detection']!r}")
    nbsym = params.get("nbsym", 2)
    if not (isinstance(nbsym, (int, np.integer)) and nbsym >= 1):
        reasons.append(f"nbsym={nbsym!r}")
    if params.get("ext_EMD") is not None:
        reasons.append("ext_EMD")
    if params.get("separate_trends", False):
        reasons.append("separate_trends=True")
    if params.get("noise_kind", "normal") not in ("normal", "uniform"):
        reasons.append(f"noise_kind={params['noise_kind']!r}")
    return reasons


def resolve_backend(backend, method="emd", emd_params=None, *, owner="decompose"):
    """The back-end that will run: ``"numba"`` or ``"pyemd"``.

    Parameters
    ----------
    backend : {"auto", "numba", "pyemd"}
        The requested back-end.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        The decomposition.
    emd_params : dict or None, default=None
        Keyword arguments of the PyEMD class.
    owner : str, default="decompose"
        Who asks, for the error messages.

    Returns
    -------
    backend : {"numba", "pyemd"}
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"The 'backend' parameter of {owner} must be one of {BACKENDS}; got "
            f"{backend!r}."
        )
    params = check_emd_params(method, emd_params, owner=owner)
    if backend == "pyemd":
        return "pyemd"
    reasons = _unsupported_by_engine(method, params)
    if not reasons:
        return "numba"
    if backend == "auto":
        return "pyemd"
    raise ValueError(
        f"backend='numba' of {owner} does not support {', '.join(reasons)} "
        "(it reproduces PyEMD with cubic splines, simple extrema and nbsym >= 1); "
        "use backend='pyemd' or backend='auto' (which falls back to PyEMD)."
    )


# ---------------------------------------------------------------- PyEMD
def _pyemd_emd(params):
    from PyEMD import EMD

    return EMD(**{k: v for k, v in params.items() if k in _EMD_KEYS})


def _pyemd_decompose(signal, method, max_imf, seed, params):
    from PyEMD import CEEMDAN, EEMD, EMD

    if method == "emd":
        return EMD(**params)(signal, max_imf=max_imf)
    # Parallelism is ours (joblib over recordings): PyEMD's own process pool
    # would oversubscribe the CPU and make the noise depend on scheduling.
    params = {"parallel": False, **params}
    decomposer = (EEMD if method == "eemd" else CEEMDAN)(**params)
    if seed is not None:
        decomposer.noise_seed(int(seed))
    return decomposer(signal, max_imf=max_imf)


# ------------------------------------------------------- compiled engine
class _EngineEMD:
    """One configured EMD on the compiled kernel; PyEMD where it defers."""

    def __init__(self, params):
        from ._emd_numba import STATUS_OK, emd_kernel

        self._kernel = emd_kernel
        self._ok = STATUS_OK
        self._params = params
        get = params.get
        self._config = (
            float(get("std_thr", 0.2)),
            float(get("svar_thr", 0.001)),
            float(get("energy_ratio_thr", 0.2)),
            float(get("total_power_thr", 0.005)),
            float(get("range_thr", 0.001)),
            int(get("nbsym", 2)),
            int(get("MAX_ITERATION", 1000)),
            int(get("FIXE", 0)),
            int(get("FIXE_H", 0)),
        )

    def __call__(self, signal, max_imf=-1):
        signal = np.ascontiguousarray(signal, dtype=np.float64)
        imfs, status = self._kernel(signal, int(max_imf), *self._config)
        if status != self._ok:
            # a case PyEMD handles its own way (or fails on): ask PyEMD
            return _pyemd_emd(self._params).emd(signal, max_imf=max_imf)
        return imfs


def _ensemble_noise(rng, kind, scale, size):
    """Noise as PyEMD's ``generate_noise`` draws it."""
    if kind == "normal":
        return rng.normal(loc=0, scale=scale, size=size)
    return rng.uniform(low=-scale / 2, high=scale / 2, size=size)


def _engine_eemd(emd, signal, max_imf, seed, params):
    """``PyEMD.EEMD(parallel=False)``, trial for trial, on the engine."""
    trials = params.get("trials", 100)
    noise_width = params.get("noise_width", 0.05)
    kind = params.get("noise_kind", "normal")
    rng = np.random.RandomState()
    if seed is not None:
        rng.seed(int(seed))
    scale = noise_width * np.abs(np.max(signal) - np.min(signal))
    sums, counts = [], []
    for _ in range(trials):
        noise = _ensemble_noise(rng, kind, scale, len(signal))
        for k, imf in enumerate(emd(signal + noise, max_imf)):
            if k == len(sums):
                sums.append(imf.copy())
                counts.append(1)
            else:
                sums[k] += imf  # np.mean(axis=0) adds the trials in order
                counts[k] += 1
    return np.array([s / c for s, c in zip(sums, counts, strict=True)])


def _engine_ceemdan(emd, signal, max_imf, seed, params):
    """``PyEMD.CEEMDAN(parallel=False)``, step for step, on the engine."""
    trials = params.get("trials", 100)
    epsilon = params.get("epsilon", 0.005)
    noise_scale = float(params.get("noise_scale", 1.0))
    range_thr = float(params.get("range_thr", 0.01))
    total_power_thr = float(params.get("total_power_thr", 0.05))
    beta_progress = bool(params.get("beta_progress", True))
    max_components = int(params.get("max_imf", 100))
    kind = params.get("noise_kind", "normal")
    rng = np.random.RandomState(seed=params.get("seed"))
    if seed is not None:
        rng.seed(int(seed))

    scale_s = np.std(signal)
    S = signal / scale_s
    noises = _ensemble_noise(rng, kind, noise_scale, (trials, S.size))
    noise_imfs = [emd(noise, -1) for noise in noises]
    if beta_progress:
        noise_imfs = [imfs / np.std(imfs[0]) for imfs in noise_imfs]

    # the first component: EEMD of the signal with the noises' first IMFs
    total = np.zeros((1, S.size))
    for trial in range(trials):
        imfs = emd(S + epsilon * noise_imfs[trial][0], 1)
        if total.shape[0] < imfs.shape[0]:
            grow = imfs.shape[0] - total.shape[0]
            total = np.vstack((total, np.zeros((grow, S.size))))
        total[: imfs.shape[0]] += imfs
    last_imf = (total / trials)[0]
    components = last_imf.reshape((-1, last_imf.size))
    prev_res = S - last_imf

    def finished():
        n_components = components.shape[0]
        if 0 < max_imf <= n_components:
            return True
        R = S - np.sum(components, axis=0)
        if emd(R, 1).shape[0] == 1:
            return True
        if np.max(R) - np.min(R) < range_thr:
            return True
        return bool(np.sum(np.abs(R)) < total_power_thr)

    for _ in range(max_components):
        if finished():
            break
        n_components = components.shape[0]
        beta = epsilon * np.std(prev_res)
        local_mean = np.zeros(S.size)
        for trial in range(trials):
            noise_imf = noise_imfs[trial]
            res = prev_res.copy()
            if len(noise_imf) > n_components:
                res += beta * noise_imf[n_components]
            local_mean += emd(res, 1)[-1] / trials
        last_imf = prev_res - local_mean
        components = np.vstack((components, last_imf))
        prev_res = local_mean.copy()
    res = S - np.sum(components, axis=0)
    return np.vstack((components, res)) * scale_s


def _engine_decompose(signal, method, max_imf, seed, params):
    emd = _EngineEMD(params)
    if method == "emd":
        return emd(signal, max_imf)
    if method == "eemd":
        return _engine_eemd(emd, signal, max_imf, seed, params)
    if np.std(signal) == 0:  # CEEMDAN divides by it: PyEMD's own outcome
        return _pyemd_decompose(signal, method, max_imf, seed, params)
    return _engine_ceemdan(emd, signal, max_imf, seed, params)


def decompose(
    signal, *, method="emd", max_imf=10, seed=None, emd_params=None, backend="auto"
):
    """Decompose one 1-D signal into IMFs (and residue, as PyEMD returns it).

    Parameters
    ----------
    signal : ndarray of shape (n_times,)
        The signal; converted to float64.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        ``"emd"`` is ``PyEMD.EMD()(signal, max_imf=max_imf)``, the reference;
        ``"eemd"`` and ``"ceemdan"`` are PyEMD's ``EEMD`` and ``CEEMDAN``
        with ``parallel=False``.
    max_imf : int, default=10
        Largest number of IMFs; ``-1`` means all.
    seed : int or None, default=None
        Seed of the noise of EEMD and CEEMDAN (PyEMD's ``noise_seed``);
        ignored by EMD. Both back-ends draw the same noise for the same seed.
    emd_params : dict or None, default=None
        Keyword arguments of the PyEMD class (``trials``, ``noise_width``,
        ``std_thr``...); a key that class does not take is an error.
    backend : {"auto", "numba", "pyemd"}, default="auto"
        ``"numba"``: the compiled engine, which reproduces PyEMD to round-off
        (cubic splines with simple extrema only); ``"pyemd"``: the EMD-signal
        package; ``"auto"``: the compiled engine when it supports the
        settings, else PyEMD.

    Returns
    -------
    imfs : ndarray of shape (n_imfs, n_times)
        float64; may have zero rows for an all-zero signal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.hht import decompose
    >>> t = np.arange(1000) / 1000
    >>> x = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 5 * t)
    >>> fast = decompose(x)
    >>> reference = decompose(x, backend="pyemd")
    >>> fast.shape == reference.shape, float(np.abs(fast - reference).max())
    (True, 0.0)
    """
    params = check_emd_params(method, emd_params)
    engine = resolve_backend(backend, method, params)
    signal = np.ascontiguousarray(signal, dtype=np.float64)
    if engine == "pyemd":
        imfs = _pyemd_decompose(signal, method, max_imf, seed, params)
    else:
        imfs = _engine_decompose(signal, method, max_imf, seed, params)
    return np.atleast_2d(np.asarray(imfs, dtype=np.float64))
