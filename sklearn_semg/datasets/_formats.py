"""Readers of single recordings in standard file formats.

- EDF and BDF (European/BioSemi Data Format, 16 and 24 bit), through
  ``pyedflib``;
- WFDB records (PhysioNet), through ``wfdb``;
- CSV and TXT tables: one channel per column, an optional header row of
  channel names.

:func:`read_recording` reads one file into a :class:`~sklearn.utils.Bunch`
whose ``data`` is ``(n_channels, n_times)`` in physical units, with the
sampling rate and channel names of the file; :func:`load_recordings` reads
several files that share them into the list of recordings every raw-signal
estimator accepts. ``pyedflib`` and ``wfdb`` are optional
(``pip install "sklearn-semg[formats]"``) and imported only when a file of
their format is read.
"""

import difflib
import importlib
import io
import math
import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._validation import check_positive, first_non_finite
from ._base import check_folder

__all__ = ["load_recordings", "read_recording"]

_EDF_SUFFIXES = (".edf", ".bdf")
_WFDB_SUFFIXES = (".hea", ".dat")
_TEXT_SUFFIXES = (".csv", ".txt")
#: Extensions a folder is searched for by :func:`load_recordings` (a WFDB
#: record is found by its ``.hea`` header, never twice through its ``.dat``).
_FOLDER_SUFFIXES = (*_EDF_SUFFIXES, ".hea", *_TEXT_SUFFIXES)
_EXPECTED_FORMS = (
    ".edf or .bdf (EDF/BDF), .hea, .dat or a record name without extension "
    "(WFDB), .csv or .txt (text columns)"
)
#: ``"EMG1 [mV]"`` -> name ``"EMG1"``, unit ``"mV"``.
_NAME_UNIT = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]$")


def _import_optional(module, what):
    """Import ``module`` or raise an ImportError saying which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"Reading {what} files needs the optional package {module!r}, which "
            f'is not installed; install it with: pip install "sklearn-semg[formats]"'
            f" (or pip install {module})."
        ) from exc


def _check_path(path, param_name="path"):
    try:
        return Path(os.fspath(path))
    except TypeError as exc:
        raise TypeError(
            f"{param_name} must be a str or os.PathLike naming a file; got "
            f"{type(path).__name__} {path!r}."
        ) from exc


def _require_file(file, param_name="path"):
    if file.is_dir():
        raise IsADirectoryError(
            f"{param_name}={str(file)!r} is a folder; expected a file "
            "(load_recordings reads a folder)."
        )
    if not file.is_file():
        raise FileNotFoundError(f"File not found: {param_name}={str(file)!r}.")


def _resolve_format(file):
    """``(kind, file to open)`` for ``file``, by its extension."""
    suffix = file.suffix.lower()
    if suffix in _EDF_SUFFIXES:
        _require_file(file)
        return "edf", file
    if suffix in _TEXT_SUFFIXES:
        _require_file(file)
        return suffix[1:], file
    if suffix in _WFDB_SUFFIXES:
        _require_file(file)
        header = file.with_suffix(".hea")
        if not header.is_file():
            raise FileNotFoundError(
                f"WFDB header not found: {str(header)!r}; path={str(file)!r} is "
                "a WFDB signal file, which is read through its .hea header."
            )
        return "wfdb", file.with_suffix("")
    if Path(f"{file}.hea").is_file():  # a WFDB record name, e.g. "data/100"
        return "wfdb", file
    if not file.exists():
        raise FileNotFoundError(
            f"File not found: path={str(file)!r} (nor a WFDB header "
            f"{str(file) + '.hea'!r})."
        )
    raise ValueError(
        f"path={str(file)!r} has the unsupported extension {file.suffix!r}; "
        f"expected {_EXPECTED_FORMS}."
    )


def _channel_names(raw):
    """Names as str, stripped; a blank name becomes ``"ch{i + 1}"``."""
    names = [str(n).strip() if n is not None else "" for n in raw]
    return [name or f"ch{i + 1}" for i, name in enumerate(names)]


def _select_channels(channels, names, where):
    """Indices (into ``names``) of the ``channels`` asked for, in their order."""
    if channels is None:
        return list(range(len(names)))
    if isinstance(channels, (str, Integral)):
        channels = [channels]
    try:
        requested = list(channels)
    except TypeError as exc:
        raise TypeError(
            "channels must be None, a channel name (str), an index (int) or a "
            f"list of them; got {type(channels).__name__} {channels!r}."
        ) from exc
    if not requested:
        raise ValueError(
            f"channels is empty; expected at least one channel name or index. "
            f"{where} has the channels {names}."
        )
    indices = []
    for channel in requested:
        if isinstance(channel, str):
            hits = [i for i, name in enumerate(names) if name == channel]
            if not hits:
                close = difflib.get_close_matches(channel, names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"{where} has no channel named {channel!r}; available "
                    f"channels: {names}.{hint}"
                )
            if len(hits) > 1:
                raise ValueError(
                    f"{where} has {len(hits)} channels named {channel!r} (indices "
                    f"{hits}); select them by index instead."
                )
            indices.append(hits[0])
        elif isinstance(channel, (Integral, np.integer)) and not isinstance(
            channel, (bool, np.bool_)
        ):
            if not 0 <= channel < len(names):
                raise ValueError(
                    f"channels holds the index {channel!r}, but {where} has "
                    f"{len(names)} channel(s), indices 0 to {len(names) - 1}: "
                    f"{names}."
                )
            indices.append(int(channel))
        else:
            raise TypeError(
                "channels must hold channel names (str) or indices (int); got "
                f"{type(channel).__name__} {channel!r}."
            )
    seen = set()
    for i in indices:
        if i in seen:
            raise ValueError(
                f"channels selects the channel {names[i]!r} (index {i}) more than "
                "once; expected each channel at most once."
            )
        seen.add(i)
    return indices


def _check_single_rate(rates, names, indices, where):
    """Raise unless the selected channels share one sampling rate."""
    selected = {names[i]: float(rates[i]) for i in indices}
    if len(set(selected.values())) <= 1:
        return
    listing = ", ".join(f"{name!r}: {rate:g} Hz" for name, rate in selected.items())
    by_rate = {}
    for name, rate in selected.items():
        by_rate.setdefault(rate, []).append(name)
    common = max(by_rate.values(), key=len)
    raise ValueError(
        f"{where} holds channels sampled at different rates ({listing}); a "
        "recording needs one sampling rate. Select channels of one rate, e.g. "
        f"channels={common!r}, and read the others separately."
    )


def _read_edf(file, channels):
    pyedflib = _import_optional("pyedflib", "EDF/BDF")
    where = repr(str(file))
    try:
        reader = pyedflib.EdfReader(str(file))
    except (FileNotFoundError, PermissionError):
        raise
    except OSError as exc:
        raise ValueError(
            f"{where} cannot be read as an EDF(+) or BDF(+) file ({exc}); it may "
            "be truncated or corrupt."
        ) from exc
    try:
        n_signals = reader.signals_in_file
        names = _channel_names(reader.getLabel(i) for i in range(n_signals))
        if not names:
            raise ValueError(f"{where} holds no signal; expected at least one.")
        indices = _select_channels(channels, names, where)
        rates = reader.getSampleFrequencies()
        _check_single_rate(rates, names, indices, where)
        data = np.stack([reader.readSignal(i) for i in indices]).astype(np.float64)
        units = [reader.getPhysicalDimension(i).strip() or None for i in indices]
        bdf = reader.filetype in (pyedflib.FILETYPE_BDF, pyedflib.FILETYPE_BDFPLUS)
    finally:
        reader.close()
    return Bunch(
        data=data,
        fs=float(rates[indices[0]]),
        channel_names=[names[i] for i in indices],
        units=units,
        format="bdf" if bdf else "edf",
        indices=indices,
        lines=None,
    )


def _read_wfdb(record, channels):
    wfdb = _import_optional("wfdb", "WFDB")
    where = repr(str(record))
    try:
        header = wfdb.rdheader(str(record))
    except (OSError, ValueError, IndexError) as exc:
        raise ValueError(
            f"{str(record) + '.hea'!r} cannot be read as a WFDB header "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    if not header.n_sig:
        raise ValueError(f"WFDB record {where} holds no signal; expected at least one.")
    names = _channel_names(header.sig_name)
    indices = _select_channels(channels, names, f"WFDB record {where}")
    frames = np.asarray(header.samps_per_frame, dtype=np.float64)
    _check_single_rate(header.fs * frames, names, indices, f"WFDB record {where}")
    try:
        # frames kept apart: a channel of k samples per frame is read at
        # k * fs, never averaged down to fs
        rec = wfdb.rdrecord(str(record), channels=indices, smooth_frames=False)
        data = np.stack(rec.e_p_signal).astype(np.float64)
    except (OSError, ValueError, IndexError, EOFError) as exc:
        raise ValueError(
            f"WFDB record {where} cannot be read ({type(exc).__name__}: {exc}); "
            "its signal (.dat) file may be truncated or corrupt."
        ) from exc
    units = [
        u.strip() or None if isinstance(u, str) else None
        for u in (header.units or [None] * header.n_sig)
    ]
    return Bunch(
        data=data,
        fs=float(header.fs * frames[indices[0]]),
        channel_names=[names[i] for i in indices],
        units=[units[i] for i in indices],
        format="wfdb",
        indices=indices,
        lines=None,
    )


def _split(line, delimiter):
    return [f.strip() for f in line.split(delimiter)]


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _bad_line(lines, rows, delimiter, n_columns):
    """``(line number, reason)`` of the first row that is not ``n_columns``
    numbers, or None."""
    for row in rows:
        fields = _split(lines[row].split("#", 1)[0], delimiter)
        if len(fields) != n_columns:
            return row + 1, f"{len(fields)} column(s) where {n_columns} are expected"
        for field in fields:
            if not _is_number(field):
                return row + 1, f"{field!r} is not a number"
    return None


def _read_text(file, kind, channels, delimiter, header):
    where = repr(str(file))
    try:
        with open(file, encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{where} is not UTF-8 text ({exc}); expected a text table of numbers."
        ) from exc
    lines = text.splitlines()
    rows = [
        i for i, line in enumerate(lines) if line.strip() and line.lstrip()[0] != "#"
    ]
    if not rows:
        raise ValueError(f"{where} holds no rows (empty or only # comments).")
    first = lines[rows[0]].split("#", 1)[0]
    if delimiter == " ":
        delimiter = None  # runs of spaces and tabs, as numpy reads them
    if delimiter is None:
        delimiter = next((d for d in (",", ";", "\t") if d in first), None)
    if header == "auto":
        header = not all(_is_number(f) for f in _split(first, delimiter))
    names = None
    if header:
        fields = [f.strip("\"'") for f in _split(first, delimiter)]
        names, units = [], []
        for field in fields:
            match = _NAME_UNIT.match(field)
            names.append(match.group(1) if match else field)
            units.append((match.group(2).strip() or None) if match else None)
        names = _channel_names(names)
        header_line, rows = rows[0] + 1, rows[1:]
        if not rows:
            raise ValueError(
                f"{where} holds a header row (line {header_line}) but no rows of "
                "numbers."
            )
    sep = {None: "whitespace", ",": "commas", ";": "semicolons", "\t": "tabs"}.get(
        delimiter, repr(delimiter)
    )
    try:
        table = np.loadtxt(
            io.StringIO("\n".join(lines[i] for i in rows)),
            delimiter=delimiter,
            comments="#",
            ndmin=2,
        )
    except ValueError as exc:
        n_columns = (
            len(names)
            if names
            else len(_split(lines[rows[0]].split("#", 1)[0], delimiter))
        )
        bad = _bad_line(lines, rows, delimiter, n_columns)
        detail = f"line {bad[0]}: {bad[1]}" if bad else str(exc)
        hint = (
            " If the first line holds channel names, pass header='auto'."
            if header is False and bad and bad[0] == rows[0] + 1
            else ""
        )
        raise ValueError(
            f"{where} is not a table of numbers separated by {sep} ({detail}); "
            "expected one sample per line and one channel per column, after an "
            f"optional header row of channel names.{hint}"
        ) from exc
    data = np.ascontiguousarray(table.T, dtype=np.float64)
    if names is None:
        names = [f"ch{i + 1}" for i in range(data.shape[0])]
        units = [None] * data.shape[0]
    elif len(names) != data.shape[0]:
        raise ValueError(
            f"{where} has {len(names)} channel name(s) in its header row "
            f"{names} but {data.shape[0]} column(s) of numbers; expected one name "
            "per column."
        )
    indices = _select_channels(channels, names, where)
    return Bunch(
        data=data[indices],
        fs=None,
        channel_names=[names[i] for i in indices],
        units=[units[i] for i in indices],
        format=kind,
        indices=indices,
        lines=rows,
    )


def read_recording(path, *, channels=None, fs=None, delimiter=None, header="auto"):
    """Read one sEMG recording from an EDF, BDF, WFDB, CSV or TXT file.

    The format follows the extension: ``.edf`` and ``.bdf`` are read with
    ``pyedflib``; ``.hea``, ``.dat`` or a record name without extension
    (``"data/s01"`` for ``data/s01.hea``) with ``wfdb``; ``.csv`` and
    ``.txt`` as text columns. EDF, BDF and WFDB files carry their sampling
    rate, channel names and units; samples are returned in those physical
    units. ``pyedflib`` and ``wfdb`` are optional: install them with
    ``pip install "sklearn-semg[formats]"``.

    A text file holds one sample per line and one channel per column,
    separated by commas, semicolons, tabs or whitespace (detected on the
    first line unless ``delimiter`` is given); blank lines and lines starting
    with ``#`` are skipped. An optional first row names the channels; a name
    may end with its unit in brackets, ``"FDS [mV]"``. Columns without a
    header are named ``"ch1"``, ``"ch2"``... Text files carry no sampling
    rate: pass ``fs``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (or WFDB record name) to read.
    channels : str, int, list of str or int, or None, default=None
        Channels to read, by name or 0-based index, in the order wanted.
        ``None`` reads every channel.
    fs : float or None, default=None
        Sampling rate in Hz. Required for text files; for EDF, BDF and WFDB
        the rate comes from the file, and ``fs`` (if given) must agree with
        it.
    delimiter : str or None, default=None
        Column separator of a text file; ``None`` detects ``","``, ``";"`` or
        a tab on the first line, else splits on whitespace (as does ``" "``:
        runs of spaces and tabs). Ignored for other formats.
    header : {"auto", True, False}, default="auto"
        Whether the first row of a text file names the channels. ``"auto"``:
        yes when it holds a field that is not a number. Ignored for other
        formats.

    Returns
    -------
    recording : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : ndarray of shape (n_channels, n_times)
            float64 samples in physical units, channels in the order of
            ``channels``.
        fs : float
            Sampling rate, in Hz.
        channel_names : list of str
            Name of each channel (row of ``data``).
        units : list of str or None
            Physical unit of each channel, ``None`` where the file gives none.
        path : str
            The file read.
        format : {"edf", "bdf", "wfdb", "csv", "txt"}
            The format it was read as (EDF or BDF from the file's own header).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImportError
        If the optional reader of the format is not installed.
    ValueError
        For an unsupported extension, a text file without ``fs``, an ``fs``
        that disagrees with the file, an unknown channel, channels sampled at
        different rates, NaN or infinite samples, and a truncated or corrupt
        file. Each message names the file.

    See Also
    --------
    load_recordings : Read several files that share rate and channels.
    load_recordings_dir : Read a folder of text files, skipping bad ones.

    Notes
    -----
    EDF and BDF files store whole data records: a writer pads the last one,
    so a file may hold up to one record (usually 1 s) more samples than were
    recorded. Samples are quantised to 16 (EDF, WFDB format 16) or 24 (BDF)
    bits over each channel's physical range.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_semg.datasets import read_recording
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     name = os.path.join(folder, "grip.csv")
    ...     with open(name, "w") as f:
    ...         _ = f.write("FDS [mV],EDC [mV]\\n0.5,1\\n-0.25,2\\n0,4\\n")
    ...     rec = read_recording(name, fs=1000)
    >>> rec.data
    array([[ 0.5 , -0.25,  0.  ],
           [ 1.  ,  2.  ,  4.  ]])
    >>> rec.fs, rec.channel_names, rec.units, rec.format
    (1000.0, ['FDS', 'EDC'], ['mV', 'mV'], 'csv')

    EDF, BDF and WFDB files carry their own rate and names:

    >>> rec = read_recording("subject01.edf", channels=["FDS"])  # doctest: +SKIP
    """
    file = _check_path(path)
    fs_given, fs = fs, check_positive(fs, "fs", optional=True)
    if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
        raise ValueError(
            "delimiter must be None (detect) or a non-empty str such as ',' or "
            f"'\\t'; got {delimiter!r}."
        )
    if not (isinstance(header, bool) or header == "auto"):
        raise ValueError(f"header must be 'auto', True or False; got {header!r}.")
    kind, target = _resolve_format(file)
    where = repr(str(file))
    if kind == "edf":
        rec = _read_edf(target, channels)
    elif kind == "wfdb":
        rec = _read_wfdb(target, channels)
    else:
        if fs is None:
            raise ValueError(
                f"fs is required for text files: {where} does not store its "
                "sampling rate; pass it in Hz, e.g. read_recording(path, fs=1000)."
            )
        rec = _read_text(target, kind, channels, delimiter, header)
        rec.fs = fs
    if fs is not None and not math.isclose(fs, rec.fs, rel_tol=1e-9):
        raise ValueError(
            f"fs={fs_given!r} disagrees with the sampling rate {rec.fs:g} Hz stored in "
            f"{where}; leave fs=None to use the file's rate."
        )
    if rec.data.shape[1] == 0:
        raise ValueError(f"{where} holds no samples; expected at least one.")
    bad = first_non_finite(rec.data)
    if bad is not None:
        channel, sample = bad
        kind_of = "NaN" if np.isnan(rec.data[bad]) else "an infinite value"
        line = f", line {rec.lines[sample] + 1}" if rec.lines is not None else ""
        raise ValueError(
            f"{where} holds {kind_of} in channel {rec.channel_names[channel]!r} "
            f"(index {rec.indices[channel]}) at sample {sample} "
            f"(t = {sample / rec.fs:g} s{line}); expected finite samples. Repair "
            "the file, or leave the channel out with channels=."
        )
    return Bunch(
        data=rec.data,
        fs=float(rec.fs),
        channel_names=rec.channel_names,
        units=rec.units,
        path=str(file),
        format=rec.format,
    )


def _folder_files(folder, pattern):
    if pattern is None:
        files = [
            f
            for f in folder.iterdir()
            if f.suffix.lower() in _FOLDER_SUFFIXES and f.is_file()
        ]
        what = f"with an extension of {list(_FOLDER_SUFFIXES)}"
    else:
        files = [f for f in folder.glob(pattern) if f.is_file()]
        what = f"matching pattern={pattern!r}"
    if not files:
        raise ValueError(
            f"No file {what} found in {str(folder)!r}; expected recordings in "
            f"{_EXPECTED_FORMS}."
        )
    return sorted(files, key=lambda f: f.name)


def load_recordings(
    paths, *, pattern=None, channels=None, fs=None, delimiter=None, header="auto"
):
    """Read several recordings that share their sampling rate and channels.

    Every file is read with :func:`read_recording`; all must agree on the
    sampling rate, the channel names and the units, so that their ``data``
    form one list of recordings for :class:`~sklearn_semg.HHTTransformer`,
    :class:`~sklearn_semg.EMGFeatures` or
    :func:`~sklearn_semg.preprocessing.window_recordings` (lengths may
    differ). Nothing is skipped: the first file that cannot be read, or that
    disagrees with the first file, raises an error naming it.

    Parameters
    ----------
    paths : str, os.PathLike or list of them
        A folder, or the files to read (in that order). A folder is read in
        file-name order: its ``.edf``, ``.bdf``, ``.hea`` (WFDB), ``.csv`` and
        ``.txt`` files, or those matching ``pattern``.
    pattern : str or None, default=None
        Glob pattern of the files to read in the folder ``paths``, e.g.
        ``"*.edf"``. Only with a folder.
    channels, fs, delimiter, header
        Passed to :func:`read_recording` for every file.

    Returns
    -------
    recordings : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : list of ndarray of shape (n_channels, n_times_i)
            float64 recordings in physical units; lengths may differ.
        fs : float
            The common sampling rate, in Hz.
        channel_names : list of str
            The common channel names.
        units : list of str or None
            The common unit of each channel.
        files : list of str
            The file of each recording, in the order of ``data``.

    Raises
    ------
    FileNotFoundError
        If the folder or a file does not exist.
    ValueError
        If no file is found, a file cannot be read (see
        :func:`read_recording`), or a file's rate, channel names or units
        differ from the first file's.

    See Also
    --------
    read_recording : Read one file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_semg.datasets import load_recordings
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "a.csv").write_text("FDS,EDC\\n1,2\\n3,4\\n5,6\\n")
    ...     _ = (Path(folder) / "b.csv").write_text("FDS,EDC\\n0.5,1\\n0.25,2\\n")
    ...     recs = load_recordings(folder, fs=1000)
    >>> [x.shape for x in recs.data], recs.channel_names, recs.fs
    ([(2, 3), (2, 2)], ['FDS', 'EDC'], 1000.0)
    """
    if isinstance(paths, (str, os.PathLike)):
        files = _folder_files(check_folder(paths, "paths"), pattern)
    else:
        if pattern is not None:
            raise ValueError(
                "pattern selects files in a folder; it cannot be used with a list "
                f"of files. Got paths of type {type(paths).__name__} and "
                f"pattern={pattern!r}."
            )
        try:
            files = list(paths)
        except TypeError as exc:
            raise TypeError(
                "paths must be a folder (str or os.PathLike) or a list of files; "
                f"got {type(paths).__name__} {paths!r}."
            ) from exc
        if not files:
            raise ValueError("paths is an empty list; expected at least one file.")
    recordings = []
    for file in files:
        rec = read_recording(
            file, channels=channels, fs=fs, delimiter=delimiter, header=header
        )
        if recordings:
            first = recordings[0]
            for field, same in (
                ("fs", math.isclose(rec.fs, first.fs, rel_tol=1e-9)),
                ("channel_names", rec.channel_names == first.channel_names),
                ("units", rec.units == first.units),
            ):
                if not same:
                    raise ValueError(
                        f"{rec.path!r} has {field}={rec[field]!r} but the first "
                        f"file {first.path!r} has {field}={first[field]!r}; all "
                        "files must share the sampling rate, channel names and "
                        "units. Select common channels with channels=, or read "
                        "the files separately with read_recording."
                    )
        recordings.append(rec)
    first = recordings[0]
    return Bunch(
        data=[rec.data for rec in recordings],
        fs=first.fs,
        channel_names=first.channel_names,
        units=first.units,
        files=[rec.path for rec in recordings],
    )
