"""What the feature transformers of raw recordings share."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._base import RecordingsMixin, channel_names
from ..utils._validation import first_non_finite

__all__ = ["PerChannelFeatures"]


class PerChannelFeatures(RecordingsMixin, TransformerMixin, BaseEstimator):
    """Transformers of raw recordings into a fixed set of features per channel.

    Subclasses set ``n_channels_`` (through ``_validate_recordings``) and
    ``channel_feature_names_`` at ``fit``.
    """

    def _check_finite_output(self, out):
        """``out``, or a ValueError naming the first recording whose features
        overflowed (recordings of an absurd magnitude)."""
        bad = first_non_finite(out)
        if bad is not None:
            raise ValueError(
                f"{type(self).__name__}: the features of X[{bad[0]}] are not finite: "
                "its samples are too large in magnitude for float64 arithmetic "
                "(squares overflow above about 1e154); rescale the recordings, "
                "e.g. to millivolts."
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, ``"{channel}_{feature}"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names, one per channel (the columns of ``X`` are time
            samples, so they have no names of their own); ``None`` names the
            channels ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_channels_ * n_features_per_channel`` names, e.g. ``"ch0_mav"``
            or ``"ch0_hht_mdf"``.
        """
        check_is_fitted(self)
        channels = channel_names(input_features, self.n_channels_, type(self).__name__)
        return np.asarray(
            [f"{ch}_{name}" for ch in channels for name in self.channel_feature_names_],
            dtype=object,
        )
