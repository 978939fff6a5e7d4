"""What the loaders of this package (and the CLI) share: checks of folders,
one report of the files that cannot be used, the ``.npz`` HHT file format
(listing, header reading, the index, atomic writing, the name checks), and
the MuscleTracker description and Bunch (read from text files or from the
bundled copy)."""

import contextlib
import os
import re
import stat
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._io import atomic_write

__all__ = [
    "HHT_KEY",
    "INDEX_NAME",
    "MOVEMENT_WORDS",
    "MOVEMENT_NAMES",
    "MUSCLETRACKER_FS",
    "NOT_UTF8",
    "check_folder",
    "check_muscle",
    "muscletracker_bunch",
    "muscletracker_descr",
    "npy_stream",
    "npz_header",
    "read_hht_index",
    "regular_npz_files",
    "report_problems",
    "utf8_name",
    "write_npz_atomic",
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


# -- the .npz HHT file format ---------------------------------------------------
#: Key under which :func:`save_hht_dir` stores the matrix.
HHT_KEY = "hht"

#: Lower-case words the name parser looks for, in priority order.
MOVEMENT_WORDS = (
    ("fatiguetest", "full"),
    ("full", "full"),
    ("half", "half"),
    ("invalid", "invalid"),
    ("wrong", "invalid"),
)


def _unreadable(exc):
    """Why a file could not be read, from the exception its reading raised."""
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        return f"unreadable ({type(exc).__name__}: {exc})"
    return f"unreadable: corrupt .npz archive ({type(exc).__name__}: {exc})"


def regular_npz_files(folder):
    """``(files, problems)``: the regular files of ``folder`` named ``*.npz``
    (any case), in name order, and every other entry with such a name
    (folder, symbolic link, FIFO, device...) as ``(name, reason)``. Nothing
    is opened, and links are never followed."""
    files, problems = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.name.lower().endswith(".npz"):
            continue
        if not utf8_name(entry.name):
            problems.append((ascii(entry.name), NOT_UTF8))
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            problems.append((entry.name, f"cannot be examined ({exc.strerror})"))
            continue
        if stat.S_ISREG(mode):
            files.append(Path(entry.path))
            continue
        if stat.S_ISLNK(mode):
            kind = "a symbolic link"
        elif stat.S_ISDIR(mode):
            kind = "a folder"
        elif stat.S_ISFIFO(mode):
            kind = "a FIFO"
        elif stat.S_ISSOCK(mode):
            kind = "a socket"
        else:
            kind = "a device or other special file"
        problems.append((entry.name, f"is {kind}; only regular files are read"))
    return files, problems


def _npy_member(archive):
    """Name of the array an ``.npz`` holds: ``hht.npy``, else its first
    ``.npy`` member; None if it has none."""
    names = [n for n in archive.namelist() if n.endswith(".npy")]
    if f"{HHT_KEY}.npy" in names:
        return f"{HHT_KEY}.npy"
    return names[0] if names else None


def _npy_header(stream):
    """``(shape, fortran_order, dtype)`` of a ``.npy`` stream, reading only
    its header."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream, max_header_size=10_000)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(stream, max_header_size=10_000)
    raise ValueError(f"unsupported .npy format version {version}")


def _open_npz(file):
    """``(open file, zip archive)`` of a regular ``file``, or ValueError."""
    f = open(file, "rb")  # noqa: SIM115 - closed by the caller, or below
    try:
        head = f.read(6)
        if head.startswith(b"\x93NUMPY"):
            raise ValueError("is a single .npy array, not an .npz archive")
        if not head.startswith(b"PK"):
            raise ValueError("unreadable: not an .npz archive (no zip signature)")
        f.seek(0)
        return f, zipfile.ZipFile(f)
    except Exception:
        f.close()
        raise


@contextlib.contextmanager
def npy_stream(file):
    """The array member of an ``.npz`` file, its header read and no data:
    yields ``(stream, shape, fortran_order, dtype, member_size)``. Any failure
    of the file (zip, zlib, OS errors), in here or in the caller's block,
    becomes a ValueError that says why."""
    try:
        f, archive = _open_npz(file)
        with f, archive:
            member = _npy_member(archive)
            if member is None:
                raise ValueError(
                    "holds no .npy array"
                    + ("" if archive.namelist() else " (an empty .npz archive)")
                )
            with archive.open(member) as stream:
                shape, fortran, dtype = _npy_header(stream)
                yield (
                    stream,
                    tuple(shape),
                    fortran,
                    dtype,
                    archive.getinfo(member).file_size,
                )
    except ValueError:
        raise
    except Exception as exc:  # whatever a file can cause
        raise ValueError(_unreadable(exc)) from exc


def npz_header(file):
    """``(shape, dtype)`` of the matrix in an ``.npz`` file, from its header
    only (no data read); ValueError says why there is none."""
    with npy_stream(file) as (_, shape, _, dtype, _):
        return shape, dtype


#: Name of the index that ``sklearn-semg hht`` writes beside the files.
INDEX_NAME = "index.csv"


def read_hht_index(folder, *, hint=""):
    """The folder's ``index.csv`` (as ``sklearn-semg hht`` writes it) as a
    table of strings, or None without one. An unreadable index is a
    ValueError naming it (``hint`` ends the message)."""
    index = Path(folder) / INDEX_NAME
    if not index.is_file():
        return None
    try:
        return pd.read_csv(index, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{str(index)!r} could not be read as a CSV ({exc}); fix or remove it"
            f"{hint}."
        ) from None


def check_muscle(muscle):
    """``muscle`` upper-cased, or a ValueError: the part of an HHT file name
    (``MUSCLE_full_M_001.npz``) must not change the label read back."""
    if not isinstance(muscle, str) or not re.fullmatch(r"[A-Za-z0-9]+", muscle):
        raise ValueError(
            "muscle must be a non-empty str of letters and digits (no '_', '-' "
            f"or spaces, which separate the parts of the file name); got {muscle!r}."
        )
    lower = muscle.lower()
    clash = [word for word, _ in MOVEMENT_WORDS if word in lower]
    if clash or lower.startswith("test"):
        why = f"contains {clash[0]!r}" if clash else "starts with 'test'"
        raise ValueError(
            f"muscle={muscle!r} {why}, which would change the label read back from "
            "the file name; choose another name, e.g. 'BICEPS'."
        )
    return muscle.upper()


def write_npz_atomic(target, matrix, *, overwrite):
    """Write ``matrix`` to ``target`` atomically (see ``utils.atomic_write``).

    The temporary name starts with a dot and ends in ``.tmp``, so
    ``load_hht_dir`` never reads a half-written file; without ``overwrite`` a
    file that appeared after the up-front check is not clobbered either.
    """
    try:
        atomic_write(
            target,
            lambda f: np.savez_compressed(f, **{HHT_KEY: matrix}),
            overwrite=overwrite,
        )
    except FileExistsError as exc:
        raise FileExistsError(f"{exc} Pass overwrite=True to replace it.") from None
