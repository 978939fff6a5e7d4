"""Conditioning of raw sEMG recordings before any feature or transform."""

from ._filter import SEMGFilter
from ._vote import majority_vote
from ._windows import window_recordings

__all__ = ["SEMGFilter", "majority_vote", "window_recordings"]
