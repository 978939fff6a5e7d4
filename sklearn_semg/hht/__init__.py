"""Hilbert-Huang transform: EMD back-ends, Hilbert spectrum binning, HHTTransformer.

Pure numpy/scipy; nothing here imports torch.
"""

from ._emd import EMD_METHODS, decompose
from ._spectrum import hilbert_spectrum, instantaneous_amplitude_frequency
from ._transformer import HHTTransformer

__all__ = [
    "EMD_METHODS",
    "HHTTransformer",
    "decompose",
    "hilbert_spectrum",
    "instantaneous_amplitude_frequency",
]
