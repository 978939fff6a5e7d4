"""Conditioning of raw sEMG recordings before any feature or transform."""

from ._filter import SEMGFilter
from ._windows import window_recordings

__all__ = ["SEMGFilter", "window_recordings"]
