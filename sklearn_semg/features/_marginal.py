"""MarginalSpectrum: the marginal Hilbert spectrum read off HHT matrices."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..hht._spectrum import compress
from ..utils._base import channel_names
from ..utils._batches import is_lazy_array, row_batches
from ..utils._sklearn import Hidden, Interval, StrOptions, _fit_context
from ..utils.validation import check_hht_matrices

__all__ = ["MarginalSpectrum"]


class MarginalSpectrum(TransformerMixin, BaseEstimator):
    """Marginal Hilbert spectrum of HHT matrices: energy per channel and band.

    Sums each matrix of :class:`~sklearn_semg.HHTTransformer` over time, which
    gives the amplitude carried by each frequency row (the marginal Hilbert
    spectrum), optionally groups the rows into ``n_bands`` bands, divides by a
    scale learned at ``fit`` (the median positive value over the training
    data, so the output does not depend on the units of the recordings) and
    compresses the result as :class:`~sklearn_semg.HHTTransformer` does
    (the logarithm by default). Where the CNN encoder with global pooling discards
    where the energy sits in frequency, this keeps exactly that, plus the
    absolute level and the ratio between channels.

    Parameters
    ----------
    n_bands : int or None, default=None
        Number of frequency bands (consecutive rows summed); ``None`` keeps one
        value per row.
    compression : {"log"}, float or None, default="log"
        Applied to ``x = m / scale_``, with the formula of
        :class:`~sklearn_semg.HHTTransformer`: ``"log"`` maps ``x`` to
        ``log(x + log_floor) - log(log_floor)`` (zeros stay zero); a float
        ``p`` in (0, 1] to ``x ** p``; ``None`` returns ``x``.
    log_floor : float, default=1e-3
        Floor of the ``"log"`` compression, relative to ``scale_``.
    log : bool

        .. deprecated:: 0.2
            Use ``compression="log"`` (``True``) or ``compression=None``
            (``False``); it will be removed in 0.3.
    floor : float

        .. deprecated:: 0.2
            Renamed ``log_floor``; it will be removed in 0.3. The ``"log"``
            compression now subtracts ``log(log_floor)`` so that zeros stay
            zero, as in ``HHTTransformer``: the output is shifted by that
            constant, which a following scaler removes.

    Attributes
    ----------
    scale_ : float
        Median positive band value of the training data.
    n_features_in_ : int
        ``C * F * T`` of the matrices seen at ``fit``.
    input_shape_ : tuple of int
        ``(C, F, T)`` seen at ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.features import MarginalSpectrum
    >>> M = np.random.default_rng(0).random((4, 2, 32, 16))
    >>> MarginalSpectrum(n_bands=8).fit_transform(M).shape
    (4, 16)
    """

    _parameter_constraints: dict = {
        "n_bands": [Interval(Integral, 1, None, closed="left"), None],
        "compression": [
            StrOptions({"log"}),
            Interval(Real, 0, 1, closed="right"),
            None,
        ],
        "log_floor": [Interval(Real, 0, None, closed="neither")],
        "log": ["boolean", Hidden(StrOptions({"deprecated"}))],
        "floor": [
            Interval(Real, 0, None, closed="neither"),
            Hidden(StrOptions({"deprecated"})),
        ],
    }

    def __init__(
        self,
        *,
        n_bands=None,
        compression="log",
        log_floor=1e-3,
        log="deprecated",
        floor="deprecated",
    ):
        self.n_bands = n_bands
        self.compression = compression
        self.log_floor = log_floor
        self.log = log
        self.floor = floor

    def _compression(self):
        """``(compression, log_floor)``, from the former ``log``/``floor``
        where they are given."""
        compression, log_floor = self.compression, self.log_floor
        for old, new in (("log", "compression"), ("floor", "log_floor")):
            if not isinstance(getattr(self, old), str):  # given: not "deprecated"
                warnings.warn(
                    f"MarginalSpectrum: the parameter {old!r} is deprecated in 0.2 "
                    f"and will be removed in 0.3; use {new!r} (see the docstring).",
                    FutureWarning,
                    stacklevel=3,
                )
        if not isinstance(self.log, str):
            compression = "log" if self.log else None
        if not isinstance(self.floor, str):
            log_floor = self.floor
        return compression, log_floor

    def _bands(self, M):
        marginal = M.sum(axis=-1)  # (n, C, F)
        if self.n_bands is not None:
            if self.n_bands > marginal.shape[-1]:
                raise ValueError(
                    f"n_bands={self.n_bands} exceeds the {marginal.shape[-1]} "
                    "frequency rows of the matrices; expected n_bands <= "
                    f"{marginal.shape[-1]}."
                )
            groups = np.array_split(np.arange(marginal.shape[-1]), self.n_bands)
            marginal = np.stack(
                [marginal[..., idx].sum(axis=-1) for idx in groups], axis=-1
            )
        return marginal.reshape(len(marginal), -1)

    def _check(self, X):
        return check_hht_matrices(
            X,
            estimator_name=type(self).__name__,
            dtype=(np.float64, np.float32),
            non_negative=True,
        )

    def _batches(self, X):
        """``X`` as checked (n, C, F, T) arrays: one, or one per chunk of rows
        of a Zarr or Dask array (never loaded whole)."""
        if is_lazy_array(X):
            return [self._check(batch) for batch in row_batches(X)] or [
                self._check(X[:0])
            ]
        return [self._check(X)]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the scale of the training spectra.

        Parameters
        ----------
        X : array-like of shape (n, F, T) or (n, C, F, T)
            HHT matrices; a Zarr or Dask array is read a chunk of rows at a
            time.
        y : None
            Ignored.

        Returns
        -------
        self : MarginalSpectrum
            Fitted transformer.
        """
        shape, parts = None, []
        for M in self._batches(X):
            shape = M.shape[1:]
            parts.append(self._bands(M))
        bands = np.concatenate(parts)
        self.input_shape_ = shape
        self.n_features_in_ = int(np.prod(shape))
        positive = bands[bands > 0]
        self.scale_ = float(np.median(positive)) if positive.size else 1.0
        return self

    def transform(self, X):
        """Marginal spectrum per channel and band.

        Parameters
        ----------
        X : array-like of shape (n, F, T) or (n, C, F, T)
            HHT matrices shaped as at ``fit``; a Zarr or Dask array is read a
            chunk of rows at a time.

        Returns
        -------
        spectrum : ndarray of shape (n, C * n_bands)
            Channel 0's bands first, lowest frequency first.
        """
        check_is_fitted(self)
        compression, log_floor = self._compression()
        out = []
        for M in self._batches(X):
            if M.shape[1:] != tuple(self.input_shape_):
                raise ValueError(
                    f"X has {int(np.prod(M.shape[1:]))} features, but "
                    f"{type(self).__name__} is expecting {self.n_features_in_} "
                    f"features as input (matrices {tuple(self.input_shape_)}, got "
                    f"{M.shape[1:]})."
                )
            out.append(compress(self._bands(M) / self.scale_, compression, log_floor))
        return np.concatenate(out)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, ``"{channel}_marginal{band}"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names of the matrices, one per channel (what
            :class:`~sklearn_semg.HHTTransformer` names its output); ``None``
            names them ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_channels * n_bands`` names in the order of the columns, band 0
            the lowest frequency.
        """
        check_is_fitted(self)
        shape = tuple(self.input_shape_)
        n_channels = shape[0] if len(shape) == 3 else 1
        n_bands = self.n_bands if self.n_bands is not None else shape[-2]
        channels = channel_names(input_features, n_channels, type(self).__name__)
        return np.asarray(
            [f"{ch}_marginal{b}" for ch in channels for b in range(n_bands)],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.positive_only = True
        return tags
