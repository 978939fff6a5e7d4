"""SubjectStandardScaler: per-subject calibration of features, without labels."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._sklearn import Interval, StrOptions, _fit_context, _is_constant_feature

__all__ = ["SubjectStandardScaler"]

_ROUTING_HINT = (
    "pass the subject (or session) of every row as groups: with "
    "sklearn.set_config(enable_metadata_routing=True), pipe.fit(X, y, "
    "groups=g), pipe.predict(X, groups=g), cross_validate(pipe, X, y, "
    "params={'groups': g}); or set missing_groups='pool' to standardise over "
    "all rows instead"
)


def _check_groups(groups, n_samples, estimator_name):
    """``groups`` as integer codes, one per row; missing subjects are errors."""
    import pandas as pd

    array = np.asarray(groups, dtype=object)
    if array.ndim != 1 or len(array) != n_samples:
        raise ValueError(
            f"{estimator_name}: groups must have one entry per row of X "
            f"({n_samples}); got an array of shape {np.shape(groups)}."
        )
    codes, labels = pd.factorize(array, use_na_sentinel=True)
    if np.any(codes < 0):
        rows = np.flatnonzero(codes < 0)
        raise ValueError(
            f"{estimator_name}: groups has no subject for {len(rows)} row(s) "
            f"(None or NaN), the first at row {rows[0]}; every row needs its "
            "subject."
        )
    return codes, labels


def _statistics(values, with_mean, with_std):
    """Mean and scale of every column, accumulated in float64; a column that
    is constant up to rounding gets scale 1 (as StandardScaler decides it)."""

    values = values.astype(np.float64, copy=False)
    n = len(values)
    mean = values.mean(axis=0)
    var = values.var(axis=0)
    scale = np.sqrt(var)
    scale[_is_constant_feature(var, mean, n)] = 1.0
    if not with_mean:
        mean = np.zeros_like(mean)
    if not with_std:
        scale = np.ones_like(scale)
    return mean, scale


class SubjectStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise every feature within each subject (or session), without labels.

    Recordings of one person share an amplitude, a spectrum and a skin, and
    that variation between subjects often outweighs the one between the
    classes. This step removes it the way a user calibrates a system for a
    new subject: it takes the mean and the standard deviation of every
    feature over that subject's own windows (no labels), and standardises
    them. At ``fit`` the statistics of each training subject come from its
    training windows; at ``transform`` those of each subject in ``X`` come
    from the windows of ``X`` that belong to it, so a new subject is
    calibrated on its own unlabelled windows, and nothing learned on one
    subject is applied to another.

    ``groups`` (one subject or session label per row) reaches the step
    through scikit-learn's metadata routing: after
    ``sklearn.set_config(enable_metadata_routing=True)``, pass
    ``groups=...`` to ``fit``, ``predict``, ``score`` of the pipeline, or
    ``params={"groups": g}`` to :func:`~sklearn.model_selection.cross_validate`;
    the step requests it for ``fit`` and ``transform`` by default. Scoring
    works through the estimator's own ``score`` (the default of
    :func:`~sklearn.model_selection.cross_validate` and
    :class:`~sklearn.model_selection.GridSearchCV`); named scorers
    (``scoring="accuracy"``) and :func:`~sklearn.model_selection.cross_val_predict`
    call ``predict`` without metadata, so a scaler fitted with subjects then
    raises rather than scoring with the wrong statistics.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract each subject's mean.
    with_std : bool, default=True
        Divide by each subject's standard deviation (a constant feature is
        left at scale 1).
    reference : int or None, default=None
        Take each subject's statistics from its first ``reference`` windows
        (in the order of ``X``) instead of all of them: for instance a rested
        baseline recorded at the start of a fatigue session. ``None``: all of
        the subject's windows.
    min_windows : int, default=2
        Fewest windows a subject's statistics may come from; a subject with
        fewer is an error that names it.
    missing_groups : {"raise", "pool"}, default="raise"
        Without ``groups``: raise an error that says how to pass them, or
        standardise with the mean and standard deviation of all training
        rows (``mean_``, ``scale_``), as :class:`~sklearn.preprocessing.StandardScaler`
        does.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen at ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen at ``fit``, if they had names.
    mean_ : ndarray of shape (n_features,)
        Mean of every feature over all training rows (used without groups
        when ``missing_groups="pool"``).
    scale_ : ndarray of shape (n_features,)
        Standard deviation of every feature over all training rows (1 for a
        constant feature).
    n_groups_fit_ : int
        Number of subjects seen at ``fit`` (0 without groups).

    Notes
    -----
    The assumption, plainly: every subject to classify contributes a
    calibration set of its own windows, recorded in the same conditions, and
    those windows cover the states to tell apart in about the same
    proportions as the training subjects' windows did. If a new subject is
    recorded in one state only (all fatigued, say), standardising within that
    subject removes exactly the difference to detect. With ``reference``, the
    calibration windows are a fixed part of the session (a rested start) and
    the states need not be balanced, but that part must exist for every
    subject. Subject-wise cross-validation (``GroupKFold`` on subjects) is
    the honest way to measure either.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg.features import SubjectStandardScaler
    >>> X = np.array([[1.0, 10], [3, 30], [100, 1], [102, 3]])
    >>> groups = ["anna", "anna", "ben", "ben"]
    >>> SubjectStandardScaler().fit_transform(X, groups=groups)
    array([[-1., -1.],
           [ 1.,  1.],
           [-1., -1.],
           [ 1.,  1.]])
    """

    __metadata_request__fit = {"groups": True}
    __metadata_request__transform = {"groups": True}

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "reference": [Interval(Integral, 1, None, closed="left"), None],
        "min_windows": [Interval(Integral, 1, None, closed="left")],
        "missing_groups": [StrOptions({"raise", "pool"})],
    }

    def __init__(
        self,
        *,
        with_mean=True,
        with_std=True,
        reference=None,
        min_windows=2,
        missing_groups="raise",
    ):
        self.with_mean = with_mean
        self.with_std = with_std
        self.reference = reference
        self.min_windows = min_windows
        self.missing_groups = missing_groups

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Check the data and the subjects; learn the pooled statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, one row per window.
        y : None
            Ignored (no labels are used).
        groups : array-like of shape (n_samples,) or None, default=None
            Subject (or session) of every row.

        Returns
        -------
        self : SubjectStandardScaler
            Fitted scaler.
        """
        self._fit(X, groups)
        return self

    def _fit(self, X, groups):
        """Validate and learn; return ``X`` and its subjects' statistics."""
        X = validate_data(self, X, reset=True, dtype=[np.float64, np.float32])
        self.mean_, self.scale_ = _statistics(X, self.with_mean, self.with_std)
        if groups is None:
            self._missing(stage="fit")
            self.n_groups_fit_ = 0
            return X, None
        statistics = self._group_statistics(X, groups)
        self.n_groups_fit_ = len(statistics)
        return X, statistics

    def transform(self, X, groups=None):
        """Standardise every subject's rows with that subject's statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, one row per window.
        groups : array-like of shape (n_samples,) or None, default=None
            Subject (or session) of every row; each subject's statistics come
            from its rows here.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
            float64 (float32 input stays float32).
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], copy=True
        )
        if groups is None:
            if self.n_groups_fit_:
                raise ValueError(
                    f"{type(self).__name__}.transform got no groups, but fit had "
                    f"{self.n_groups_fit_} subjects: pooled statistics would "
                    "silently replace the per-subject ones. Pass groups to "
                    "predict and score (named scorers and cross_val_predict "
                    "cannot: use the estimator's default score, or predict with "
                    "groups=...)."
                )
            self._missing(stage="transform")
            return self._standardise(X, None)
        return self._standardise(X, self._group_statistics(X, groups))

    def _standardise(self, X, statistics):
        """``X`` (overwritten) standardised per subject, or with the pooled
        statistics when ``statistics`` is None."""
        if statistics is None:
            return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)
        for rows, mean, scale in statistics:
            X[rows] = (X[rows] - mean) / scale
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, groups=None):
        """Fit, then standardise ``X`` with its subjects' statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, one row per window.
        y : None
            Ignored (no labels are used).
        groups : array-like of shape (n_samples,) or None, default=None
            Subject (or session) of every row.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
        """
        X, statistics = self._fit(X, groups)  # the statistics, computed once
        return self._standardise(X.copy(), statistics)

    def _missing(self, stage):
        if self.missing_groups == "raise":
            raise ValueError(
                f"{type(self).__name__}.{stage} needs groups, the subject of every "
                f"row, and got none; {_ROUTING_HINT}."
            )

    def _group_statistics(self, X, groups):
        """``[(rows, mean, scale)]`` of every subject, from its reference rows."""
        codes, labels = _check_groups(groups, len(X), type(self).__name__)
        out = []
        for k, label in enumerate(labels):
            rows = np.flatnonzero(codes == k)
            reference = rows if self.reference is None else rows[: self.reference]
            if len(reference) < self.min_windows:
                label = label.item() if hasattr(label, "item") else label
                raise ValueError(
                    f"{type(self).__name__}: subject {label!r} has "
                    f"{len(reference)} calibration window(s); at least "
                    f"min_windows={self.min_windows} are needed to estimate its "
                    "statistics. Give every subject more windows, or lower "
                    "min_windows."
                )
            mean, scale = _statistics(X[reference], self.with_mean, self.with_std)
            out.append((rows, mean.astype(X.dtype), scale.astype(X.dtype)))
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
