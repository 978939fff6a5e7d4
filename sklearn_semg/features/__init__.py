"""Explicit sEMG features for the scaler → classifier tail of a Pipeline.

:class:`EMGFeatures` computes the classic time-domain and spectral baseline
(MAV, RMS, waveform length, zero crossings, slope sign changes, variance, mean
and median frequency) and the named feature sets of the field
(:data:`~sklearn_semg.features.FEATURE_SETS`: Hudgins TD, TDAR, TD-PSD, LS4, Hjorth); :class:`HHTFeatures` reads features off the Hilbert
spectrum (relative band energies, instantaneous mean and median frequency and
their trend over time, IMF energies) from raw recordings;
:class:`MarginalSpectrum` reads the marginal Hilbert spectrum off the matrices
of :class:`~sklearn_semg.HHTTransformer`; :class:`SubjectStandardScaler`
calibrates any of them per subject (or session), without labels. Pure
numpy/scipy; nothing here imports torch.
"""

from ._classic import FEATURE_SETS, EMGFeatures
from ._hht_features import HHTFeatures
from ._marginal import MarginalSpectrum
from ._subject import SubjectStandardScaler

__all__ = [
    "FEATURE_SETS",
    "EMGFeatures",
    "HHTFeatures",
    "MarginalSpectrum",
    "SubjectStandardScaler",
]
