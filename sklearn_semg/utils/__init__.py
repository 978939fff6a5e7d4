"""Input validation and helpers shared by the estimators."""

from ._validation import MIN_N_TIMES, check_recordings

__all__ = ["MIN_N_TIMES", "check_recordings"]
