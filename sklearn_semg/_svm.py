"""CalibratedSVC: an SVC with calibrated probabilities, without SVC(probability)."""

from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .utils._sklearn import Interval, StrOptions
from .utils._validation import check_label_types

__all__ = ["CalibratedSVC"]


class CalibratedSVC(SVC):
    """Support vector classifier whose ``predict_proba`` is calibrated.

    scikit-learn 1.9 deprecates ``SVC(probability=True)`` in favour of
    ``CalibratedClassifierCV(SVC(), ensemble=False)``. This class is that
    recommendation packaged as an ``SVC``: ``fit``, ``predict`` and
    ``decision_function`` are the plain SVC's (so predictions equal
    ``SVC(...).predict``), and ``predict_proba`` comes from a
    ``CalibratedClassifierCV(..., ensemble=False)`` fitted beside it on
    cross-validated decision values. It keeps the SVC parameter names, so a
    pipeline step ``"clf"`` is searched as ``clf__C``, ``clf__gamma``.

    Parameters
    ----------
    C, kernel, degree, gamma, coef0, shrinking, tol, cache_size, class_weight, \
verbose, max_iter, decision_function_shape, break_ties, random_state
        As in :class:`sklearn.svm.SVC`.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Platt scaling (``"sigmoid"``, what ``SVC(probability=True)`` did) or
        isotonic regression.
    calibration_cv : int, default=5
        Folds of the calibration cross-validation; reduced to the size of the
        smallest class when that is smaller (at least 2 per class needed).

    Attributes
    ----------
    calibrator_ : CalibratedClassifierCV
        The fitted calibrator behind ``predict_proba``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_semg import CalibratedSVC
    >>> X, y = make_classification(60, random_state=0)
    >>> clf = CalibratedSVC(C=10, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in SVC._parameter_constraints.items() if k != "probability"},
        "calibration": [StrOptions({"sigmoid", "isotonic"})],
        "calibration_cv": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        C=1.0,
        kernel="rbf",
        degree=3,
        gamma="scale",
        coef0=0.0,
        shrinking=True,
        tol=1e-3,
        cache_size=200,
        class_weight=None,
        verbose=False,
        max_iter=-1,
        decision_function_shape="ovr",
        break_ties=False,
        random_state=None,
        calibration="sigmoid",
        calibration_cv=5,
    ):
        super().__init__(
            C=C,
            kernel=kernel,
            degree=degree,
            gamma=gamma,
            coef0=coef0,
            shrinking=shrinking,
            tol=tol,
            cache_size=cache_size,
            class_weight=class_weight,
            verbose=verbose,
            max_iter=max_iter,
            decision_function_shape=decision_function_shape,
            break_ties=break_ties,
            random_state=random_state,
        )
        self.calibration = calibration
        self.calibration_cv = calibration_cv

    def fit(self, X, y, sample_weight=None):
        """Fit the SVC, then its probability calibrator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training vectors.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : CalibratedSVC
            Fitted estimator.
        """
        check_label_types(y, type(self).__name__)
        super().fit(X, y, sample_weight=sample_weight)
        y = column_or_1d(y)  # SVC.fit already warned about a column vector
        _, counts = np.unique(y, return_counts=True)
        n_folds = min(self.calibration_cv, int(counts.min()))
        if n_folds < 2:
            raise ValueError(
                "CalibratedSVC needs at least 2 samples of every class to calibrate "
                f"its probabilities; the smallest class of y has {counts.min()}."
            )
        plain = SVC(
            **{
                k: v
                for k, v in self.get_params().items()
                if k not in ("calibration", "calibration_cv")
            }
        )
        self.calibrator_ = CalibratedClassifierCV(
            clone(plain), method=self.calibration, cv=n_folds, ensemble=False
        ).fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X):
        """Calibrated class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input vectors.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "calibrator_")
        return self.calibrator_.predict_proba(X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))
