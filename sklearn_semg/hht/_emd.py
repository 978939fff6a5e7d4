"""Empirical mode decomposition back-ends (the EMD-signal package, PyEMD)."""

import numpy as np

__all__ = ["EMD_METHODS", "decompose"]

#: Decompositions of the EMD-signal package that ``method`` accepts: plain
#: EMD (the reference), ensemble EMD and complete ensemble EMD with adaptive
#: noise.
EMD_METHODS = ("emd", "eemd", "ceemdan")


def _make_decomposer(method, emd_params):
    # Imported here so that ``import sklearn_semg`` stays light.
    from PyEMD import CEEMDAN, EEMD, EMD

    params = dict(emd_params or {})
    if method == "emd":
        return EMD(**params)
    # Parallelism is ours (joblib over recordings): PyEMD's own process pool
    # would oversubscribe the CPU and make the noise depend on scheduling.
    params.setdefault("parallel", False)
    cls = EEMD if method == "eemd" else CEEMDAN
    return cls(**params)


def decompose(signal, *, method="emd", max_imf=10, seed=None, emd_params=None):
    """Decompose one 1-D signal into IMFs (and residue, as PyEMD returns it).

    Parameters
    ----------
    signal : ndarray of shape (n_times,)
        float64 signal.
    method : {"emd", "eemd", "ceemdan"}, default="emd"
        ``"emd"`` is ``PyEMD.EMD()(signal, max_imf=max_imf)``, the reference.
    max_imf : int, default=10
        Largest number of IMFs; ``-1`` means all.
    seed : int or None, default=None
        Seed of the noise of EEMD and CEEMDAN; ignored by EMD.
    emd_params : dict or None, default=None
        Keyword arguments of the PyEMD class (``trials``, ``noise_width``...).

    Returns
    -------
    imfs : ndarray of shape (n_imfs, n_times)
        May have zero rows for an all-zero signal.
    """
    decomposer = _make_decomposer(method, emd_params)
    if method != "emd" and seed is not None:
        decomposer.noise_seed(int(seed))
    imfs = decomposer(signal, max_imf=max_imf)
    return np.atleast_2d(np.asarray(imfs, dtype=np.float64))
