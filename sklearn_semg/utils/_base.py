"""What every estimator that reads raw recordings shares."""

import warnings

import numpy as np
from sklearn import get_config
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import check_recordings

__all__ = [
    "SEMG_BAND",
    "ChannelOutputMixin",
    "RecordingsMixin",
    "channel_names",
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


def channel_names(input_features, n_channels, estimator_name):
    """The channel names that prefix output feature names.

    The columns of a recording are time samples, not features, so the
    ``input_features`` of the steps that read recordings, decompositions or
    HHT matrices name their channels: ``None`` gives ``ch0, ch1, ...``.
    """
    if input_features is None:
        return [f"ch{c}" for c in range(n_channels)]
    if isinstance(input_features, str):
        raise ValueError(
            f"{estimator_name}.get_feature_names_out: input_features must be a list "
            f"of {n_channels} channel name(s), one per channel; got the string "
            f"{input_features!r}."
        )
    names = [str(name) for name in input_features]
    if len(names) != n_channels:
        raise ValueError(
            f"{estimator_name}.get_feature_names_out: input_features should have "
            f"length equal to the number of channels seen at fit, n_channels_ = "
            f"{n_channels} (one name per channel: the columns of X are time "
            f"samples, not features); got {len(names)} name(s)."
        )
    return names


class ChannelOutputMixin:
    """Steps whose output keeps the channels but is not a feature table.

    Filtered recordings, decompositions and HHT matrices: their
    ``get_feature_names_out`` gives the channel names (what the next step's
    ``input_features`` means), and ``set_output`` is accepted and leaves the
    output an array, so that ``Pipeline.set_output`` configures the feature
    steps after them. Define the class with ``auto_wrap_output_keys=None``
    (scikit-learn would otherwise wrap its ``transform``).
    """

    def get_feature_names_out(self, input_features=None):
        """The channel names of the output.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names, one per channel; ``None`` names them
            ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per channel.
        """
        check_is_fitted(self)
        names = channel_names(input_features, self.n_channels_, type(self).__name__)
        return np.asarray(names, dtype=object)

    def set_output(self, *, transform=None):
        """Set the container of a table output; other outputs stay arrays.

        Recordings, decompositions and matrices are not feature tables and
        are returned as arrays whatever the setting; ``Pipeline.set_output``
        configures the steps after this one. An output that is a table (the
        flattened matrices of ``HHTTransformer(flatten=True)``) follows it.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            Container of a table output; ``None`` leaves the setting as it is.

        Returns
        -------
        self : estimator instance
        """
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}
        return self

    def _as_configured_table(self, table):
        """``table`` (2-D) in the container that ``set_output`` or
        ``sklearn.set_config(transform_output=...)`` asks for."""
        config = getattr(self, "_sklearn_output_config", {}).get("transform")
        if config in (None, "default"):
            config = get_config()["transform_output"]
        if config == "pandas":
            import pandas as pd

            return pd.DataFrame(table, columns=self.get_feature_names_out())
        if config == "polars":
            import polars as pl

            names = self.get_feature_names_out().tolist()
            return pl.DataFrame(table, schema=names, orient="row")
        return table


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
