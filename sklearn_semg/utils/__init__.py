"""Input validation and helpers shared by the estimators."""

from ._base import SEMG_BAND, semg_band
from ._validation import MIN_N_TIMES, check_recordings

__all__ = ["MIN_N_TIMES", "SEMG_BAND", "check_recordings", "semg_band"]
