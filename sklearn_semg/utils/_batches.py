"""Arrays read batch by batch: on-disk (Zarr, HDF5) and Dask arrays.

The transformers that read HHT matrices accept such an array-like and read it
a slice of rows at a time, so the matrices of a study never have to fit in
memory; their output (features, predictions) is small and returned whole, in
the order of the rows.
"""

import ctypes
import functools

import numpy as np

__all__ = ["is_lazy_array", "predict_in_batches", "release_memory", "row_batches"]

#: Rows read at a time from an array without chunks of its own.
DEFAULT_ROWS = 256


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None without glibc."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_memory():
    """Hand the memory freed by earlier batches back to the system.

    glibc keeps freed blocks for reuse. Batches decoded in several threads
    (Zarr decompresses in a thread pool) leave freed blocks in several of its
    arenas, and the resident memory of a long read then grows with the
    number of batches although every batch was freed (measured: one epoch
    of training from a store grew with its size). ``malloc_trim(0)``
    returns those blocks, as Dask's workers do. A no-op without glibc
    (macOS, Windows, musl). Returns whether memory was trimmed.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def is_lazy_array(X):
    """True for an array-like read slice by slice (Zarr, Dask, HDF5, an
    :class:`~sklearn_semg.hht.HHTStore`'s ``X``): not a numpy array, list or
    DataFrame, but with a shape, a dtype and slicing."""
    return (
        not isinstance(X, np.ndarray)
        and hasattr(X, "shape")
        and hasattr(X, "dtype")
        and hasattr(X, "__getitem__")
        and not hasattr(X, "columns")
        and not hasattr(X, "tocsr")  # sparse matrices are refused elsewhere
        and len(getattr(X, "shape", ())) >= 2
    )


def chunk_rows(X):
    chunks = getattr(X, "chunks", None)
    if not chunks:
        return DEFAULT_ROWS
    first = chunks[0]
    if isinstance(first, tuple):  # Dask: the sizes of every chunk
        first = max(first) if first else DEFAULT_ROWS
    return max(int(first), 1)


def row_batches(X, rows=None):
    """Yield ``X[start:stop]`` as numpy arrays, ``rows`` rows at a time (by
    default the array's own chunk of rows, so each chunk is read once); the
    memory of the batches already used goes back to the system."""
    step = rows or chunk_rows(X)
    for start in range(0, int(X.shape[0]), step):
        if start:
            release_memory()
        batch = X[start : start + step]
        if hasattr(batch, "compute"):  # a Dask array
            batch = batch.compute()
        yield np.asarray(batch)


def predict_in_batches(estimator, X, *, method="predict", rows=None, **params):
    """``estimator.<method>`` over ``X``, one batch of rows at a time.

    For any fitted estimator or pipeline, including those that start from raw
    recordings (whose intermediate matrices would not fit in memory for the
    whole of ``X``): each batch goes through every step, and only the outputs
    are kept, in the order of the rows.

    Parameters
    ----------
    estimator : fitted estimator
        A classifier, pipeline or transformer.
    X : array-like, Zarr or Dask array
        Recordings or matrices, read ``rows`` at a time (by default the
        array's own chunk of rows, or 256).
    method : str, default="predict"
        The method to call: ``"predict"``, ``"predict_proba"``,
        ``"decision_function"``, ``"transform"``...
    rows : int or None, default=None
        Rows per batch.
    **params
        Passed to every call (e.g. ``groups`` with metadata routing: give
        them for the whole of ``X``; each batch gets its own rows).

    Returns
    -------
    output : ndarray
        The outputs of the batches, concatenated.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_semg.utils import predict_in_batches
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    >>> model = LogisticRegression().fit(X, y)
    >>> bool(np.all(predict_in_batches(model, X, rows=3) == model.predict(X)))
    True
    """
    call = getattr(estimator, method)
    n = int(X.shape[0]) if hasattr(X, "shape") else len(X)
    step = rows or chunk_rows(X)
    outputs = []
    for start in range(0, n, step):
        batch = X[start : start + step]
        if hasattr(batch, "compute"):
            batch = batch.compute()
        batch_params = {
            key: np.asarray(value)[start : start + step]
            for key, value in params.items()
        }
        outputs.append(np.asarray(call(batch, **batch_params)))
    return np.concatenate(outputs)
