"""What every estimator that reads raw recordings shares."""

import numpy as np
from sklearn import get_config
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import check_recordings
from .validation import check_freq_range

__all__ = ["ChannelOutputMixin", "RecordingsMixin", "channel_names"]


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
        """``freq_range`` through :func:`~sklearn_semg.utils.validation.check_freq_range`
        against ``fs`` (``default`` if None)."""
        return check_freq_range(
            self.freq_range,
            self.fs,
            estimator_name=type(self).__name__,
            default=default,
            warn=warn,
        )

    def _channel_seeds(self, n_recordings, n_channels):
        """One EMD noise seed per recording and channel, drawn before any split
        of the work, so that the output is the same for any ``n_jobs``."""
        rng = check_random_state(self.random_state)
        return rng.randint(np.iinfo(np.int32).max, size=(n_recordings, n_channels))
