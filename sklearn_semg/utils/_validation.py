"""Validation of raw sEMG recordings.

Raw recordings arrive as a 2-D array ``(n_recordings, n_times)``, a 3-D array
``(n_recordings, n_channels, n_times)`` or a list of recordings of different
lengths, each ``(n_times,)`` or ``(n_channels, n_times)``.  Every estimator that
reads raw signals goes through :func:`check_recordings` so they all accept the
same inputs and fail with the same messages.
"""

import numbers

import numpy as np

__all__ = [
    "MIN_N_TIMES",
    "as_real_array",
    "check_label_types",
    "check_positive",
    "check_recordings",
    "first_non_finite",
    "n_recordings",
]

#: Shortest recording accepted, in samples.  Empirical mode decomposition
#: needs several local extrema to fit its cubic-spline envelopes, and the
#: instantaneous frequency needs at least two samples; 16 samples (16 ms at
#: 1 kHz) is far below any physiologically meaningful sEMG window but rejects
#: truncated or mis-shaped inputs such as a transposed array.
MIN_N_TIMES = 16


def as_real_array(x, dtype, *, what, expected):
    """``np.asarray(x)`` cast to the real ``dtype``, with errors naming ``what``.

    Parameters
    ----------
    x : array-like
        The data.
    dtype : numpy dtype
        Real floating dtype of the result.
    what : str
        How the error messages name the data, e.g. ``"X[3]"``.
    expected : str
        The expected form, for the error messages.

    Returns
    -------
    arr : ndarray of ``dtype``
        ``x`` itself when it already has that dtype.
    """
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(
            f"{what} is not a numeric array ({exc}); expected {expected}."
        ) from exc
    if np.iscomplexobj(arr):
        raise ValueError(
            f"Complex data not supported: {what} is complex; expected {expected} "
            "with real values."
        )
    try:
        return arr.astype(dtype, copy=False)
    except TypeError as exc:
        raise TypeError(
            f"{what} contains non-numeric values ({exc}); expected {expected} "
            "(float() argument must be a string or a number)."
        ) from exc
    except ValueError as exc:
        raise ValueError(
            f"{what} contains non-numeric values, so it is not a numeric array "
            f"({exc}); expected {expected}."
        ) from exc


def check_positive(value, name, *, optional=False):
    """``value`` as a float, or a ValueError naming ``name`` unless it is a
    positive real number (``None`` passes through when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}.")
    return float(value)


def first_non_finite(arr):
    """Index (one entry per axis) of the first NaN or infinite element of
    ``arr`` in C order, or None when every element is finite."""
    bad = ~np.isfinite(arr)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _as_float_recording(x, index, param_name):
    """Convert one recording to a 2-D float64 array ``(n_channels, n_times)``."""
    arr = as_real_array(
        x,
        np.float64,
        what=f"{param_name}[{index}]",
        expected="a recording of real numbers",
    )
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise ValueError(
            f"{param_name}[{index}] has {arr.ndim} dimensions (shape {arr.shape}); "
            "expected one recording as (n_times,) or (n_channels, n_times)."
        )
    return arr


def _is_sparse(X):
    return hasattr(X, "tocsr") or hasattr(X, "to_coo")


def n_recordings(X):
    """Number of recordings in ``X`` without converting it."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def check_recordings(
    X,
    *,
    min_n_times=MIN_N_TIMES,
    n_channels=None,
    param_name="X",
    estimator_name=None,
):
    """Validate raw recordings and return them as a list of 2-D float arrays.

    Parameters
    ----------
    X : array-like of shape (n_recordings, n_times) or \
            (n_recordings, n_channels, n_times), or list of array-like
        Raw recordings. A list may hold recordings of different lengths, each
        of shape ``(n_times,)`` or ``(n_channels, n_times)``.
    min_n_times : int, default=MIN_N_TIMES
        Shortest accepted recording, in samples.
    n_channels : int or None, default=None
        If given, every recording must have this many channels (the number
        seen at ``fit``).
    param_name : str, default="X"
        Name used in error messages.
    estimator_name : str or None, default=None
        Estimator name used in error messages.

    Returns
    -------
    recordings : list of ndarray of shape (n_channels, n_times_i)
        float64 recordings; all have the same number of channels.
    """
    who = f"{estimator_name}: " if estimator_name else ""
    if _is_sparse(X):
        raise TypeError(
            f"{who}{param_name} is a sparse matrix; sEMG recordings must be dense "
            "arrays (n_recordings, n_times) or (n_recordings, n_channels, n_times)."
        )
    if isinstance(X, (str, bytes)) or isinstance(X, numbers.Number):
        raise ValueError(
            f"{who}{param_name} must be an array of recordings "
            "(n_recordings, n_times) or (n_recordings, n_channels, n_times), or a "
            f"list of recordings; got {type(X).__name__} {X!r}."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas
        X = X.to_numpy()
    elif hasattr(X, "__array__") and not isinstance(X, (np.ndarray, list, tuple)):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 1:
            raise ValueError(
                f"{who}Expected 2D array (n_recordings, n_times) or 3D array "
                f"(n_recordings, n_channels, n_times) for {param_name}, got a 1D "
                f"array of shape {X.shape}. Reshape your data: a single recording "
                "must be wrapped, X.reshape(1, -1) or [X]."
            )
        if X.ndim not in (2, 3):
            raise ValueError(
                f"{who}Expected 2D array (n_recordings, n_times) or 3D array "
                f"(n_recordings, n_channels, n_times) for {param_name}, got an "
                f"array with {X.ndim} dimensions, shape {X.shape}."
            )
        if np.iscomplexobj(X):
            raise ValueError(
                f"{who}Complex data not supported: {param_name} has dtype {X.dtype}; "
                "expected real-valued samples."
            )
        if X.shape[0] and X.shape[-1] < min_n_times:
            raise ValueError(
                f"{who}Found array with {X.shape[-1]} feature(s) (shape={X.shape}) "
                f"while a minimum of {min_n_times} is required: every recording of "
                f"{param_name} has {X.shape[-1]} samples on the last (time) axis, "
                f"fewer than min_n_times={min_n_times}. If your array is "
                "(n_times, n_recordings), transpose it."
            )
        items = list(X)
    else:
        try:
            items = list(X)
        except TypeError as exc:
            raise ValueError(
                f"{who}{param_name} must be an array or a list of recordings; "
                f"got {type(X).__name__}."
            ) from exc
    if len(items) == 0:
        raise ValueError(
            f"{who}{param_name} is empty: found 0 recordings, while a minimum of "
            "1 is required."
        )

    recordings = []
    for i, item in enumerate(items):
        rec = _as_float_recording(item, i, param_name)
        if rec.shape[0] == 0:
            raise ValueError(
                f"{who}{param_name}[{i}] has 0 channels; expected at least one."
            )
        if rec.shape[1] < min_n_times:
            raise ValueError(
                f"{who}{param_name}[{i}] has {rec.shape[1]} samples; recordings "
                f"must have at least {min_n_times} samples (n_times >= "
                f"{min_n_times}). If your array is (n_times, n_recordings), "
                "transpose it."
            )
        bad = first_non_finite(rec)
        if bad is not None:
            kind = "NaN" if np.isnan(rec[bad]) else "infinite"
            raise ValueError(
                f"{who}{param_name}[{i}] contains {kind} values (first at channel "
                f"{bad[0]}, sample {bad[1]}); expected finite samples. Interpolate "
                "or drop the damaged segment before the transform."
            )
        if recordings and rec.shape[0] != recordings[0].shape[0]:
            raise ValueError(
                f"{who}{param_name}[{i}] has {rec.shape[0]} channels but "
                f"{param_name}[0] has {recordings[0].shape[0]}; all recordings "
                "must have the same number of channels."
            )
        recordings.append(rec)

    if n_channels is not None and recordings[0].shape[0] != n_channels:
        hint = ""
        shape = np.shape(X) if isinstance(X, np.ndarray) else None
        if shape is not None and len(shape) == 2 and shape[0] == n_channels:
            hint = (
                f" An array of shape {shape} is read as {shape[0]} one-channel "
                f"recordings; one recording of {n_channels} channels is "
                f"{param_name}[np.newaxis] (shape {(1, *shape)})."
            )
        raise ValueError(
            f"{who}{param_name} has {recordings[0].shape[0]} channel(s) per "
            f"recording, but the estimator was fitted with {n_channels} "
            f"channel(s); expected the same channels as at fit.{hint}"
        )
    return recordings


def check_label_types(y, estimator_name):
    """A ValueError naming the types when class labels mix them (say ``1`` and
    ``"a"``), which numpy cannot sort; ``y`` unchanged otherwise."""
    values = np.asarray(y, dtype=object).ravel()
    kinds = {
        "number" if isinstance(v, (numbers.Number, np.number)) else type(v).__name__
        for v in values
    }
    if len(kinds) > 1:
        raise ValueError(
            f"{estimator_name}: y mixes labels of types {sorted(kinds)}; expected "
            "class labels of one type (all strings, or all numbers)."
        )
    return y
