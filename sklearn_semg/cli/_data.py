"""Reading a command's data folders: ``.npz`` HHT matrices (with the shape
their headers declare, skipped files summed up, the source recordings of
``index.csv``), raw recordings, and a labels CSV."""

import os
import warnings
from pathlib import Path

from ._common import CLIError, _input_file, _reported_warnings, _warn


def _read_labels_csv(path, *, allowed=None):
    """``{file name: label}`` from a CSV with columns ``file`` and ``label``."""
    import pandas as pd

    file = _input_file(path, "--labels")
    try:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CLIError(f"--labels {str(file)!r} is not a readable CSV: {exc}") from exc
    missing = {"file", "label"} - set(table.columns)
    if missing:
        raise CLIError(
            f"--labels {str(file)!r} lacks the column(s) {sorted(missing)}; expected "
            f"columns 'file' and 'label', got {list(table.columns)}."
        )
    table = table[table["label"].str.strip() != ""]
    mapping = {
        os.path.basename(f.strip()): lab.strip()
        for f, lab in zip(table["file"], table["label"], strict=True)
    }
    if allowed is not None:
        bad = sorted({lab for lab in mapping.values() if lab not in allowed})
        if bad:
            raise CLIError(
                f"--labels {str(file)!r} has label(s) {bad}; expected labels among "
                f"{list(allowed)} ('{{gender}}_{{movement}}', the classes the .npz "
                "file names carry)."
            )
    return mapping


def _raw_files(folder, pattern):
    return sorted(f for f in folder.glob(pattern) if f.is_file())


def _load_recordings(folder, pattern, what):
    """:func:`~sklearn_semg.datasets.load_recordings_dir`, unreadable files
    reported as warnings."""
    from ..datasets import load_recordings_dir

    with _reported_warnings():
        try:
            return load_recordings_dir(folder, pattern=pattern)
        except (OSError, ValueError) as exc:
            raise CLIError(f"{what} {str(folder)!r}: {exc}") from exc


def _npz_files(folder):
    """Regular ``*.npz`` files of ``folder`` (any case), without opening any."""
    from ..datasets._base import regular_npz_files

    return regular_npz_files(folder)[0]


def _npz_shape(folder):
    """The matrix shape most ``.npz`` files of ``folder`` declare in their
    headers (no data read), or None; a tie is an error asking for --size."""
    from collections import Counter

    from ..datasets._base import npz_header

    counts = Counter()
    for file in _npz_files(folder):
        try:
            shape, dtype = npz_header(file)
        except ValueError:  # load_hht_dir reports it
            continue
        if len(shape) == 2 and dtype.kind in "biuf":
            counts[tuple(int(n) for n in shape)] += 1
    if not counts:
        return None
    (shape, n), *others = counts.most_common()
    if others and others[0][1] == n:
        raise CLIError(
            f"the .npz files of {str(folder)!r} disagree on the matrix shape "
            f"({n} file(s) each of {shape} and {others[0][0]}); give it with --size."
        )
    return shape


def _load_npz(folder, shape=None, what="DATA_DIR"):
    """``load_hht_dir`` with the shape read from the files when not given."""
    from ..datasets import load_hht_dir

    if not _npz_files(folder):
        raise CLIError(
            f"{what} {str(folder)!r} holds no .npz file; expected HHT matrices "
            "(e.g. written by `sklearn-semg hht`)."
        )
    if shape is None:
        shape = _npz_shape(folder)
        if shape is None:
            raise CLIError(
                f"no readable 2-D matrix in the .npz files of {str(folder)!r}."
            )
    with _reported_warnings():
        # the loader's own warning lists every file and ends with advice for
        # the Python API: summarised below instead
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="load_hht_dir: skipped", category=UserWarning
            )
            try:
                bunch = load_hht_dir(folder, shape=tuple(shape))
            except (OSError, ValueError) as exc:  # e.g. an unreadable index.csv
                raise CLIError(f"{what} {str(folder)!r}: {exc}") from exc
    _summarise_skipped(bunch.problems, folder, tuple(shape), what)
    return bunch


def _summarise_skipped(problems, folder, shape, what):
    """One warning line per reason, naming a few files, and the shape that
    was expected."""
    if not problems:
        return
    from collections import defaultdict

    shapes, others = defaultdict(list), []
    for name, reason in problems:
        if reason.startswith("has shape"):
            shapes[reason.split(", expected")[0][len("has shape ") :]].append(name)
        else:
            others.append((name, reason))
    _warn(
        f"skipped {len(problems)} of the .npz files of {what} {str(folder)!r} "
        f"(expected {shape[0]}x{shape[1]} matrices):"
    )
    for found, names in shapes.items():
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        _warn(f"  {len(names)} with shape {found}: {', '.join(names[:3])}{more}")
    for name, reason in others[:5]:
        _warn(f"  {name}: {reason}")
    if len(others) > 5:
        _warn(f"  ... and {len(others) - 5} more")


def _source_recordings(folder, files):
    """The source recording of each .npz file, read from the index.csv that
    ``hht`` writes beside them (columns npz_file, source_file); None without
    one. A file the index does not name is its own recording."""
    from ..datasets._base import read_hht_index

    try:
        table = read_hht_index(folder)
    except ValueError as exc:  # unreadable: named, with the fix
        raise CLIError(str(exc)) from exc
    if table is None:
        return None
    if not {"npz_file", "source_file"} <= set(table.columns):
        _warn(
            f"{str(Path(folder) / 'index.csv')!r} has no columns npz_file and "
            "source_file; each .npz file is taken as its own recording."
        )
        return None
    source = dict(zip(table["npz_file"], table["source_file"], strict=True))
    return [source.get(name, name) for name in files]
