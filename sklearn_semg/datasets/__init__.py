"""Data sets: synthetic generators, loaders of real recordings and HHT folders."""

from ._synthetic import make_semg

__all__ = ["make_semg"]
