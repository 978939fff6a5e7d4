"""Folders of ``.npz`` Hilbert-Huang matrices, one matrix per file.

This is the on-disk layout of the reference notebook (see
:ref:`reference_notebook`; the Kaggle
``HILBERTMATRIX_NPZ`` data set): each file holds one ``(256, 256)`` matrix and
its name carries the label, for example ``BICEPS_fatiguetest_M_006.npz`` or
``TRICEPS_half_F_012.npz``; files whose name starts with ``Test`` are
unlabelled. :func:`load_hht_dir` reads such a folder and :func:`save_hht_dir`
writes one, so the output of :class:`~sklearn_semg.HHTTransformer` can be
stored and read back by the same rules.

Every file that cannot be used is reported, where the notebook skipped some
and took names it could not parse for unlabelled test files.
"""

import os
import re
import shutil
import tempfile
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils.validation import check_hht_matrices
from ._base import (
    MOVEMENT_WORDS,
    check_folder,
    check_muscle,
    npy_stream,
    read_hht_index,
    regular_npz_files,
    report_problems,
    write_npz_atomic,
)

__all__ = ["NPZ_NAME_LABELS", "load_hht_dir", "save_hht_dir"]

#: The six labels that the ``.npz`` naming scheme encodes,
#: ``"{gender}_{movement}"``, in the reference notebook's order.
NPZ_NAME_LABELS = ("M_full", "M_half", "M_invalid", "F_full", "F_half", "F_invalid")


def deprecated_name(module_name, name):
    """The value of a name that was renamed in 0.2, with a FutureWarning."""
    if name == "HHT_CLASSES":
        warnings.warn(
            f"{module_name}.HHT_CLASSES was renamed NPZ_NAME_LABELS in 0.2 (they "
            "are the labels of the .npz naming scheme, not classes of every HHT "
            "task) and will be removed in 0.3.",
            FutureWarning,
            stacklevel=3,
        )
        return NPZ_NAME_LABELS
    raise AttributeError(f"module {module_name!r} has no attribute {name!r}")


def __getattr__(name):
    return deprecated_name(__name__, name)


_GENDER_RE = re.compile(r"[_-]([MF])[_-]")
_SPLIT_RE = re.compile(r"[_-]")


def _check_shape(shape):
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 2
        or not all(isinstance(s, Integral) and s >= 1 for s in shape)
    ):
        raise ValueError(
            "shape must be a pair of positive integers (n_freq_bins, n_time_bins), "
            f"e.g. (256, 256); got {shape!r}."
        )
    return tuple(int(s) for s in shape)


def parse_hht_filename(name):
    """Labels carried by the name of an HHT ``.npz`` file (the notebook's rules).

    Parameters
    ----------
    name : str
        File name (a directory part is ignored).

    Returns
    -------
    info : dict or None
        ``None`` for an unlabelled test file (the name starts with ``test``,
        any case, and its first part is ``test`` with an optional number, or
        it carries no label). Otherwise a dict with keys ``muscle`` (the first part of the
        name before ``_`` or ``-``), ``gender`` (``"M"`` or ``"F"``, standing
        between ``_``/``-`` separators), ``movement`` (``"full"`` if the
        lower-cased name contains ``fatiguetest`` or ``full``, else ``"half"``
        if it contains ``half``, else ``"invalid"`` if it contains
        ``invalid`` or ``wrong``) and ``label`` (``"{gender}_{movement}"``).

    Raises
    ------
    ValueError
        If the name carries no gender or no movement, or is ambiguous: both
        genders, or a name that starts with ``test`` and carries a label, such
        as ``TESTING_full_M_4.npz``. (Several movement words follow the
        reference's priority: ``fatiguetest``/``full``, then ``half``, then
        ``invalid``/``wrong``.)

    Examples
    --------
    >>> from sklearn_semg.datasets._hht_dir import parse_hht_filename
    >>> parse_hht_filename("BICEPS_fatiguetest_M_006.npz")["label"]
    'M_full'
    >>> parse_hht_filename("FOREARM-wrong-F-3.npz")["label"]
    'F_invalid'
    >>> parse_hht_filename("Test_001.npz") is None
    True
    >>> parse_hht_filename("BICEPS_full_F_M_3.npz")
    Traceback (most recent call last):
    ...
    ValueError: ambiguous name: it names both genders ['F', 'M'] ...
    """
    base = os.path.basename(name)
    lower = base.lower()
    genders = sorted(set(_GENDER_RE.findall(_SPLIT_RE.sub("__", base))))
    # in priority order (the reference's rule: fatiguetest/full, half, invalid)
    movements = [m for word, m in MOVEMENT_WORDS if word in lower]
    if lower.startswith("test"):
        first = _SPLIT_RE.split(Path(lower).stem, maxsplit=1)[0]
        if re.fullmatch(r"test\d*", first) or not (genders and movements):
            return None
        raise ValueError(
            f"ambiguous name: it starts with 'test' (an unlabelled test file) but "
            f"carries the label {genders[0]}_{movements[0]}; rename it (Test_001.npz "
            "for a test file, a name like BICEPS_full_M_001.npz for a labelled one)"
        )
    if len(genders) > 1:
        raise ValueError(
            f"ambiguous name: it names both genders {genders} between '_' or '-' "
            "separators; expected one (a name like BICEPS_full_M_001.npz)"
        )
    gender = _GENDER_RE.search(base)
    if gender is None:
        raise ValueError(
            "cannot parse the label from the name: no gender 'M' or 'F' between "
            "'_' or '-' separators (expected a name like BICEPS_full_M_001.npz)"
        )
    movement = movements[0] if movements else None
    if movement is None:
        raise ValueError(
            "cannot parse the label from the name: no movement word "
            "('fatiguetest' or 'full', 'half', 'invalid' or 'wrong'; expected a "
            "name like BICEPS_full_M_001.npz)"
        )
    muscle = _SPLIT_RE.split(Path(base).stem, maxsplit=1)[0]
    label = f"{gender.group(1)}_{movement}"
    return {
        "muscle": muscle,
        "gender": gender.group(1),
        "movement": movement,
        "label": label,
    }


def _read_hht_file(file, shape):
    """Matrix stored in ``file`` as float32 of ``shape``; ValueError says why not.

    The array's ``.npy`` header (dtype and shape, so its size) is checked
    against ``shape`` before any data is read, and only that many bytes are
    read: a file declaring a huge array (a decompression bomb, a forged
    header) costs nothing. Object arrays are refused (nothing is unpickled);
    members that are not ``.npy`` arrays are ignored.
    """
    with npy_stream(file) as (stream, declared, fortran, dtype, member_size):
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise ValueError(f"has non-numeric dtype {dtype}; expected numbers")
        if declared != tuple(shape):
            raise ValueError(f"has shape {declared}, expected {shape}")
        n_bytes = int(np.prod(shape)) * dtype.itemsize
        if member_size > n_bytes + 65_536:
            raise ValueError(
                f"its array member declares {member_size} bytes, more than a "
                f"{shape} {dtype} matrix needs"
            )
        data = stream.read(n_bytes)
        if len(data) != n_bytes:
            raise ValueError("is truncated (its array ends early)")
    matrix = np.frombuffer(data, dtype=dtype).reshape(
        shape, order="F" if fortran else "C"
    )
    if not np.all(np.isfinite(matrix)):
        raise ValueError("contains NaN or infinite values")
    return matrix.astype(np.float32)


def load_hht_dir(path, *, strict=False, shape=(256, 256), labels="auto"):
    """Load a folder of ``.npz`` Hilbert-Huang matrices with their labels.

    Every ``*.npz`` file of ``path`` (not its sub-folders) holds one matrix,
    stored under the key ``"hht"`` or, failing that, as the first array of the
    archive. Files are read in name order, so the result is deterministic.
    Labels come from the file name by the reference notebook's rules (see
    :ref:`npz_naming` and :ref:`reference_notebook`):

    - a name starting with ``test`` (any case) is unlabelled and goes to
      ``test_data``;
    - gender is the ``M`` or ``F`` standing between ``_`` or ``-`` separators;
    - movement is ``full`` if the lower-cased name contains ``fatiguetest`` or
      ``full``, else ``half`` if it contains ``half``, else ``invalid`` if it
      contains ``invalid`` or ``wrong``;
    - the label is ``"{gender}_{movement}"``, one of six classes.

    With ``labels="auto"`` (the default), a folder that holds an
    ``index.csv`` with columns ``npz_file`` and ``label`` (as
    ``sklearn-semg hht`` writes it) takes the labels of the files it names
    from there: any label set, an empty label marking an unlabelled file;
    the files it does not name follow the rules above.

    A file that cannot be read (not an ``.npz`` archive, corrupt), holds a
    matrix of another shape, non-numeric or non-finite values, or whose
    (non-test) name cannot be parsed is never dropped silently: all such files
    are listed, with the reason, in one ``UserWarning`` and in ``problems``;
    with ``strict=True`` a ``ValueError`` lists them instead.

    Parameters
    ----------
    path : str or os.PathLike
        Folder holding the ``.npz`` files.
    strict : bool, default=False
        Raise a ``ValueError`` listing the unusable files instead of skipping
        them with a warning.
    shape : tuple of (int, int), default=(256, 256)
        Expected matrix shape ``(n_freq_bins, n_time_bins)``.
    labels : {"auto", "names"}, default="auto"
        ``"auto"``: from the folder's ``index.csv`` where it names the file,
        else from the file name. ``"names"``: from the file names only.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : ndarray of shape ``(n_files, *shape)``
            float32 matrices of the labelled files.
        target : ndarray of shape (n_files,)
            Labels (str), e.g. ``"M_full"``.
        target_names : ndarray of shape (n_classes,)
            The six labels of the naming scheme, :data:`NPZ_NAME_LABELS`, or,
            when ``index.csv`` gives others, the sorted labels found.
        metadata : pandas.DataFrame
            One row per labelled file: ``file``, ``muscle``, ``gender``,
            ``movement``, ``label`` (the first three empty for a label read
            from ``index.csv``).
        test_data : ndarray of shape ``(n_test_files, *shape)``
            float32 matrices of the unlabelled ``Test*`` files.
        test_metadata : pandas.DataFrame
            One row per test file: ``file``.
        problems : list of (str, str)
            ``(file name, reason)`` of each file that was skipped.
        path : pathlib.Path
            The folder read.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` holds no ``.npz`` file, or with ``strict=True`` if a file
        cannot be used.

    See Also
    --------
    save_hht_dir : Write matrices in this layout.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_semg.datasets import load_hht_dir, save_hht_dir
    >>> X = np.random.default_rng(0).random((3, 8, 8), dtype=np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = save_hht_dir(folder, X[:2], ["M_full", "F_half"], muscle="biceps")
    ...     _ = save_hht_dir(folder, X[2:])  # unlabelled: Test_001.npz
    ...     bunch = load_hht_dir(folder, shape=(8, 8))
    >>> bunch.data.shape, bunch.test_data.shape
    ((2, 8, 8), (1, 8, 8))
    >>> bunch.metadata["file"].tolist(), bunch.target.tolist()
    (['BICEPS_full_M_001.npz', 'BICEPS_half_F_002.npz'], ['M_full', 'F_half'])
    """
    folder = check_folder(path)
    shape = _check_shape(shape)
    if labels not in ("auto", "names"):
        raise ValueError(
            f"The 'labels' parameter of load_hht_dir must be 'auto' or 'names'; "
            f"got {labels!r}."
        )
    indexed = _index_labels(folder) if labels == "auto" else {}
    files, problems = regular_npz_files(folder)
    if not files and not problems:
        raise ValueError(
            f"No .npz file found in {str(folder)!r}; expected HHT matrices saved "
            "as one .npz file per matrix (e.g. BICEPS_full_M_001.npz)."
        )

    matrices, rows, test_matrices, test_rows = [], [], [], []
    for file in files:
        try:
            if file.name in indexed:
                label = indexed[file.name]
                info = None if label == "" else _INDEXED | {"label": label}
            else:
                info = parse_hht_filename(file.name)
            matrix = _read_hht_file(file, shape)
        except (ValueError, MemoryError) as exc:
            problems.append((file.name, str(exc) or type(exc).__name__))
            continue
        if info is None:
            test_matrices.append(matrix)
            test_rows.append({"file": file.name})
        else:
            matrices.append(matrix)
            rows.append({"file": file.name, **info})

    report_problems(
        problems, what="load_hht_dir", where=repr(str(folder)), strict=strict
    )

    def stack(arrays):
        if not arrays:
            return np.empty((0, *shape), dtype=np.float32)
        return np.stack(arrays).astype(np.float32, copy=False)

    columns = ["file", "muscle", "gender", "movement", "label"]
    metadata = pd.DataFrame(rows, columns=columns)
    found = set(metadata["label"])
    names = NPZ_NAME_LABELS if found <= set(NPZ_NAME_LABELS) else sorted(found)
    return Bunch(
        data=stack(matrices),
        target=np.asarray(metadata["label"].tolist(), dtype=str),
        target_names=np.asarray(names),
        metadata=metadata,
        test_data=stack(test_matrices),
        test_metadata=pd.DataFrame(test_rows, columns=["file"]),
        problems=problems,
        path=folder,
    )


#: The metadata of a file labelled by index.csv (its name carries nothing).
_INDEXED = {"muscle": "", "gender": "", "movement": ""}


def _index_labels(folder):
    """``{npz file name: label}`` of the folder's index.csv (columns
    ``npz_file`` and ``label``); empty without one. An unreadable index is an
    error naming it: labels silently read from the names instead would be
    wrong."""
    table = read_hht_index(
        folder, hint=", or pass labels='names' to read the labels from the file names"
    )
    if table is None or not {"npz_file", "label"} <= set(table.columns):
        return {}
    return {
        name: label.strip()
        for name, label in zip(table["npz_file"], table["label"], strict=True)
    }


def _check_hht_array(X):
    """``X`` as float32 ``(n, F, T)``: one matrix per file."""
    if np.ndim(X) not in (3, 4):
        raise ValueError(
            "X must be HHT matrices of shape (n_matrices, n_freq_bins, n_time_bins) "
            "or (n_matrices, 1, n_freq_bins, n_time_bins), as returned by "
            f"HHTTransformer; got an array of shape {np.shape(X)}."
        )
    M = check_hht_matrices(X, estimator_name="save_hht_dir")
    if M.shape[1] != 1:
        raise ValueError(
            f"X has {M.shape[1]} channels (shape {np.shape(X)}); an HHT folder "
            "holds one (n_freq_bins, n_time_bins) matrix per file. Select a "
            "channel first, e.g. save_hht_dir(path, X[:, 0], labels), or save "
            "each channel to its own folder."
        )
    return M[:, 0]


def _check_labels(labels, n):
    labels = np.asarray(labels, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"labels must be a 1-D sequence with one label per matrix ({n}); got "
            f"shape {labels.shape}."
        )
    bad = sorted({repr(lab) for lab in labels if lab not in NPZ_NAME_LABELS})
    if bad:
        raise ValueError(
            f'labels must be among {list(NPZ_NAME_LABELS)} ("{{gender}}_{{movement}}", '
            f"the classes load_hht_dir reads back); got {', '.join(bad)}."
        )
    return [str(lab) for lab in labels]


def save_hht_dir(
    path, X, labels=None, *, muscle="SEMG", start_index=1, overwrite=False
):
    """Save HHT matrices as one ``.npz`` file each, named so they load back.

    Matrix ``k`` is written under the key ``"hht"`` to
    ``{MUSCLE}_{movement}_{gender}_{i:03d}.npz`` (``i = start_index + k``),
    e.g. ``BICEPS_full_M_001.npz`` for the label ``"M_full"``, or to
    ``Test_{i:03d}.npz`` when ``labels`` is None. :func:`load_hht_dir` reads
    the folder back with the same matrices (as float32) and labels.

    Each file is written to a temporary name in the same folder and renamed
    into place, so a reader never sees a half-written file. Existing files are
    only replaced with ``overwrite=True``; otherwise every target is checked
    before anything is written, and nothing is written if one exists.

    Parameters
    ----------
    path : str or os.PathLike
        Folder to write to; created (with its parents) if missing.
    X : array-like of shape (n_matrices, n_freq_bins, n_time_bins) or \
            (n_matrices, 1, n_freq_bins, n_time_bins)
        HHT matrices, e.g. the output of single-channel
        :class:`~sklearn_semg.HHTTransformer`. Saved as float32.
    labels : array-like of str of shape (n_matrices,) or None, default=None
        One label per matrix among :data:`NPZ_NAME_LABELS` (``"M_full"``,
        ``"M_half"``, ``"M_invalid"``, ``"F_full"``, ``"F_half"``,
        ``"F_invalid"``). ``None`` saves unlabelled ``Test_*`` files.
    muscle : str, default="SEMG"
        First part of the labelled file names (upper-cased); letters and
        digits only, and without a word the name parser reads as a movement.
    start_index : int, default=1
        Number of the first file.
    overwrite : bool, default=False
        Replace existing files instead of raising ``FileExistsError``.

    Returns
    -------
    paths : list of pathlib.Path
        The files written, in the order of ``X``.

    Raises
    ------
    FileExistsError
        If a target file exists and ``overwrite`` is False (nothing is written).
    ValueError
        If ``X`` has another shape or several channels, or a label or
        ``muscle`` is invalid.

    See Also
    --------
    load_hht_dir : Read such a folder.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_semg.datasets import save_hht_dir
    >>> X = np.zeros((2, 1, 16, 16), dtype=np.float32)  # HHTTransformer layout
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_hht_dir(folder, X, ["F_invalid", "M_half"], start_index=7)
    ...     [p.name for p in paths]
    ['SEMG_invalid_F_007.npz', 'SEMG_half_M_008.npz']
    """
    X = _check_hht_array(X)
    n = X.shape[0]
    if not isinstance(start_index, Integral) or start_index < 0:
        raise ValueError(
            f"start_index must be a non-negative int; got {start_index!r}."
        )
    indices = range(int(start_index), int(start_index) + n)
    if labels is None:
        names = [f"Test_{i:03d}.npz" for i in indices]
    else:
        labels = _check_labels(labels, n)
        muscle = check_muscle(muscle)
        names = []
        for i, label in zip(indices, labels, strict=True):
            gender, movement = label.split("_")
            names.append(f"{muscle}_{movement}_{gender}_{i:03d}.npz")

    try:
        folder = Path(os.fspath(path))
    except TypeError as exc:
        raise TypeError(
            f"path must be a str or os.PathLike naming a folder; got "
            f"{type(path).__name__} {path!r}."
        ) from exc
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"path={str(folder)!r} is a file; expected a folder.")
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / name for name in names]
    if not overwrite:
        existing = [t.name for t in targets if t.exists()]
        if existing:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise FileExistsError(
                f"{len(existing)} of the {n} target file(s) already exist in "
                f"{str(folder)!r}: {shown}. Nothing was written. Pass "
                "overwrite=True to replace them, or another start_index or folder."
            )
    # All or nothing: every file is written to a hidden staging folder first
    # (where a full disk or an interruption leaves nothing in ``folder``),
    # then moved into place; a failure while moving takes back the files
    # moved so far (and puts back any file they replaced).
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".save_hht_dir.", suffix=".tmp"))
    placed, replaced = [], []
    try:
        for target, matrix in zip(targets, X, strict=True):
            write_npz_atomic(staging / target.name, matrix, overwrite=False)
        for target in targets:
            if target.exists():  # only with overwrite=True
                backup = staging / f".{target.name}.previous"
                os.replace(target, backup)
                replaced.append((backup, target))
            os.replace(staging / target.name, target)
            placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        for backup, target in replaced:
            os.replace(backup, target)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets
