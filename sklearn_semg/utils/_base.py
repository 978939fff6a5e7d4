"""What every estimator that reads raw recordings shares."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import check_recordings

__all__ = ["RecordingsMixin"]


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

    def _check_freq_range(self, default=None):
        """``freq_range`` as floats within ``[0, fs/2]`` (``default`` if None)."""
        nyquist = float(self.fs) / 2
        if self.freq_range is None:
            return default
        name = type(self).__name__
        try:
            f_min, f_max = (float(f) for f in self.freq_range)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The 'freq_range' parameter of {name} must be None or a pair "
                f"(f_min, f_max) in Hz; got {self.freq_range!r}."
            ) from exc
        if not 0 <= f_min < f_max <= nyquist:
            raise ValueError(
                f"The 'freq_range' parameter of {name} must satisfy "
                f"0 <= f_min < f_max <= fs/2 = {nyquist:g} Hz; got "
                f"{self.freq_range!r}. With fs={self.fs!r}, pass e.g. "
                f"freq_range=({min(20.0, nyquist / 10):g}, {0.9 * nyquist:g})."
            )
        return f_min, f_max

    def _channel_seeds(self, n_recordings, n_channels):
        """One EMD noise seed per recording and channel, drawn before any split
        of the work, so that the output is the same for any ``n_jobs``."""
        rng = check_random_state(self.random_state)
        return rng.randint(np.iinfo(np.int32).max, size=(n_recordings, n_channels))
