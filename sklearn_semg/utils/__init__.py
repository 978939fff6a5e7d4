"""Input validation and helpers shared by the estimators.

``sklearn_semg.utils.validation`` holds the one validation entry point per
kind of input (recordings, HHT matrices, frequency bands); its functions are
exported here too.
"""

from ._batches import predict_in_batches
from ._validation import MIN_N_TIMES
from .validation import (
    SEMG_BAND,
    check_freq_range,
    check_hht_matrices,
    check_recordings,
    semg_band,
)

__all__ = [
    "MIN_N_TIMES",
    "SEMG_BAND",
    "check_freq_range",
    "check_hht_matrices",
    "check_recordings",
    "predict_in_batches",
    "semg_band",
]
