"""Hilbert spectrum of a set of intrinsic mode functions, binned on a grid."""

import numpy as np
from scipy.signal import hilbert

__all__ = ["compress", "hilbert_spectrum", "instantaneous_amplitude_frequency"]

#: Samples (IMF rows x time) put through the Hilbert transform at once.
_CHUNK_SAMPLES = 2**20


def instantaneous_amplitude_frequency(imfs, fs):
    """Instantaneous amplitude and frequency of each IMF (Hilbert transform).

    Parameters
    ----------
    imfs : ndarray of shape (n_imfs, n_times)
        Intrinsic mode functions (the residue included, as PyEMD returns it).
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    amplitude : ndarray of shape (n_imfs, n_times)
        ``abs(hilbert(imf))``.
    frequency : ndarray of shape (n_imfs, n_times)
        ``diff(unwrap(angle(hilbert(imf)))) / (2 pi) * fs`` with the last value
        repeated once, clipped to ``[0, fs / 2]``.
    """
    analytic = hilbert(imfs, axis=-1)
    amplitude = np.abs(analytic)
    phase = np.unwrap(np.angle(analytic), axis=-1)
    frequency = np.diff(phase, axis=-1) / (2 * np.pi) * fs
    frequency = np.concatenate([frequency, frequency[:, -1:]], axis=-1)
    np.clip(frequency, 0, fs / 2, out=frequency)
    return amplitude, frequency


def hilbert_spectrum(
    imfs, fs, n_freq_bins, n_time_bins, freq_range=None, *, instantaneous=None
):
    """Accumulate IMF amplitudes on a (frequency, time) grid.

    With ``freq_range=None`` this is the reference algorithm: sample ``i`` of
    every IMF adds its instantaneous amplitude to the cell
    ``[int(f_i / (fs/2) * (n_freq_bins-1)), int(t_i / t[-1] * (n_time_bins-1))]``
    with ``t = arange(n_times) / fs``. The per-sample loop of the reference is
    replaced by one :func:`numpy.bincount` over flat cell indices, which adds
    the same amplitudes in the same order.

    Parameters
    ----------
    imfs : ndarray of shape (n_imfs, n_times)
        Intrinsic mode functions, float64.
    fs : float
        Sampling rate in Hz.
    n_freq_bins, n_time_bins : int
        Grid size; row 0 is the lowest frequency, column 0 the first sample.
    freq_range : tuple of (float, float) or None, default=None
        ``(f_min, f_max)`` in Hz mapped onto the rows. Samples whose
        instantaneous frequency falls outside it are dropped (not piled up in
        the edge rows). ``None`` maps ``[0, fs/2]`` as the reference does.
    instantaneous : tuple of two ndarray or None, default=None
        ``instantaneous_amplitude_frequency(imfs, fs)``, if already computed.

    Returns
    -------
    spectrum : ndarray of shape (n_freq_bins, n_time_bins)
        float64 amplitude sums, not normalised.
    """
    n_cells = n_freq_bins * n_time_bins
    if imfs.shape[0] == 0:
        return np.zeros((n_freq_bins, n_time_bins))
    n_imfs, n_times = imfs.shape
    t = np.arange(n_times) / fs
    t_idx = (t / t[-1] * (n_time_bins - 1)).astype(np.intp)
    np.clip(t_idx, 0, n_time_bins - 1, out=t_idx)

    # A long recording's IMFs go through the Hilbert transform a few rows at
    # a time, so that memory stays a few arrays of its length; a short one's
    # all at once (one bincount, as the reference adds them).
    rows = max(1, _CHUNK_SAMPLES // n_times)
    spectrum = None
    for start in range(0, n_imfs, rows):
        if instantaneous is None:
            amplitude, frequency = instantaneous_amplitude_frequency(
                imfs[start : start + rows], fs
            )
        else:
            amplitude = instantaneous[0][start : start + rows]
            frequency = instantaneous[1][start : start + rows]
        if freq_range is None:
            f_idx = (frequency / (fs / 2) * (n_freq_bins - 1)).astype(np.intp)
            np.clip(f_idx, 0, n_freq_bins - 1, out=f_idx)
            flat = f_idx * n_time_bins + t_idx
        else:
            f_min, f_max = freq_range
            keep = (frequency >= f_min) & (frequency <= f_max)
            f_idx = ((frequency - f_min) / (f_max - f_min) * (n_freq_bins - 1)).astype(
                np.intp
            )
            np.clip(f_idx, 0, n_freq_bins - 1, out=f_idx)
            flat = f_idx * n_time_bins + t_idx
            flat, amplitude = flat[keep], amplitude[keep]
        part = np.bincount(flat.ravel(), weights=amplitude.ravel(), minlength=n_cells)
        spectrum = part if spectrum is None else spectrum + part
    return spectrum.reshape(n_freq_bins, n_time_bins)


def compress(values, compression, log_floor=1e-3):
    """The amplitude compression of HHT matrices and marginal spectra.

    One spelling and formula for :class:`~sklearn_semg.HHTTransformer`,
    :class:`~sklearn_semg.MarginalSpectrum` and the colour scale of
    :func:`~sklearn_semg.plotting.plot_hht`:

    - ``"log"``: ``log(x + log_floor) - log(log_floor)``, zeros stay zero;
    - a float ``p`` in (0, 1]: ``x ** p``;
    - ``None``: ``x`` unchanged.

    ``values`` are non-negative amplitudes on a scale where 1 is large (after
    the normalisation), so ``log_floor`` is relative to it. The dtype of
    ``values`` is kept.
    """
    if compression is None:
        return values
    kind = values.dtype.type
    if compression == "log":
        floor = kind(log_floor)
        return np.log(values + floor) - np.log(floor)
    return np.power(values, kind(compression))
