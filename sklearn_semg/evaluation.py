"""Cross-validated accuracy of a classifier, fold by fold and out of fold.

The evaluation behind ``sklearn-semg demo``, ``sklearn-semg train`` and
``bench/bench_accuracy.py``, as small functions around
:func:`sklearn.model_selection.cross_validate`:

- :func:`cross_validate_accuracy`: accuracy and balanced accuracy of every
  fold, the fitted estimator and the test rows of every fold; folds on the
  subjects (``groups``) by default, and the subjects routed to per-subject
  calibration (:class:`~sklearn_semg.SubjectStandardScaler`) at fit and
  predict;
- :func:`out_of_fold_predict`: every row predicted by the estimator of the
  fold that left it out, for confusion matrices;
- :func:`accuracy_summary`: accuracy and balanced accuracy of those
  predictions over all rows, chance level and mean fit time;
- :func:`evaluate_pipeline`: the three in a row.

Pipelines evaluated with the same ``cv`` and ``groups`` (an unshuffled
splitter such as :class:`~sklearn.model_selection.GroupKFold`, a shuffled one
with an integer ``random_state``, or a list of ``(train, test)`` index pairs)
are compared on the same folds.
"""

import warnings
from numbers import Integral

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.parallel import Parallel, delayed

__all__ = [
    "accuracy_summary",
    "cross_validate_accuracy",
    "evaluate_pipeline",
    "out_of_fold_predict",
]


def _take(X, indices):
    """Rows ``indices`` of an array, or items of a list of recordings."""
    if isinstance(X, (list, tuple)):
        return [X[i] for i in indices]
    return X[indices]


def _predict(estimator, X, groups=None):
    """``estimator.predict(X)``, with ``groups`` routed to it when given.

    A search (``GridSearchCV``...) takes no metadata at ``predict``: its
    refitted ``best_estimator_``, which makes its predictions, gets them.
    """
    if groups is None:
        return estimator.predict(X)
    estimator = getattr(estimator, "best_estimator_", estimator)
    with sklearn.config_context(enable_metadata_routing=True):
        return estimator.predict(X, groups=groups)


class _AccuracyScorer:
    """Scorer of one fold: accuracy and balanced accuracy from one ``predict``.

    With ``route_groups``, it requests the test rows' ``groups`` and passes
    them to ``predict`` (a per-subject pipeline calibrates every test subject
    on its own rows); scikit-learn's named scorers call ``predict`` without
    metadata.
    """

    def __init__(self, route_groups=False):
        self.route_groups = route_groups

    def __call__(self, estimator, X, y, groups=None):
        y_pred = _predict(estimator, X, groups)
        with warnings.catch_warnings():
            # a test fold may lack a class the model predicts: the score is
            # still defined, and the summary over all rows has every class
            warnings.filterwarnings(
                "ignore", message="y_pred contains classes not in y_true"
            )
            return {
                "accuracy": float(accuracy_score(y, y_pred)),
                "balanced_accuracy": float(balanced_accuracy_score(y, y_pred)),
            }

    def get_metadata_routing(self):
        request = MetadataRequest(owner=type(self).__name__)
        if self.route_groups:
            request.score.add_request(param="groups", alias=True)
        return request


def cross_validate_accuracy(
    estimator, X, y, *, groups=None, cv=5, per_subject=False, n_jobs=None
):
    """Accuracy and balanced accuracy of every fold, with its fitted estimator.

    :func:`~sklearn.model_selection.cross_validate` with
    ``return_estimator=True``, ``return_indices=True`` and
    ``error_score="raise"`` (a fold that fails is an error, not a NaN score),
    scored by one ``predict`` per test fold.

    Parameters
    ----------
    estimator : estimator object
        A classifier (a pipeline, a search...); cloned for every fold.
    X : array-like or list of ndarray
        The samples: an array, or a list of recordings of different lengths.
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,) or None, default=None
        Subject (or recording, session) of every sample: the folds keep each
        group together (an integer ``cv`` is a
        :class:`~sklearn.model_selection.GroupKFold`, and a splitter gets
        them); with ``per_subject``, they are also the subjects of the
        per-subject calibration.
    cv : int, cross-validation generator or iterable, default=5
        An int: ``GroupKFold(cv)`` with ``groups``, otherwise scikit-learn's
        default for classifiers, ``StratifiedKFold(cv)``. A splitter, or an
        iterable of ``(train, test)`` index arrays, as in ``cross_validate``.
    per_subject : bool, default=False
        Route ``groups`` through metadata routing to the estimator's ``fit``
        (the training subjects) and ``predict`` (the test subjects), for a
        pipeline with a :class:`~sklearn_semg.SubjectStandardScaler`
        (``per_subject=True`` of the ``make_*_pipeline`` factories).
        Routing is enabled for this call only.
    n_jobs : int or None, default=None
        Folds fitted in parallel (``cross_validate``'s ``n_jobs``).

    Returns
    -------
    cv_results : dict
        The dict of ``cross_validate``: ``fit_time``, ``score_time``,
        ``test_accuracy`` and ``test_balanced_accuracy`` (ndarray of shape
        ``(n_folds,)``), ``estimator`` (the fitted estimator of every fold)
        and ``indices`` (``{"train": [...], "test": [...]}``, index arrays of
        every fold).

    Raises
    ------
    ValueError
        If ``per_subject`` is True and ``groups`` is None.

    See Also
    --------
    evaluate_pipeline : This, the out-of-fold predictions and their summary.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from sklearn_semg import EMGFeatures
    >>> from sklearn_semg.datasets import load_movements
    >>> from sklearn_semg.evaluation import cross_validate_accuracy
    >>> data = load_movements()
    >>> keep = np.flatnonzero(data.groups <= 3)  # the first three subjects
    >>> X = [data.data[i][:, :512] for i in keep]
    >>> y, subjects = data.target[keep], data.groups[keep]
    >>> pipe = make_pipeline(EMGFeatures(fs=data.fs), StandardScaler(), SVC())
    >>> results = cross_validate_accuracy(pipe, X, y, groups=subjects, cv=3)
    >>> results["test_accuracy"].round(2)
    array([0.35, 0.3 , 0.45])
    >>> [sorted(set(subjects[t].tolist())) for t in results["indices"]["test"]]
    [[3], [2], [1]]
    """
    if per_subject and groups is None:
        raise ValueError(
            "cross_validate_accuracy: per_subject=True needs groups, the subject "
            "of every sample."
        )
    if isinstance(cv, Integral) and not isinstance(cv, bool) and groups is not None:
        cv = GroupKFold(n_splits=int(cv))
    routing = bool(per_subject) or sklearn.get_config()["enable_metadata_routing"]
    metadata = {}
    if groups is not None:
        # with routing on, cross_validate takes every metadata through params
        metadata = {"params": {"groups": groups}} if routing else {"groups": groups}
    with sklearn.config_context(enable_metadata_routing=routing):
        return cross_validate(
            estimator,
            X,
            y,
            cv=cv,
            scoring=_AccuracyScorer(route_groups=bool(per_subject)),
            n_jobs=n_jobs,
            return_estimator=True,
            return_indices=True,
            error_score="raise",
            **metadata,
        )


def out_of_fold_predict(cv_results, X, *, groups=None, n_jobs=None):
    """Predict every sample with the estimator of the fold that left it out.

    The predictions of :func:`~sklearn.model_selection.cross_val_predict`,
    made by the fitted estimators that ``cross_validate`` returned, so the
    folds are fitted once for both the fold scores and the predictions.

    Parameters
    ----------
    cv_results : dict
        The result of :func:`cross_validate_accuracy`, or of
        :func:`~sklearn.model_selection.cross_validate` with
        ``return_estimator=True`` and ``return_indices=True``, whose test
        folds hold every sample once.
    X : array-like or list of ndarray
        The samples that were cross-validated.
    groups : array-like of shape (n_samples,) or None, default=None
        The subject of every sample, routed to ``predict`` for a
        per-subject estimator (each test subject calibrated on its own
        samples); None for the others.
    n_jobs : int or None, default=None
        Folds predicted in parallel (as ``cross_validate``'s ``n_jobs``).

    Returns
    -------
    y_pred : ndarray of shape (n_samples,)
        The out-of-fold prediction of every sample, in the order of ``X``.

    Raises
    ------
    ValueError
        If ``cv_results`` lacks the fitted estimators or the indices, or its
        test folds do not hold every sample exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from sklearn_semg import EMGFeatures
    >>> from sklearn_semg.datasets import load_movements
    >>> from sklearn_semg.evaluation import (
    ...     cross_validate_accuracy, out_of_fold_predict)
    >>> data = load_movements()
    >>> keep = np.flatnonzero(data.groups <= 3)
    >>> X = [data.data[i][:, :512] for i in keep]
    >>> y, subjects = data.target[keep], data.groups[keep]
    >>> pipe = make_pipeline(EMGFeatures(fs=data.fs), StandardScaler(), SVC())
    >>> results = cross_validate_accuracy(pipe, X, y, groups=subjects, cv=3)
    >>> y_pred = out_of_fold_predict(results, X)
    >>> y_pred.shape, round(float(np.mean(y_pred == y)), 3)
    ((60,), 0.367)
    """
    missing = {"estimator", "indices"} - set(cv_results)
    if missing:
        raise ValueError(
            f"out_of_fold_predict: cv_results has no {sorted(missing)}; pass the "
            "result of cross_validate_accuracy, or of cross_validate with "
            "return_estimator=True and return_indices=True."
        )
    tests = [np.asarray(test) for test in cv_results["indices"]["test"]]
    n_samples = len(X)
    counts = np.bincount(np.concatenate(tests), minlength=n_samples)
    if len(counts) != n_samples or not np.all(counts == 1):
        raise ValueError(
            "out_of_fold_predict: the test folds must hold every sample of X "
            f"({n_samples}) exactly once, as cross_val_predict needs; "
            f"{int(np.sum(counts[:n_samples] == 0))} are in none and "
            f"{int(np.sum(counts > 1))} in several."
        )
    subjects = None if groups is None else np.asarray(groups)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_predict)(
            estimator, _take(X, test), None if subjects is None else subjects[test]
        )
        for estimator, test in zip(cv_results["estimator"], tests, strict=True)
    )
    predictions = np.concatenate([np.asarray(part) for part in parts])
    y_pred = np.empty_like(predictions)
    y_pred[np.concatenate(tests)] = predictions
    return y_pred


def accuracy_summary(y, y_pred, cv_results=None):
    """Accuracy and balanced accuracy over all samples, and chance level.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels (out of fold, from :func:`out_of_fold_predict`).
    cv_results : dict or None, default=None
        The cross-validation that made them, for the mean fit time.

    Returns
    -------
    summary : dict
        ``accuracy`` and ``balanced_accuracy`` of ``y_pred`` (float),
        ``chance`` (the accuracy of always predicting the most frequent
        class) and, with ``cv_results``, ``fit_time_s`` (mean fit time of a
        fold, in seconds).

    Examples
    --------
    >>> from sklearn_semg.evaluation import accuracy_summary
    >>> accuracy_summary(["a", "a", "a", "b"], ["a", "a", "b", "b"])
    {'accuracy': 0.75, 'balanced_accuracy': 0.8333333333333333, 'chance': 0.75}
    """
    y = np.asarray(y)
    _, counts = np.unique(y, return_counts=True)
    summary = {
        "accuracy": float(accuracy_score(y, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, y_pred)),
        "chance": float(counts.max() / counts.sum()),
    }
    if cv_results is not None:
        summary["fit_time_s"] = float(np.mean(cv_results["fit_time"]))
    return summary


def evaluate_pipeline(
    estimator, X, y, *, groups=None, cv=5, per_subject=False, n_jobs=None
):
    """Cross-validate a classifier: fold scores, out-of-fold predictions, summary.

    :func:`cross_validate_accuracy`, then :func:`out_of_fold_predict` with
    the fitted estimators of the folds (the subjects routed to ``predict``
    with ``per_subject``), then :func:`accuracy_summary`. Evaluate several
    pipelines with the same ``cv`` and ``groups`` to compare them on the
    same folds.

    Parameters
    ----------
    estimator : estimator object
        A classifier; cloned for every fold.
    X : array-like or list of ndarray
        The samples.
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,) or None, default=None
        Subject of every sample (see :func:`cross_validate_accuracy`).
    cv : int, cross-validation generator or iterable, default=5
        The folds (see :func:`cross_validate_accuracy`); their test folds
        must hold every sample once.
    per_subject : bool, default=False
        Route ``groups`` to the estimator's per-subject calibration.
    n_jobs : int or None, default=None
        Folds fitted, then predicted, in parallel.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``summary`` (the dict of :func:`accuracy_summary`, with
        ``fit_time_s``), ``y_pred`` (the out-of-fold predictions, for a
        confusion matrix) and ``cv_results`` (the dict of
        :func:`cross_validate_accuracy`: the scores, fitted estimator and
        indices of every fold).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from sklearn_semg import EMGFeatures, SubjectStandardScaler
    >>> from sklearn_semg.datasets import load_movements
    >>> from sklearn_semg.evaluation import evaluate_pipeline
    >>> data = load_movements()
    >>> keep = np.flatnonzero(data.groups <= 3)
    >>> X = [data.data[i][:, :512] for i in keep]
    >>> y, subjects = data.target[keep], data.groups[keep]
    >>> for scaler in (StandardScaler(), SubjectStandardScaler()):
    ...     pipe = make_pipeline(EMGFeatures(fs=data.fs), scaler, SVC())
    ...     result = evaluate_pipeline(
    ...         pipe, X, y, groups=subjects, cv=3,
    ...         per_subject=isinstance(scaler, SubjectStandardScaler))
    ...     print(type(scaler).__name__, round(result.summary["accuracy"], 3))
    StandardScaler 0.367
    SubjectStandardScaler 0.55
    """
    cv_results = cross_validate_accuracy(
        estimator,
        X,
        y,
        groups=groups,
        cv=cv,
        per_subject=per_subject,
        n_jobs=n_jobs,
    )
    y_pred = out_of_fold_predict(
        cv_results, X, groups=groups if per_subject else None, n_jobs=n_jobs
    )
    return Bunch(
        summary=accuracy_summary(y, y_pred, cv_results),
        y_pred=y_pred,
        cv_results=cv_results,
    )
