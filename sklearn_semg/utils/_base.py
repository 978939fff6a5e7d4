"""What every estimator that reads raw recordings shares."""

import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import check_recordings

__all__ = ["SEMG_BAND", "RecordingsMixin", "semg_band"]

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


class RecordingsMixin:
    """Validation of raw recordings, frequency ranges and per-channel seeds.

    For estimators with the parameters ``min_n_times`` (and, where used,
    ``fs``, ``freq_range`` and ``random_state``).
    """

    def _validate_recordings(self, X, *, reset):
        """``check_recordings``; at fit record ``n_channels_``, then enforce it."""
        name = type(self).__name__
        if reset:
            recordings = check_recordings(
                X, min_n_times=self.min_n_times, estimator_name=name
            )
            self.n_channels_ = recordings[0].shape[0]
            return recordings
        check_is_fitted(self)
        return check_recordings(
            X,
            min_n_times=self.min_n_times,
            n_channels=self.n_channels_,
            estimator_name=name,
        )

    def _check_freq_range(self, default=None, *, warn=True):
        """``freq_range`` as floats within ``[0, fs/2]`` (``default`` if None;
        ``"semg"``: :func:`semg_band` of ``fs``, which warns if ``warn`` and
        the band is lowered)."""
        nyquist = float(self.fs) / 2
        name = type(self).__name__
        if self.freq_range is None:
            return default
        if isinstance(self.freq_range, str):  # "semg", the only string allowed
            return semg_band(self.fs, owner=name, warn=warn)
        try:
            f_min, f_max = (float(f) for f in self.freq_range)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The 'freq_range' parameter of {name} must be None, 'semg' or a "
                f"pair (f_min, f_max) in Hz; got {self.freq_range!r}."
            ) from exc
        if not 0 <= f_min < f_max <= nyquist:
            f_low, f_high = SEMG_BAND
            hint = (
                f"freq_range=({f_low:g}, {min(f_high, 0.45 * float(self.fs)):g})"
                if f_low < 0.45 * float(self.fs)
                else "a band below fs/2"
            )
            raise ValueError(
                f"The 'freq_range' parameter of {name} must satisfy "
                f"0 <= f_min < f_max <= fs/2 = {nyquist:g} Hz; got "
                f"{self.freq_range!r}. With fs={self.fs!r}, pass freq_range='semg' "
                f"(the sEMG band, reduced to 0.45 * fs when needed), or {hint}."
            )
        return f_min, f_max

    def _channel_seeds(self, n_recordings, n_channels):
        """One EMD noise seed per recording and channel, drawn before any split
        of the work, so that the output is the same for any ``n_jobs``."""
        rng = check_random_state(self.random_state)
        return rng.randint(np.iinfo(np.int32).max, size=(n_recordings, n_channels))
