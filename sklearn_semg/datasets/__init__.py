"""Data sets: synthetic generators, loaders of real recordings and HHT folders."""

from ._bundled import load_movements
from ._formats import load_recordings, read_recording
from ._hht_dir import HHT_CLASSES, load_hht_dir, save_hht_dir
from ._raw import (
    MOVEMENT_NAMES,
    load_biceps_fatigue,
    load_muscletracker,
    load_recordings_dir,
)
from ._synthetic import make_semg

__all__ = [
    "HHT_CLASSES",
    "MOVEMENT_NAMES",
    "load_biceps_fatigue",
    "load_hht_dir",
    "load_movements",
    "load_muscletracker",
    "load_recordings",
    "load_recordings_dir",
    "make_semg",
    "read_recording",
    "save_hht_dir",
]
