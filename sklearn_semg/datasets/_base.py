"""What the loaders of this package share: checks of folders, one report of
the files that cannot be used, and the MuscleTracker description and Bunch
(read from text files or from the bundled copy)."""

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = [
    "MOVEMENT_NAMES",
    "MUSCLETRACKER_FS",
    "NOT_UTF8",
    "check_folder",
    "muscletracker_bunch",
    "muscletracker_descr",
    "report_problems",
    "utf8_name",
]

#: MuscleTracker movements 1..5, in movement-number order.
MOVEMENT_NAMES = (
    "pronation with extended fingers",
    "flexion",
    "extension",
    "pronation with flexed fingers",
    "relaxation",
)

#: Sampling rate of MuscleTracker as used by the authors' analysis code.
MUSCLETRACKER_FS = 1001.0

MUSCLETRACKER_CITATION = (
    '"Surface Electromyography Dataset from Different Movements of the Hand '
    'using a portable and a non-portable device", E. Morales-Vargas et al. '
    "Licence: CC0 1.0 Universal (public domain dedication)."
)


def report_problems(problems, *, what, where, strict, stacklevel=3):
    """Warn about (or, if ``strict``, raise on) files that could not be used.

    ``problems`` is a list of ``(file name, reason)``; all of them go into ONE
    message so that nothing is dropped silently and the user sees the whole
    list at once.
    """
    if not problems:
        return
    listing = "\n".join(f"  - {name}: {reason}" for name, reason in problems)
    if strict:
        raise ValueError(
            f"{what}(strict=True): {len(problems)} file(s) in {where} cannot be "
            f"used:\n{listing}\nFix or remove them, or pass strict=False to skip "
            "them with a warning."
        )
    warnings.warn(
        f"{what}: skipped {len(problems)} file(s) in {where} that cannot be "
        f"used:\n{listing}\nFix or remove them, or pass strict=True to raise an "
        "error instead. The skipped files are also listed in the `problems` "
        "field of the result.",
        UserWarning,
        stacklevel=stacklevel,
    )


def check_folder(path, param_name="path"):
    """Return ``path`` as a Path to an existing directory, or raise."""
    try:
        folder = Path(os.fspath(path))
    except TypeError as exc:
        raise TypeError(
            f"{param_name} must be a str or os.PathLike naming a folder; got "
            f"{type(path).__name__} {path!r}."
        ) from exc
    if not folder.exists():
        raise FileNotFoundError(f"Folder not found: {param_name}={str(folder)!r}.")
    if not folder.is_dir():
        raise NotADirectoryError(
            f"{param_name}={str(folder)!r} is a file; expected a folder."
        )
    return folder


NOT_UTF8 = (
    "its name is not valid UTF-8 (shown escaped); rename it: its name could not "
    "be written to CSV files and reports"
)


def utf8_name(name):
    """True if a file name (as Python decoded it) can be written as UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def muscletracker_bunch(
    *, data, files, subject, repetition, movement, gender, amplifier, descr, problems
):
    """The Bunch of ``load_muscletracker``, shared with ``load_movements``.

    ``gender`` holds ``"M"``, ``"F"`` or ``""`` (unknown).
    """
    movement = np.asarray(movement, dtype=np.int64)
    names = np.asarray(MOVEMENT_NAMES)
    gender = pd.array(
        [g if g else pd.NA for g in np.asarray(gender, dtype=str).tolist()],
        dtype="string",
    )
    metadata = pd.DataFrame(
        {
            "file": pd.Series(np.asarray(files, dtype=str).tolist(), dtype=object),
            "subject": np.asarray(subject, dtype=np.int64),
            "repetition": np.asarray(repetition, dtype=np.int64),
            "movement": movement,
            "movement_name": pd.Series(names[movement - 1].tolist(), dtype=object),
            "gender": gender,
            "n_times": np.asarray([x.shape[1] for x in data], dtype=np.int64),
        }
    )
    return Bunch(
        data=data,
        target=names[movement - 1],
        target_names=names,
        groups=metadata["subject"].to_numpy(copy=True),
        metadata=metadata,
        fs=MUSCLETRACKER_FS,
        amplifier=amplifier,
        device=amplifier,  # its former name, removed in 0.3
        DESCR=descr,
        problems=problems,
    )


def muscletracker_descr(amplifier, n_files, n_subjects, *, bundled=False):
    unit = (
        "integer counts of the MioTracker (portable) amplifier"
        if amplifier == "miotracker"
        else "millivolts from the BIOPAC MP36"
    )
    source = (
        "This copy is bundled inside sklearn-semg (int16 samples, exactly the "
        "integers of the original text files) and needs no download. The full "
        "CC0 1.0 text is in sklearn_semg/datasets/data/"
        "muscletracker_LICENSE.txt.\n\n"
        if bundled
        else ""
    )
    title = f"MuscleTracker sEMG, {amplifier} recordings"
    return (
        f"{title}\n{'=' * len(title)}\n\n"
        f"{MUSCLETRACKER_CITATION}\n\n"
        f"{source}"
        f"{n_files} recordings of {n_subjects} subjects, forearm of the right arm, two "
        f"channels, in {unit}. Each file s_r_m.txt is subject s, repetition r, "
        "movement m: 1 pronation with extended fingers, 2 flexion, 3 extension, "
        "4 pronation with flexed fingers, 5 relaxation. Recordings keep their "
        "own lengths (data is a list of (2, n_times) arrays).\n\n"
        "Sampling rate: fs = 1001 Hz, as in the authors' analysis code "
        "(nominally 1 kHz; they band-pass 20-500 Hz and notch 60 Hz).\n\n"
        "Gender comes from 'Additional information/Metadata.csv', which covers "
        "participants 1-19 only and does not say which device's subject "
        "numbering it follows; it is applied to both devices by subject number "
        "(NA above 19), so treat it with care.\n\n"
        "Subjects differ: evaluate with subject-wise splits, e.g. "
        "GroupKFold with groups=bunch.groups; random splits inflate accuracy."
    )
