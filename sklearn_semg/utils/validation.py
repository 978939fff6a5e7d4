"""One validation entry point per kind of input.

- :func:`check_recordings`: raw sEMG recordings (2-D, 3-D or a list of
  recordings of different lengths);
- :func:`check_hht_matrices`: Hilbert-Huang matrices ``(n, F, T)`` or
  ``(n, C, F, T)``;
- :func:`check_freq_range`: a frequency band against a sampling rate.

Every estimator, loader and plot of the package validates its input through
these, so they accept the same forms and fail with the same messages: the
estimator or parameter, the expected form, and what was received, in
scikit-learn's wording where it has one.
"""

import warnings

import numpy as np

from ._validation import as_real_array, check_recordings, first_non_finite

__all__ = [
    "SEMG_BAND",
    "check_freq_range",
    "check_hht_matrices",
    "check_recordings",
    "semg_band",
]

#: The surface-EMG band in Hz, as ``freq_range="semg"`` means it: most of the
#: power of sEMG lies between 20 and 450 Hz.
SEMG_BAND = (20.0, 450.0)


def semg_band(fs, band=SEMG_BAND, *, owner="sklearn_semg", warn=True):
    """The sEMG band that a sampling rate can hold: its upper edge at most
    ``0.45 * fs`` (just below the Nyquist frequency).

    The one rule for every default band of the package. When the band has to
    be reduced, a ``UserWarning`` says so.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    band : tuple of (float, float), default=SEMG_BAND
        ``(f_min, f_max)`` in Hz.
    owner : str, default="sklearn_semg"
        Who asks, for the messages.
    warn : bool, default=True
        Warn when the band is lowered.

    Returns
    -------
    band : tuple of (float, float)
        ``(f_min, min(f_max, 0.45 * fs))``.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_semg.utils import semg_band
    >>> semg_band(2000)
    (20.0, 450.0)
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     print(semg_band(200), len(w))
    (20.0, 90.0) 1
    """
    f_min, f_max = (float(f) for f in band)
    top = 0.45 * float(fs)
    if f_max <= top:
        return f_min, f_max
    if f_min >= top:
        raise ValueError(
            f"{owner}: at fs={fs:g} Hz nothing of the band ({f_min:g}, {f_max:g}) Hz "
            f"lies below 0.45 * fs = {top:g} Hz; record at a higher sampling rate "
            "or give a lower band."
        )
    if not warn:
        return f_min, top
    warnings.warn(
        f"{owner}: fs={fs:g} Hz is too low for the band up to {f_max:g} Hz; using "
        f"({f_min:g}, {top:g}) Hz, whose upper edge is 0.45 * fs.",
        UserWarning,
        stacklevel=3,
    )
    return f_min, top


def _who(estimator_name):
    return f"{estimator_name}: " if estimator_name else ""


def check_hht_matrices(
    X,
    *,
    estimator_name=None,
    input_name="X",
    dtype=np.float32,
    n_channels=None,
    expected_shape=None,
    non_negative=False,
    max_magnitude=None,
):
    """Validate a batch of Hilbert-Huang matrices; return ``(n, C, F, T)``.

    Accepts ``(n, F, T)`` (one channel), ``(n, C, F, T)`` (what
    :class:`~sklearn_semg.HHTTransformer` returns) and ``(n, T)``, read as
    one-row matrices ``(n, 1, 1, T)`` (1-D spectra). Refuses sparse, complex,
    non-numeric, empty and non-finite input.

    Parameters
    ----------
    X : array-like
        The matrices (a DataFrame is read as its values).
    estimator_name : str or None, default=None
        Who validates, for the error messages.
    input_name : str, default="X"
        How the error messages name the input.
    dtype : numpy dtype or tuple of numpy dtypes, default=np.float32
        Real floating dtype of the result; a tuple keeps the input's dtype
        where it is one of them, else converts to the first.
    n_channels : int or None, default=None
        Required number of channels ``C``, e.g. 1 for a folder of ``.npz``
        matrices.
    expected_shape : tuple of int or None, default=None
        Required ``(C, F, T)``, the shape seen at ``fit``.
    non_negative : bool, default=False
        Refuse negative values (matrices hold summed amplitudes).
    max_magnitude : float or None, default=None
        Refuse values beyond this magnitude.

    Returns
    -------
    matrices : ndarray of shape (n, C, F, T) and dtype ``dtype``
        The input itself where it already had that form.

    Raises
    ------
    TypeError
        For a sparse matrix.
    ValueError
        For any other input of the wrong form, naming the input, the expected
        form and what was received.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.utils.validation import check_hht_matrices
    >>> check_hht_matrices(np.zeros((5, 64, 32))).shape
    (5, 1, 64, 32)
    >>> check_hht_matrices(np.zeros((5, 2, 64, 32)), n_channels=1)
    Traceback (most recent call last):
    ...
    ValueError: X has 2 channels (shape (5, 2, 64, 32)); expected 1 channel.
    """
    who = _who(estimator_name)
    expected = "HHT matrices (n, F, T) or (n, C, F, T)"
    if hasattr(X, "tocsr") or hasattr(X, "to_coo"):
        raise TypeError(
            f"{who}{input_name} is a sparse matrix; expected a dense array of "
            f"{expected}."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    if isinstance(dtype, (tuple, list)):
        given_dtype = getattr(X, "dtype", None)
        dtype = given_dtype if given_dtype in dtype else dtype[0]
    arr = as_real_array(X, dtype, what=f"{who}{input_name}", expected=expected)
    given = arr.shape
    if arr.ndim == 2:
        arr = arr[:, np.newaxis, np.newaxis, :]
    elif arr.ndim == 3:
        arr = arr[:, np.newaxis]
    elif arr.ndim != 4:
        raise ValueError(
            f"{who}Expected {expected} as a 3D or 4D array, got a {arr.ndim}D array "
            f"of shape {given} for {input_name}."
            + (
                " Reshape your data: a single matrix must be wrapped, "
                f"{input_name}[np.newaxis]."
                if arr.ndim == 1
                else ""
            )
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{who}Found array with 0 sample(s) (shape={given}) while a minimum of "
            "1 is required."
        )
    if 0 in arr.shape[1:]:
        raise ValueError(
            f"{who}Found array with 0 feature(s) (shape={given}) while a minimum "
            "of 1 is required."
        )
    bad = first_non_finite(arr)
    if bad is not None:
        raise ValueError(
            f"{who}Input {input_name} contains NaN or infinity (first in matrix "
            f"{bad[0]}; values beyond the {np.dtype(dtype).name} range become "
            "infinite); expected finite values."
        )
    if non_negative and np.any(arr < 0):
        raise ValueError(
            f"Negative values in data passed to {estimator_name or input_name} "
            f"({input_name}): HHT matrices hold summed amplitudes, expected "
            "values >= 0 (do not use them after a StandardScaler)."
        )
    if max_magnitude is not None and arr.size:
        peak = float(np.abs(arr).max())
        if peak > max_magnitude:
            raise ValueError(
                f"{who}{input_name} holds values up to {peak:.3g}, beyond "
                f"|x| <= {max_magnitude:g} (float32 arithmetic that squares them "
                "would overflow); rescale the matrices, e.g. "
                "HHTTransformer(normalize='max') or 'global'."
            )
    if n_channels is not None and arr.shape[1] != n_channels:
        plural = "" if n_channels == 1 else "s"
        raise ValueError(
            f"{who}{input_name} has {arr.shape[1]} channels (shape {given}); "
            f"expected {n_channels} channel{plural}."
        )
    if expected_shape is not None and arr.shape[1:] != tuple(expected_shape):
        raise ValueError(
            f"{who}{input_name} has matrices of shape {arr.shape[1:]} (C, F, T), "
            f"but the estimator was fitted on {tuple(expected_shape)}; "
            f"{input_name} has {int(np.prod(arr.shape[1:]))} features, but "
            f"{estimator_name or 'the estimator'} is expecting "
            f"{int(np.prod(expected_shape))} features as input."
        )
    return arr


def check_freq_range(
    freq_range,
    fs,
    *,
    estimator_name=None,
    param_name="freq_range",
    default=None,
    warn=True,
):
    """A frequency band ``(f_min, f_max)`` in Hz, checked against ``fs``.

    Parameters
    ----------
    freq_range : None, "semg" or pair of float
        ``None`` gives ``default``; ``"semg"`` gives the sEMG band 20-450 Hz,
        its upper edge lowered to ``0.45 * fs`` where ``fs`` cannot hold it
        (with a ``UserWarning`` if ``warn``); a pair must satisfy
        ``0 <= f_min < f_max <= fs / 2``.
    fs : float or None
        Sampling rate in Hz; ``None`` checks only ``0 <= f_min < f_max``
        (``"semg"`` then needs ``fs``).
    estimator_name : str or None, default=None
        Who validates, for the messages.
    param_name : str, default="freq_range"
        How the messages name the parameter.
    default : tuple of float or None, default=None
        What ``None`` means.
    warn : bool, default=True
        Warn when ``"semg"`` is lowered to fit ``fs``.

    Returns
    -------
    band : tuple of (float, float) or ``default``

    Raises
    ------
    ValueError
        For a band of the wrong form, or one that ``fs`` cannot hold; the
        message suggests a band that fits.

    Examples
    --------
    >>> from sklearn_semg.utils.validation import check_freq_range
    >>> check_freq_range("semg", 1000.0)
    (20.0, 450.0)
    >>> check_freq_range((20, 600), 1000.0, estimator_name="HHTTransformer")
    Traceback (most recent call last):
    ...
    ValueError: The 'freq_range' parameter of HHTTransformer must satisfy 0 <= f_min < f_max <= fs/2 = 500 Hz; got (20, 600). With fs=1000.0, pass freq_range='semg' (the sEMG band, reduced to 0.45 * fs when needed), or freq_range=(20, 450).
    """
    of = f" of {estimator_name}" if estimator_name else ""
    if freq_range is None:
        return default
    if isinstance(freq_range, str):
        if freq_range != "semg" or fs is None:
            raise ValueError(
                f"The {param_name!r} parameter{of} must be None, 'semg' (which "
                f"needs the sampling rate) or a pair (f_min, f_max) in Hz; got "
                f"{freq_range!r}."
            )
        return semg_band(fs, owner=estimator_name or "sklearn_semg", warn=warn)
    try:
        f_min, f_max = (float(f) for f in freq_range)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The {param_name!r} parameter{of} must be None, 'semg' or a pair "
            f"(f_min, f_max) in Hz; got {freq_range!r}."
        ) from exc
    if fs is None:
        if not 0 <= f_min < f_max:
            raise ValueError(
                f"The {param_name!r} parameter{of} must satisfy 0 <= f_min < "
                f"f_max; got {freq_range!r}."
            )
        return f_min, f_max
    nyquist = float(fs) / 2
    if not 0 <= f_min < f_max <= nyquist:
        f_low, f_high = SEMG_BAND
        top = 0.45 * float(fs)
        hint = (
            f"{param_name}=({f_low:g}, {min(f_high, top):g})"
            if f_low < top
            else "a band below fs/2"
        )
        raise ValueError(
            f"The {param_name!r} parameter{of} must satisfy 0 <= f_min < f_max <= "
            f"fs/2 = {nyquist:g} Hz; got {freq_range!r}. With fs={fs!r}, pass "
            f"{param_name}='semg' (the sEMG band, reduced to 0.45 * fs when "
            f"needed), or {hint}."
        )
    return f_min, f_max
