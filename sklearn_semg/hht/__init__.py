"""Hilbert-Huang transform: EMD back-ends, one decomposition per recording,
Hilbert spectrum binning, HHTTransformer.

Pure numpy/scipy, plus the compiled EMD engine (numba, imported on first use);
nothing here imports torch.

The steps that decompose (:class:`EMDDecomposer`, :class:`HHTTransformer`,
:class:`~sklearn_semg.HHTFeatures`) take ``memory``: a joblib ``Memory`` or a
folder path, as :class:`sklearn.pipeline.Pipeline` does. Each recording's
decomposition, and what each step reads off it, is stored under
``<location>/sklearn_semg/`` keyed by the recording's samples (and noise
seeds, for EEMD and CEEMDAN) and every setting that changes the result, the
back-end and its version included. A cross-validation, a search over later
steps, or several methods on the same recordings then decompose each
recording once in total, in this process and in others. Entries are plain
``.npz`` files written atomically; delete the folder to clear the cache.
"""

from ._decomposition import Decomposition, EMDDecomposer, is_decomposed
from ._emd import BACKENDS, EMD_METHODS, decompose
from ._spectrum import hilbert_spectrum, instantaneous_amplitude_frequency
from ._store import HHTStore, build_hht_store, open_hht_store
from ._transformer import HHTTransformer

__all__ = [
    "BACKENDS",
    "EMD_METHODS",
    "Decomposition",
    "EMDDecomposer",
    "HHTStore",
    "HHTTransformer",
    "build_hht_store",
    "decompose",
    "hilbert_spectrum",
    "instantaneous_amplitude_frequency",
    "is_decomposed",
    "open_hht_store",
]
