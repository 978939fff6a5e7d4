"""Conditioning of raw sEMG recordings before any feature or transform."""

from ._filter import SEMGFilter

__all__ = ["SEMGFilter"]
