"""Rebuild the MioTracker recordings bundled in ``sklearn_semg/datasets/data``.

Usage::

    python tools/build_bundled.py [--source PATH] [--output DIR] [--force]

A maintenance script of the repository, not part of the installed package.

``--source`` is the ``shared/data`` folder (or its ``muscletracker``
sub-folder); by default ``$SKLEARN_SEMG_SHARED_DATA`` or ``../shared/data``
beside the repository. The archive (see :mod:`sklearn_semg.datasets._bundled`
for its layout) and a copy of the data set's CC0 licence are written to a
temporary file each and renamed into place; existing files are only replaced
with ``--force``. The archive is byte-reproducible: its zip entries carry a
fixed timestamp, so rebuilding from the same data gives the same file.
"""

import argparse
import io
import os
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np

from sklearn_semg.datasets import load_muscletracker
from sklearn_semg.datasets._base import MUSCLETRACKER_CITATION
from sklearn_semg.datasets._bundled import (
    BUNDLED_FILE,
    BUNDLED_LICENSE_FILE,
    FORMAT_VERSION,
)
from sklearn_semg.utils._io import atomic_write

__all__ = ["build_movements", "main"]

_INT16 = np.iinfo(np.int16)
#: The repository this script belongs to.
REPOSITORY = Path(__file__).resolve().parents[1]


def default_source():
    """``$SKLEARN_SEMG_SHARED_DATA``, else ``shared/data`` beside the repository."""
    env = os.environ.get("SKLEARN_SEMG_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def default_output():
    """The package's ``datasets/data`` folder (in a source checkout)."""
    return REPOSITORY / "sklearn_semg" / "datasets" / "data"


def _muscletracker_root(source):
    source = Path(source)
    for root in (source / "muscletracker", source):
        if (root / "Data" / "Raw" / "Miotracker").is_dir():
            return root
    raise FileNotFoundError(
        f"No MuscleTracker data set found at {str(source)!r}: expected "
        "muscletracker/Data/Raw/Miotracker (or Data/Raw/Miotracker) inside it. "
        "Pass --source PATH/TO/shared/data."
    )


def _pack(bunch):
    """Arrays of the bundled archive from a ``load_muscletracker`` Bunch."""
    samples = np.concatenate(bunch.data, axis=1)
    if not np.array_equal(samples, np.round(samples)):
        raise ValueError(
            "MioTracker samples are expected to be integers, but some are not; "
            "they cannot be stored exactly as int16."
        )
    if samples.min() < _INT16.min or samples.max() > _INT16.max:
        raise ValueError(
            f"MioTracker samples range from {samples.min():g} to "
            f"{samples.max():g}, outside int16 [{_INT16.min}, {_INT16.max}]."
        )
    lengths = np.asarray([x.shape[1] for x in bunch.data], dtype=np.int64)
    meta = bunch.metadata
    return {
        "samples": samples.astype(np.int16),
        "offsets": np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        "lengths": lengths,
        "subject": meta["subject"].to_numpy(dtype=np.int64),
        "repetition": meta["repetition"].to_numpy(dtype=np.int64),
        "movement": meta["movement"].to_numpy(dtype=np.int64),
        "gender": np.asarray(meta["gender"].fillna("").tolist(), dtype=str),
        "file": np.asarray(meta["file"].tolist(), dtype=str),
        "format_version": np.int64(FORMAT_VERSION),
    }


def _npz_bytes(arrays):
    """A compressed ``.npz`` with fixed zip timestamps (byte-reproducible)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(
                info,
                member.getvalue(),
                compress_type=zipfile.ZIP_DEFLATED,
                compresslevel=9,
            )
    return buffer.getvalue()


def _licence_text(root):
    licence = root / "LICENSE"
    if not licence.is_file():
        raise FileNotFoundError(
            f"Licence file {str(licence)!r} not found; the bundled data must ship "
            "with the data set's licence."
        )
    intro = (
        f"{BUNDLED_FILE} holds the MioTracker raw recordings (Data/Raw/Miotracker, "
        "all subjects) and the participant genders (Additional "
        "information/Metadata.csv) of the data set"
    )
    outro = (
        "stored as int16 (the original integer values, unchanged). The data set "
        "is dedicated to the public domain under CC0 1.0 Universal; its LICENSE "
        "file follows verbatim."
    )
    citation = textwrap.fill(
        MUSCLETRACKER_CITATION,
        width=72,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    return (
        f"{textwrap.fill(intro, 76)}\n\n{citation}\n\n{textwrap.fill(outro, 76)}\n\n"
        + "-" * 76
        + "\n\n"
        + licence.read_text(encoding="utf-8")
    )


def _write_atomic(target, payload):
    atomic_write(target, lambda f: f.write(payload))


def build_movements(source=None, output=None, *, force=False):
    """Build the bundled MioTracker archive and its licence notice.

    Parameters
    ----------
    source : str or os.PathLike or None, default=None
        ``shared/data`` folder or the ``muscletracker`` folder; ``None`` uses
        :func:`default_source`.
    output : str or os.PathLike or None, default=None
        Folder to write to; ``None`` is the package's ``datasets/data``.
    force : bool, default=False
        Replace existing files.

    Returns
    -------
    paths : list of pathlib.Path
        The archive and the licence file written.

    Raises
    ------
    FileExistsError
        If a target exists and ``force`` is False (nothing is written).
    FileNotFoundError
        If the data set or its licence is not found.

    Examples
    --------
    >>> from build_bundled import build_movements
    >>> build_movements("shared/data", "/tmp/out")  # doctest: +SKIP
    [PosixPath('/tmp/out/muscletracker_miotracker.npz'),
     PosixPath('/tmp/out/muscletracker_LICENSE.txt')]
    """
    root = _muscletracker_root(default_source() if source is None else source)
    output = default_output() if output is None else Path(output)
    targets = [output / BUNDLED_FILE, output / BUNDLED_LICENSE_FILE]
    if not force:
        existing = [str(t) for t in targets if t.exists()]
        if existing:
            raise FileExistsError(
                f"{', '.join(existing)} already exist(s); nothing was written. "
                "Pass --force (force=True) to rebuild."
            )
    bunch = load_muscletracker(root, amplifier="miotracker", strict=True)
    arrays = _pack(bunch)
    licence = _licence_text(root).encode("utf-8")
    output.mkdir(parents=True, exist_ok=True)
    _write_atomic(targets[0], _npz_bytes(arrays))
    _write_atomic(targets[1], licence)
    return targets


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python tools/build_bundled.py",
        description="Rebuild the MioTracker recordings bundled in sklearn-semg.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="shared/data folder (or its muscletracker sub-folder); default "
        f"{default_source()}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"folder to write to; default {default_output()}",
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")
    args = parser.parse_args(argv)
    try:
        paths = build_movements(args.source, args.output, force=args.force)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
