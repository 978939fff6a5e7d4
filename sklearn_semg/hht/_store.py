"""An on-disk, chunked store of Hilbert-Huang matrices (Zarr).

:func:`build_hht_store` streams recordings through an
:class:`~sklearn_semg.HHTTransformer` one chunk at a time into a Zarr group,
with labels, groups and names alongside, so that the matrices of a study never
have to fit in memory; :func:`open_hht_store` opens it as an
:class:`HHTStore` whose ``X`` is an array-like read slice by slice.

Layout of the group (Zarr format 3)::

    hht      float32 (n, C, F, T), chunks of ``chunk_size`` matrices (Zstandard)
    done     bool (n_chunks,): True once chunk k is written whole
    labels   str (n,)      (when given)
    groups   str (n,)      (when given)
    names    str (n,)      file or recording names
    attrs    format, version, transformer settings, chunk size, complete

A chunk's ``done`` flag is set only after its matrices are written: a run
killed in the middle of a chunk leaves the flag False, so the chunk never
reads as valid and a resumed build computes it again. Nothing else is
recomputed on resume.
"""

import copy
import itertools
import json
import os
import shutil
import sys
from numbers import Integral
from pathlib import Path

import joblib
import numpy as np

from ..utils._batches import is_lazy_array

__all__ = ["HHTStore", "build_hht_store", "open_hht_store"]

STORE_FORMAT = "sklearn-semg-hht-store"
STORE_VERSION = 1


def _zarr():
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "The HHT store needs zarr; install it with "
            '`pip install "sklearn-semg[dask]"`.'
        ) from exc
    return zarr


def _plain(value):
    """A JSON value for a transformer parameter (repr for anything else)."""
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value


def _settings(transformer):
    params = transformer.get_params(deep=False)
    # how the work is run does not change the matrices
    for key in ("n_jobs", "memory", "progress"):
        params.pop(key, None)
    return {key: _plain(value) for key, value in sorted(params.items())}


def _as_source(X, *, fs, pattern, transformer_fs):
    """``(n or None, chunk reader, default names)`` of the recordings ``X``.

    The reader maps ``(start, stop)`` to a list of recordings; a stream (an
    iterable without a length) is read in order, once.
    """
    if isinstance(X, (str, os.PathLike)):
        from ..datasets import read_recording

        folder = Path(os.fspath(X))
        if not folder.is_dir():
            raise FileNotFoundError(
                f"build_hht_store: X={str(folder)!r} is not a folder; expected a "
                "folder of recording files, an array of recordings or an iterable "
                "of recordings."
            )
        files = sorted(p for p in folder.glob(pattern or "*") if p.is_file())
        if not files:
            raise ValueError(
                f"build_hht_store: no file matches {pattern or '*'!r} in "
                f"{str(folder)!r}."
            )

        def read_files(start, stop):
            out = []
            for file in files[start:stop]:
                recording = read_recording(file, fs=fs)
                if recording.fs != float(transformer_fs):
                    raise ValueError(
                        f"build_hht_store: {str(file)!r} is sampled at "
                        f"{recording.fs:g} Hz but the transformer's fs is "
                        f"{float(transformer_fs):g} Hz; pass an HHTTransformer "
                        f"with fs={recording.fs:g}."
                    )
                out.append(recording.data)
            return out

        return len(files), read_files, [f.name for f in files]
    if is_lazy_array(X) or isinstance(X, (np.ndarray, list, tuple)):

        def read_slice(start, stop):
            chunk = X[start:stop]
            if hasattr(chunk, "compute"):  # a Dask array
                chunk = chunk.compute()
            return chunk if isinstance(chunk, list) else np.asarray(chunk)

        n = len(X)
        return n, read_slice, [f"recording_{i}" for i in range(n)]
    if hasattr(X, "__iter__"):
        iterator = iter(X)

        def read_stream(start, stop):
            out = []
            for _ in range(stop - start):
                try:
                    out.append(next(iterator))
                except StopIteration:
                    break
            return out

        return None, read_stream, None
    raise TypeError(
        "build_hht_store: X must be an array of recordings, a Dask or Zarr "
        "array, an iterable of recordings or a folder of recording files; got "
        f"{type(X).__name__}."
    )


def _check_side_values(values, name, n):
    if values is None:
        return None
    array = np.asarray(values).astype(str)
    if array.ndim != 1 or (n is not None and len(array) != n):
        raise ValueError(
            f"build_hht_store: {name} must be 1-D with one value per recording "
            f"({n}); got shape {np.shape(values)}."
        )
    return array


def _strings(group, name):
    """A side array as a numpy array of Python-compatible ``str`` (``<U``),
    or None when the store has none."""
    if name not in group:
        return None
    return np.asarray(np.asarray(group[name][:]).tolist(), dtype=str)


class HHTStore:
    """An opened HHT store: matrices on disk, read slice by slice.

    Returned by :func:`open_hht_store` and :func:`build_hht_store`.

    Attributes
    ----------
    path : pathlib.Path
        The store's folder.
    X : zarr.Array of shape (n, C, F, T)
        The matrices, float32; ``X[a:b]`` reads those rows into memory.
        :class:`~sklearn_semg.CNNFeatureExtractor`,
        :class:`~sklearn_semg.MarginalSpectrum` and
        :class:`~sklearn_semg.HHTCNNClassifier` read it batch by batch.
    groups : ndarray of str or None
        Group (e.g. subject) of every matrix.
    names : ndarray of str
        Name of every matrix (its file, or ``recording_i``).
    settings : dict
        The parameters of the transformer that made the matrices.
    complete : bool
        Whether every chunk is written.
    missing_chunks : list of int
        Chunks not written yet (empty when complete).
    """

    def __init__(self, path, group):
        self.path = Path(path)
        self._group = group
        attrs = dict(group.attrs)
        self.settings = attrs.get("settings", {})
        self.chunk_size = int(attrs["chunk_size"])
        self.X = group["hht"]
        done = np.asarray(group["done"][:], dtype=bool)
        self.missing_chunks = np.flatnonzero(~done).tolist()
        self.complete = bool(attrs.get("complete", False)) and not self.missing_chunks
        self.names = _strings(group, "names")
        self.groups = _strings(group, "groups")
        self._labels = _strings(group, "labels")

    @property
    def y(self):
        """Label of every matrix; an error names the store when it has none."""
        if self._labels is None:
            raise ValueError(
                f"The HHT store {str(self.path)!r} has no labels; build it with "
                "build_hht_store(..., labels=y) to train or evaluate on it."
            )
        return self._labels

    def __len__(self):
        return int(self.X.shape[0])

    def __repr__(self):
        state = (
            "complete"
            if self.complete
            else f"{len(self.missing_chunks)} chunks missing"
        )
        return f"HHTStore({str(self.path)!r}, X={tuple(self.X.shape)}, {state})"


def _open_group(path, mode, *, require_matrices=True):
    zarr = _zarr()
    try:
        group = zarr.open_group(os.fspath(path), mode=mode)
    except (OSError, ValueError, KeyError) as exc:  # no Zarr group there
        raise ValueError(
            f"{str(path)!r} is not an HHT store ({type(exc).__name__}: {exc}); "
            "build one with build_hht_store."
        ) from exc
    attrs = dict(group.attrs)
    if attrs.get("format") != STORE_FORMAT:
        raise ValueError(
            f"{str(path)!r} is not an HHT store (no {STORE_FORMAT!r} format "
            "attribute); build one with build_hht_store."
        )
    if int(attrs.get("version", 0)) > STORE_VERSION:
        raise ValueError(
            f"The HHT store {str(path)!r} has format version {attrs['version']}; "
            f"this sklearn-semg reads version {STORE_VERSION}. Upgrade sklearn-semg."
        )
    if "hht" not in group and not require_matrices:
        return group  # a build stopped before its first chunk
    if "hht" not in group or len(group["hht"].shape) != 4:
        shape = group["hht"].shape if "hht" in group else None
        raise ValueError(
            f"The HHT store {str(path)!r} holds no matrices of shape (n, C, F, T) "
            f"under 'hht'; found {shape}."
        )
    n = group["hht"].shape[0]
    for name in ("labels", "groups", "names"):
        if name in group and group[name].shape != (n,):
            raise ValueError(
                f"The HHT store {str(path)!r} has {group[name].shape[0]} {name} "
                f"for {n} matrices; expected one per matrix."
            )
    return group


def open_hht_store(path, *, allow_incomplete=False):
    """Open an HHT store written by :func:`build_hht_store`.

    Parameters
    ----------
    path : str or os.PathLike
        The store's folder.
    allow_incomplete : bool, default=False
        Open a store whose build was interrupted (its ``missing_chunks`` hold
        no valid matrices); by default that is an error.

    Returns
    -------
    store : HHTStore

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not an HHT store, has matrices or side arrays of the
        wrong shape, or is incomplete (without ``allow_incomplete``).
    """
    if not Path(os.fspath(path)).exists():
        raise FileNotFoundError(f"HHT store not found: {os.fspath(path)!r}.")
    store = HHTStore(path, _open_group(path, "r"))
    if not store.complete and not allow_incomplete:
        raise ValueError(
            f"The HHT store {os.fspath(path)!r} is incomplete: chunks "
            f"{store.missing_chunks[:10]} (of {len(store.missing_chunks)} missing) "
            "were not written. Run build_hht_store again with the same input and "
            "path to finish it (written chunks are kept)."
        )
    return store


def _progress(total, enabled):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="HHT store", unit="chunk")


def build_hht_store(
    X,
    path,
    *,
    transformer=None,
    labels=None,
    groups=None,
    names=None,
    chunk_size=256,
    fs=None,
    pattern=None,
    overwrite=False,
    n_jobs=None,
    progress=None,
):
    """Stream recordings through the HHT, chunk by chunk, into a Zarr store.

    Only one chunk of recordings and matrices is in memory at a time (per
    job, with ``n_jobs``). The build resumes where it stopped: run it again
    with the same input and ``path``, and the chunks already written are
    kept, not recomputed.

    Parameters
    ----------
    X : array-like, list, Dask or Zarr array, iterable, or folder
        The recordings: an array ``(n, n_times)`` or ``(n, C, n_times)``, a
        list of recordings, a Dask or Zarr array (read slice by slice), any
        iterable of recordings (a generator: read once, in order), or a
        folder of recording files (read with
        :func:`~sklearn_semg.datasets.read_recording`, in name order).
    path : str or os.PathLike
        Folder of the store (created).
    transformer : HHTTransformer or None, default=None
        The matrices to compute; ``None``: ``HHTTransformer()`` (256x256).
        Its ``fit`` must not learn from the data (``normalize="global"``
        does: use ``"max"`` or ``None``), and ``flatten`` must be False.
        Its ``n_jobs`` parallelises each chunk when the chunks are computed
        one after the other (``n_jobs`` resolves to 1).
    labels, groups : array-like of shape (n,) or None, default=None
        Label and group (subject, session) of every recording, stored as
        strings.
    names : array-like of shape (n,) or None, default=None
        Name of every recording; default: the file names, or
        ``recording_i``.
    chunk_size : int, default=256
        Matrices per chunk (the unit of writing, resuming and reading).
    fs : float or None, default=None
        Sampling rate of text files in a folder ``X`` (other formats carry
        theirs); the transformer's ``fs`` must agree with the files.
    pattern : str or None, default=None
        Glob of the files of a folder ``X`` (default: every file).
    overwrite : bool, default=False
        Replace a store at ``path`` built with other settings (by default
        that is an error, so nothing is lost).
    n_jobs : int or None, default=None
        Chunks computed at once, by joblib workers (each with a
        single-job copy of ``transformer``). For an input of known length
        each worker writes its chunk into the store itself, so no matrices
        travel back to this process: inside
        ``joblib.parallel_config(backend="dask")`` the Dask workers write
        them (they must see ``path``: a shared file system). A stream of
        unknown length is written here, in order, as the workers hand its
        chunks back. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context (the Dask backend then uses
        every worker); ``-1`` means all processors. At most about
        ``2 * n_jobs`` chunks of recordings are read ahead.
    progress : bool or None, default=None
        Progress bar over chunks; ``None``: only on a terminal.

    Returns
    -------
    store : HHTStore
        The completed store, opened.

    Raises
    ------
    ValueError
        For a transformer that learns at ``fit`` or flattens, side arrays of
        the wrong length, a ``chunk_size`` below 1, recordings with another
        number of channels than the store's, or an existing store at
        ``path`` with other settings (without ``overwrite``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg import HHTTransformer
    >>> from sklearn_semg.hht import build_hht_store
    >>> X = np.random.default_rng(0).standard_normal((10, 2, 500))
    >>> hht = HHTTransformer(fs=1000, n_freq_bins=16, n_time_bins=16)
    >>> store = build_hht_store(X, "demo.zarr", transformer=hht, chunk_size=4,
    ...                         labels=list("ababababab"))  # doctest: +SKIP
    >>> store.X.shape, store.y[:3].tolist()  # doctest: +SKIP
    ((10, 2, 16, 16), ['a', 'b', 'a'])
    """
    from ._transformer import HHTTransformer

    zarr = _zarr()
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive int; got {chunk_size!r}.")
    transformer = HHTTransformer() if transformer is None else transformer
    if not isinstance(transformer, HHTTransformer):
        raise TypeError(
            f"transformer must be an HHTTransformer; got {type(transformer).__name__}."
        )
    if transformer.normalize == "global" or transformer.flatten:
        raise ValueError(
            "build_hht_store: the transformer must make each matrix on its own: "
            "normalize='global' learns a scale from all the data at fit and "
            "flatten=True gives rows, not matrices; got "
            f"normalize={transformer.normalize!r}, flatten={transformer.flatten!r}."
        )
    n, read, default_names = _as_source(
        X, fs=fs, pattern=pattern, transformer_fs=transformer.fs
    )
    labels = _check_side_values(labels, "labels", n)
    groups = _check_side_values(groups, "groups", n)
    names = _check_side_values(names, "names", n)
    if names is None and default_names is not None:
        names = np.asarray(default_names, dtype=str)
    settings = _settings(transformer)
    shape = (transformer.n_freq_bins, transformer.n_time_bins)
    path = Path(os.fspath(path))

    group = _resume_or_create(
        zarr,
        path,
        settings=settings,
        chunk_size=chunk_size,
        shape=shape,
        n=n,
        overwrite=overwrite,
    )
    done = np.asarray(group["done"][:], dtype=bool) if "done" in group else None
    n_chunks = None if n is None else -(-n // chunk_size)
    one_job = joblib.effective_n_jobs(n_jobs) == 1
    bar = _progress(n_chunks, progress)

    def pending():
        """``(job, chunk, start, stop, recordings)`` of every chunk to
        compute, read lazily; fits the transformer on the first."""
        job = None
        for k in itertools.count() if n_chunks is None else range(n_chunks):
            start = k * chunk_size
            stop = start + chunk_size if n is None else min(start + chunk_size, n)
            if done is not None and k < len(done) and done[k]:
                if n is None:
                    read(start, stop)  # a stream: skip what is written, unread
                if bar is not None:
                    bar.update(1)
                continue
            recordings = read(start, stop)
            if len(recordings) == 0:
                return
            if job is None:
                job = _job_transformer(transformer.fit(recordings), one_job)
                if n is not None:
                    shape = (job.n_channels_, job.n_freq_bins, job.n_time_bins)
                    _create_arrays(group, n, shape, labels, groups, names)
            yield job, k, start, start + len(recordings), recordings
            if n is None and len(recordings) < chunk_size:
                return

    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    if n is None:  # the array grows here, in order, as the chunks come back
        tasks = (joblib.delayed(_compute_chunk)(*task) for task in pending())
        for k, start, stop, matrices in parallel(tasks):
            group = _write_chunk(group, k, start, stop, matrices, labels, groups, names)
            if bar is not None:
                bar.update(1)
    else:  # each job writes its chunk where it runs
        tasks = (
            joblib.delayed(_compute_and_write_chunk)(os.fspath(path), *task)
            for task in pending()
        )
        for _ in parallel(tasks):
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    group.attrs["complete"] = True
    return open_hht_store(path)


def _resume_or_create(zarr, path, *, settings, chunk_size, shape, n, overwrite):
    """The group at ``path``: an earlier build with the same settings (to
    resume), or a new one."""
    if path.exists():
        try:
            group = _open_group(path, "r+", require_matrices=False)
        except ValueError:
            if not overwrite:
                raise ValueError(
                    f"build_hht_store: {str(path)!r} exists and is not an HHT store; "
                    "choose another path (nothing was changed)."
                ) from None
            group = None
        if group is not None:
            attrs = dict(group.attrs)
            same = (
                attrs.get("settings") == settings
                and int(attrs.get("chunk_size", -1)) == chunk_size
                and tuple(attrs.get("matrix_shape", ())) == shape
                and attrs.get("n_recordings") == n
            )
            if same:
                return group
            if not overwrite:
                raise ValueError(
                    f"build_hht_store: the store {str(path)!r} was built with other "
                    "settings (transformer, chunk_size or number of recordings); "
                    "pass overwrite=True to replace it, or another path."
                )
        shutil.rmtree(path)
    group = zarr.open_group(os.fspath(path), mode="w")
    group.attrs.update(
        {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "settings": settings,
            "chunk_size": chunk_size,
            "matrix_shape": list(shape),
            "n_recordings": n,
            "complete": False,
        }
    )
    return group


def _job_transformer(fitted, one_job):
    """The fitted transformer the jobs run: itself when the chunks are
    computed one after the other, else a copy with one job."""
    if one_job:
        return fitted
    return copy.deepcopy(fitted).set_params(n_jobs=1, progress=False)


def _transform(transformer, recordings):
    """``transformer.transform``; a single-job transformer runs here, with
    no nested parallelism (in a Dask worker, joblib's nested backend is the
    cluster again, whatever ``n_jobs`` says)."""
    if transformer.n_jobs != 1:
        return transformer.transform(recordings)
    with joblib.parallel_config(backend="sequential"):
        return transformer.transform(recordings)


def _compute_chunk(transformer, k, start, stop, recordings):
    return k, start, stop, _transform(transformer, recordings)


def _compute_and_write_chunk(path, transformer, k, start, stop, recordings):
    """Compute chunk ``k`` and write it into the store at ``path`` (in the
    worker that computed it), then mark it done."""
    matrices = _transform(transformer, recordings)
    group = _zarr().open_group(path, mode="r+")
    _check_shape(group, matrices.shape[1:], f"recordings {start}..{stop - 1}")
    group["hht"][start:stop] = matrices
    group["done"][k] = True
    return k


def _check_shape(group, shape, which):
    """Refuse matrices of another shape than the store's (C, F, T)."""
    held = tuple(group["hht"].shape[1:])
    if tuple(shape) != held:
        raise ValueError(
            f"build_hht_store: {which} give matrices of shape {tuple(shape)}; "
            f"the store holds {held} (a different number of channels?)."
        )


def _create_arrays(group, n_rows, shape, labels, groups, names, stream=False):
    """The arrays of a new store, for ``n_rows`` matrices of ``shape``
    ``(C, F, T)``; the side arrays are written now unless the input is a
    ``stream`` (written chunk by chunk). A resumed store keeps its arrays
    (its matrices must have that shape)."""
    if "hht" in group:
        _check_shape(group, shape, "the recordings")
        return
    chunk_size = int(group.attrs["chunk_size"])
    group.create_array(
        "hht",
        shape=(n_rows, *shape),
        chunks=(chunk_size, *shape),
        dtype="float32",
        fill_value=0.0,
        # most cells of an HHT matrix are empty: Zstandard level 1 wrote 125
        # 256x256 matrices faster than Zarr's default (level 3) and smaller
        # (7.4 against 6.9 times)
        compressors=_zarr().codecs.ZstdCodec(level=1),
    )
    group.create_array(
        "done",
        shape=(-(-n_rows // chunk_size),),
        chunks=(1,),
        dtype="bool",
        fill_value=False,
    )
    for name, values in (("labels", labels), ("groups", groups), ("names", names)):
        if values is not None or (name == "names" and stream):
            group.create_array(name, shape=(n_rows,), chunks=(chunk_size,), dtype=str)
            if values is not None and not stream:
                group[name][:] = values


def _write_chunk(group, k, start, stop, matrices, labels, groups, names):
    """Write chunk ``k`` (rows ``start:stop``) of a stream, growing the
    arrays, then mark it done."""
    n_chunks = -(-stop // int(group.attrs["chunk_size"]))
    if "hht" not in group:
        _create_arrays(
            group, stop, matrices.shape[1:], labels, groups, names, stream=True
        )
    if group["hht"].shape[0] < stop:  # a stream grows
        group["hht"].resize((stop, *group["hht"].shape[1:]))
        group["done"].resize((n_chunks,))
        for name in ("labels", "groups", "names"):
            if name in group:
                group[name].resize((stop,))
    for name, values in (("labels", labels), ("groups", groups)):
        if values is not None:
            group[name][start:stop] = values[start:stop]
    group["names"][start:stop] = (
        names[start:stop]
        if names is not None
        else [f"recording_{i}" for i in range(start, stop)]
    )
    _check_shape(group, matrices.shape[1:], f"recordings {start}..{stop - 1}")
    group["hht"][start:stop] = matrices
    group["done"][k] = True
    return group
