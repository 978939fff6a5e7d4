"""Loaders of raw sEMG recordings stored as text files of numeric columns.

- :func:`load_recordings_dir`: any folder of ``.txt`` files, one recording per
  file, one channel per column (also used by the command line).
- :func:`load_muscletracker`: the MuscleTracker data set of five hand
  movements (E. Morales-Vargas et al., CC0 1.0).
- :func:`load_biceps_fatigue`: one biceps recording through fatigue
  (biosignalsnotebooks sample signal, MIT), cut into early and late windows.

Every loader returns a :class:`~sklearn.utils.Bunch` whose ``metadata`` field
is a :class:`pandas.DataFrame` with one row per sample, and reports unusable
files (with the reason) in one warning and in ``problems`` instead of dropping
them silently.
"""

import io
import os
import re
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import (
    MOVEMENT_NAMES,
    NOT_UTF8,
    check_folder,
    muscletracker_bunch,
    muscletracker_descr,
    report_problems,
    utf8_name,
)

__all__ = [
    "MOVEMENT_NAMES",
    "load_biceps_fatigue",
    "load_muscletracker",
    "load_recordings_dir",
]

_AMPLIFIER_FOLDERS = {"miotracker": "Miotracker", "biopac": "Biopac"}
_MUSCLETRACKER_NAME = re.compile(r"(\d+)_(\d+)_(\d+)\.txt")


def _read_text_columns(file):
    """Read a text file of numeric columns as ``(n_channels, n_times)`` float64.

    Columns are separated by whitespace or by commas (the separator is taken
    from the first data line); lines starting with ``#`` are comments and
    blank lines are ignored. Raises ``ValueError`` (with the reason) for a
    file that is not such a table, so callers can report it.

    Parameters
    ----------
    file : str or os.PathLike
        Text file, one sample per line and one channel per column.

    Returns
    -------
    recording : ndarray of shape (n_channels, n_times)
        float64 samples, C-contiguous.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_semg.datasets._raw import _read_text_columns
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     name = os.path.join(folder, "r.txt")
    ...     with open(name, "w") as f:
    ...         _ = f.write("# ch1, ch2\\n1.5,2\\n-3,4\\n0,1e3\\n")
    ...     _read_text_columns(name)
    array([[   1.5,   -3. ,    0. ],
           [   2. ,    4. , 1000. ]])
    """
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    first = next(
        (
            line
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ),
        None,
    )
    if first is None:
        raise ValueError("holds no numeric rows (empty or only comments)")
    delimiter = "," if "," in first else None
    try:
        table = np.loadtxt(
            io.StringIO(text), delimiter=delimiter, comments="#", ndmin=2
        )
    except ValueError as exc:
        sep = "commas" if delimiter else "whitespace"
        raise ValueError(f"not a table of numbers separated by {sep} ({exc})") from exc
    return np.ascontiguousarray(table.T, dtype=np.float64)


def _text_files(folder, pattern):
    files = sorted(
        (f for f in folder.glob(pattern) if f.is_file()), key=lambda f: f.name
    )
    if not files:
        raise ValueError(
            f"No file matching {pattern!r} found in {str(folder)!r}; expected "
            "text files of numeric columns, one recording per file."
        )
    return files


def load_recordings_dir(path, *, pattern="*.txt", strict=False):
    """Load a folder of text recordings, one file per recording.

    Each file holds one sample per line and one channel per column; columns
    are separated by whitespace or commas, and lines starting with ``#`` are
    comments. Files are read in name order. A file that cannot be read as such
    a table is listed, with the reason, in one ``UserWarning`` and in
    ``problems`` (``strict=True`` raises a ``ValueError`` instead).

    Parameters
    ----------
    path : str or os.PathLike
        Folder of recordings.
    pattern : str, default="\\*.txt"
        Glob pattern of the files to read, relative to ``path``.
    strict : bool, default=False
        Raise a ``ValueError`` listing unreadable files instead of skipping
        them with a warning.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : list of ndarray of shape (n_channels, n_times_i)
            float64 recordings; lengths may differ.
        filenames : list of str
            Name of each file read, in the order of ``data``.
        metadata : pandas.DataFrame
            One row per recording: ``file``, ``n_times``, ``n_channels``.
        problems : list of (str, str)
            ``(file name, reason)`` of each file that was skipped.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no file matches ``pattern``, or with ``strict=True`` if a file
        cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_semg.datasets import load_recordings_dir
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "a.txt").write_text("1 2\\n3 4\\n5 6\\n")
    ...     _ = (Path(folder) / "b.txt").write_text("# mV\\n0.5,1\\n0.25,2\\n")
    ...     bunch = load_recordings_dir(folder)
    >>> [x.shape for x in bunch.data]
    [(2, 3), (2, 2)]
    >>> bunch.metadata
        file  n_times  n_channels
    0  a.txt        3           2
    1  b.txt        2           2
    """
    folder = check_folder(path)
    data, rows, problems = [], [], []
    for file in _text_files(folder, pattern):
        if not utf8_name(file.name):
            problems.append((ascii(file.name), NOT_UTF8))
            continue
        try:
            recording = _read_text_columns(file)
        except ValueError as exc:
            problems.append((file.name, str(exc)))
            continue
        data.append(recording)
        rows.append(
            {
                "file": file.name,
                "n_times": recording.shape[1],
                "n_channels": recording.shape[0],
            }
        )
    report_problems(
        problems, what="load_recordings_dir", where=repr(str(folder)), strict=strict
    )
    metadata = pd.DataFrame(rows, columns=["file", "n_times", "n_channels"]).astype(
        {"n_times": np.int64, "n_channels": np.int64}
    )
    return Bunch(
        data=data,
        filenames=metadata["file"].tolist(),
        metadata=metadata,
        problems=problems,
    )


def _read_muscletracker_genders(root):
    """``{participant: "M" or "F"}`` from ``Additional information/Metadata.csv``."""
    file = root / "Additional information" / "Metadata.csv"
    if not file.is_file():
        warnings.warn(
            f"load_muscletracker: {str(file)!r} not found; the gender column is "
            "left missing (NA) for every subject.",
            UserWarning,
            stacklevel=3,
        )
        return {}
    table = pd.read_csv(file)
    missing = {"Participant", "Gender"} - set(table.columns)
    if missing:
        raise ValueError(
            f"{str(file)!r} lacks the column(s) {sorted(missing)}; expected the "
            "MuscleTracker metadata with 'Participant' and 'Gender' columns."
        )
    codes = {"male": "M", "female": "F", "m": "M", "f": "F"}
    genders = {}
    for participant, gender in zip(table["Participant"], table["Gender"], strict=True):
        code = codes.get(str(gender).strip().lower())
        if code is not None:
            genders[int(participant)] = code
    return genders


def load_muscletracker(
    path, *, amplifier="miotracker", strict=False, device="deprecated"
):
    """Load the MuscleTracker raw recordings of five hand movements.

    "Surface Electromyography Dataset from Different Movements of the Hand
    using a portable and a non-portable device" (E. Morales-Vargas et al.,
    CC0 1.0): two-channel forearm sEMG recorded with a portable MioTracker
    (19 subjects, 380 files, integer counts) and a BIOPAC MP36 (30 subjects,
    445 files, millivolts). Files ``Data/Raw/{Miotracker,Biopac}/s_r_m.txt``
    are subject ``s``, repetition ``r`` and movement ``m``:

    1. pronation with extended fingers
    2. flexion
    3. extension
    4. pronation with flexed fingers
    5. relaxation

    Recordings are sorted by (subject, repetition, movement) and keep their
    own lengths. Gender comes from ``Additional information/Metadata.csv``,
    which covers participants 1-19 and does not say which device's subject
    numbering it follows: it is applied to both devices by subject number and
    is NA for subjects above 19. File names not of the form ``s_r_m.txt``
    (movement 1-5) and unreadable files are listed in one ``UserWarning`` and
    in ``problems`` (``strict=True`` raises instead).

    Parameters
    ----------
    path : str or os.PathLike
        Root folder of the data set (holding ``Data/Raw``).
    amplifier : {"miotracker", "biopac"}, default="miotracker"
        Which amplifier's recordings to load.
    strict : bool, default=False
        Raise a ``ValueError`` listing unusable files instead of skipping them
        with a warning.
    device : str

        .. deprecated:: 0.2
            Renamed ``amplifier`` (``device`` names a torch device everywhere
            else in the package); it will be removed in 0.3.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : list of ndarray of shape (2, n_times_i)
            float64 recordings (MioTracker: integer counts; Biopac: mV).
        target : ndarray of shape (n_recordings,)
            Movement name (str) of each recording.
        target_names : ndarray of shape (5,)
            The movement names, in movement-number order.
        groups : ndarray of shape (n_recordings,)
            Subject number (int), for ``GroupKFold``.
        metadata : pandas.DataFrame
            One row per recording: ``file``, ``subject``, ``repetition``,
            ``movement`` (int 1-5), ``movement_name``, ``gender`` (``"M"``,
            ``"F"`` or NA) and ``n_times``.
        fs : float
            Sampling rate, 1001.0 Hz (the value of the authors' code).
        amplifier : str
            The ``amplifier`` loaded.
        device : str
            The same, under its former name (deprecated, removed in 0.3).
        DESCR : str
            Description of the data set.
        problems : list of (str, str)
            ``(file name, reason)`` of each file that was skipped.

    Raises
    ------
    FileNotFoundError
        If ``path`` or its ``Data/Raw/<amplifier>`` folder does not exist.
    ValueError
        If ``amplifier`` is unknown, the folder holds no ``.txt`` file, or with
        ``strict=True`` if a file cannot be used.

    See Also
    --------
    load_movements : The MioTracker recordings bundled with the package.

    Examples
    --------
    The data set is not shipped with the package (but see
    :func:`load_movements`); point ``path`` at your copy.

    >>> from sklearn_semg.datasets import load_muscletracker
    >>> bunch = load_muscletracker("shared/data/muscletracker")  # doctest: +SKIP
    >>> len(bunch.data), bunch.data[0].shape, bunch.fs  # doctest: +SKIP
    (380, (2, 2090), 1001.0)
    >>> bunch.metadata["subject"].nunique()  # doctest: +SKIP
    19
    """
    if device != "deprecated":
        warnings.warn(
            "load_muscletracker: the parameter 'device' was renamed 'amplifier' "
            "in 0.2 and will be removed in 0.3 ('device' names a torch device "
            "everywhere else in the package).",
            FutureWarning,
            stacklevel=2,
        )
        amplifier = device
    if not isinstance(amplifier, str) or amplifier.lower() not in _AMPLIFIER_FOLDERS:
        raise ValueError(
            f"amplifier must be one of {sorted(_AMPLIFIER_FOLDERS)}; got {amplifier!r}."
        )
    amplifier = amplifier.lower()
    root = check_folder(path)
    folder = root / "Data" / "Raw" / _AMPLIFIER_FOLDERS[amplifier]
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Folder not found: {str(folder)!r}. path must be the root of the "
            "MuscleTracker data set, holding Data/Raw/Miotracker and "
            f"Data/Raw/Biopac; got path={str(root)!r}."
        )
    genders = _read_muscletracker_genders(root)

    records, problems = [], []
    for file in _text_files(folder, "*.txt"):
        match = _MUSCLETRACKER_NAME.fullmatch(file.name)
        if match is None or not 1 <= int(match.group(3)) <= len(MOVEMENT_NAMES):
            problems.append(
                (
                    file.name,
                    "cannot parse the name: expected subject_repetition_movement"
                    ".txt with movement 1-5, e.g. 3_2_1.txt",
                )
            )
            continue
        try:
            recording = _read_text_columns(file)
        except ValueError as exc:
            problems.append((file.name, str(exc)))
            continue
        if recording.shape[0] != 2:
            problems.append(
                (file.name, f"has {recording.shape[0]} column(s), expected 2 channels")
            )
            continue
        key = tuple(int(g) for g in match.groups())
        records.append((key, file.name, recording))
    report_problems(
        problems, what="load_muscletracker", where=repr(str(folder)), strict=strict
    )
    records.sort(key=lambda r: r[0])
    keys = np.asarray([r[0] for r in records], dtype=np.int64).reshape(-1, 3)
    subject = keys[:, 0]
    return muscletracker_bunch(
        data=[r[2] for r in records],
        files=[r[1] for r in records],
        subject=subject,
        repetition=keys[:, 1],
        movement=keys[:, 2],
        gender=[genders.get(int(s), "") for s in subject],
        amplifier=amplifier,
        descr=muscletracker_descr(amplifier, len(records), len(np.unique(subject))),
        problems=problems,
    )


#: File name of the biceps fatigue recording.
BICEPS_FATIGUE_FILE = "emg_fatigue_biceps_1000hz.txt"
_BICEPS_FS = 1000.0
_ADC_MID_SCALE = 2048.0
_STAGES = {"thirds": ("early", "late"), "all": ("early", "middle", "late")}


def load_biceps_fatigue(path, *, window_seconds=2.0, stages="thirds", n_blocks=5):
    """Load the biceps fatigue recording cut into early and late windows.

    One single-channel recording of the biceps brachii during cyclic
    flexion/extension until fatigue (sample signal of the biosignalsnotebooks
    package, PLUX, MIT licence): 126,900 raw 12-bit ADC counts at 1000 Hz. Over
    the recording the median frequency falls and the amplitude rises, the
    classic fatigue signature, which makes early vs late windows a
    classification task.

    The signal is cut into consecutive, non-overlapping windows of
    ``window_seconds`` (a last, incomplete window is dropped) and the ADC
    mid-scale 2048 is subtracted. Label rule, with ``T`` the recording length:

    - ``"early"``: windows whose start lies in the first third
      (``start < T / 3``);
    - ``"late"``: windows whose end lies in the last third
      (``end > 2 T / 3``);
    - the remaining windows, in the middle third, are dropped
      (``stages="thirds"``) or labelled ``"middle"`` (``stages="all"``).

    With the default 2 s windows this gives 22 early and 21 late windows.
    Neighbouring windows are strongly correlated, so do not shuffle them
    across train and test: ``groups`` numbers ``n_blocks`` consecutive blocks
    within each stage (block ``k`` of every stage shares the group ``k``), so
    ``GroupKFold(n_splits=n_blocks)`` or ``LeaveOneGroupOut`` tests on whole
    blocks of time that contain every class.

    Parameters
    ----------
    path : str or os.PathLike
        Folder holding ``emg_fatigue_biceps_1000hz.txt``, or that file.
    window_seconds : float, default=2.0
        Window length in seconds; at most a third of the recording.
    stages : {"thirds", "all"}, default="thirds"
        ``"thirds"`` keeps early and late windows (two classes); ``"all"``
        also keeps the middle ones (three classes).
    n_blocks : int, default=5
        Number of consecutive blocks per stage in ``groups``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : ndarray of shape (n_windows, 1, n_times)
            float64 windows, ADC counts minus 2048.
        target : ndarray of shape (n_windows,)
            Stage (str) of each window.
        target_names : ndarray
            The stages, in time order.
        time : ndarray of shape (n_windows,)
            Start of each window in seconds.
        groups : ndarray of shape (n_windows,)
            Block number (int) of each window within its stage.
        metadata : pandas.DataFrame
            One row per window: ``window`` (index among all windows),
            ``start_s``, ``stop_s``, ``stage``, ``group``.
        fs : float
            Sampling rate, 1000.0 Hz.
        DESCR : str
            Description of the data set.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If ``window_seconds``, ``stages`` or ``n_blocks`` is invalid.

    Examples
    --------
    The recording is not shipped with the package; point ``path`` at your copy.

    >>> from sklearn_semg.datasets import load_biceps_fatigue
    >>> bunch = load_biceps_fatigue("shared/data/biceps_fatigue")  # doctest: +SKIP
    >>> bunch.data.shape, bunch.fs  # doctest: +SKIP
    ((43, 1, 2000), 1000.0)
    >>> bunch.metadata["stage"].value_counts().to_dict()  # doctest: +SKIP
    {'early': 22, 'late': 21}
    """
    if stages not in _STAGES:
        raise ValueError(f"stages must be one of {sorted(_STAGES)}; got {stages!r}.")
    if (
        not isinstance(window_seconds, Real)
        or isinstance(window_seconds, bool)
        or not window_seconds > 0
    ):
        raise ValueError(
            f"window_seconds must be a positive number of seconds; got "
            f"{window_seconds!r}."
        )
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, Integral) or n_blocks < 1:
        raise ValueError(f"n_blocks must be a positive int; got {n_blocks!r}.")
    file = Path(os.fspath(path))
    if file.is_dir():
        file = file / BICEPS_FATIGUE_FILE
    if not file.is_file():
        raise FileNotFoundError(
            f"File not found: {str(file)!r}; path must be the biceps_fatigue "
            f"folder or its {BICEPS_FATIGUE_FILE}."
        )
    try:
        signal = _read_text_columns(file)
    except ValueError as exc:
        raise ValueError(f"{str(file)!r} {exc}") from exc
    if signal.shape[0] != 1:
        raise ValueError(
            f"{str(file)!r} has {signal.shape[0]} columns; expected one column of "
            "ADC counts."
        )
    signal = signal[0] - _ADC_MID_SCALE
    total = signal.shape[0]
    width = int(round(window_seconds * _BICEPS_FS))
    if not 16 <= width <= total // 3:
        raise ValueError(
            f"window_seconds must give windows of 16 samples up to a third of the "
            f"recording ({total // 3 / _BICEPS_FS:g} s); got {window_seconds!r} "
            f"({width} samples)."
        )
    n_windows = total // width
    starts = np.arange(n_windows) * width
    stops = starts + width
    # Integer arithmetic: start < T/3 and stop > 2T/3 without rounding issues.
    stage = np.where(
        3 * starts < total, "early", np.where(3 * stops > 2 * total, "late", "middle")
    )
    keep = np.isin(stage, _STAGES[stages])
    windows = np.flatnonzero(keep)
    stage = stage[keep]
    groups = np.empty(windows.shape[0], dtype=np.int64)
    for name in _STAGES[stages]:
        members = np.flatnonzero(stage == name)
        if members.shape[0] < n_blocks:
            raise ValueError(
                f"n_blocks={n_blocks} is more than the {members.shape[0]} "
                f"{name!r} windows of {window_seconds!r} s; use fewer blocks or "
                "shorter windows."
            )
        groups[members] = np.arange(members.shape[0]) * n_blocks // members.shape[0]
    data = np.stack([signal[s : s + width] for s in starts[windows]])[:, np.newaxis]
    time = starts[windows] / _BICEPS_FS
    metadata = pd.DataFrame(
        {
            "window": windows.astype(np.int64),
            "start_s": time,
            "stop_s": stops[windows] / _BICEPS_FS,
            "stage": pd.Series(stage.tolist(), dtype=object),
            "group": groups,
        }
    )
    descr = (
        "Biceps brachii fatigue recording\n"
        "================================\n\n"
        "Sample signal of the biosignalsnotebooks package 0.6.14 (PLUX, MIT "
        "licence): bioplux channel 2, 12-bit raw ADC counts (0-4095, a few "
        "samples saturate at both ends), 1000 Hz, 126,900 samples (126.9 s) of "
        "cyclic flexion/extension of the biceps brachii until fatigue.\n\n"
        f"Windows of {width} samples ({width / _BICEPS_FS:g} s), mid-scale 2048 "
        "subtracted. 'early': window starts in the first third; 'late': window "
        "ends in the last third; windows in the middle third are "
        + ("dropped." if stages == "thirds" else "labelled 'middle'.")
        + f" groups: {n_blocks} consecutive blocks per stage, for blocked "
        "time splits (GroupKFold or LeaveOneGroupOut)."
    )
    return Bunch(
        data=data,
        target=stage,
        target_names=np.asarray(_STAGES[stages]),
        time=time,
        groups=groups,
        metadata=metadata,
        fs=_BICEPS_FS,
        DESCR=descr,
    )
