"""Data sets: synthetic generators, loaders of real recordings and HHT folders."""

from ._bundled import load_movements
from ._formats import load_recordings, read_recording
from ._hht_dir import NPZ_NAME_LABELS, deprecated_name, load_hht_dir, save_hht_dir
from ._raw import (
    MOVEMENT_NAMES,
    load_biceps_fatigue,
    load_muscletracker,
    load_recordings_dir,
)
from ._synthetic import make_semg

__all__ = [
    "MOVEMENT_NAMES",
    "NPZ_NAME_LABELS",
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


def __getattr__(name):
    return deprecated_name(__name__, name)
