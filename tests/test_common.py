"""scikit-learn's common estimator checks over every public estimator.

Estimators are discovered automatically from ``sklearn_semg.__all__`` (every
public class that is a scikit-learn estimator), so a new estimator is checked
as soon as it is exported. ``CHECK_PARAMS`` gives small, fast settings where
the defaults would be slow; ``EXPECTED_FAILED_CHECKS`` lists the checks an
estimator fails by design, each with its reason.
"""

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_semg


def discover_estimators():
    classes = []
    for name in sklearn_semg.__all__:
        obj = getattr(sklearn_semg, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            classes.append(obj)
    return sorted(classes, key=lambda cls: cls.__name__)


# Small grids so that each check runs in milliseconds; the behaviour at the
# default sizes is covered by the estimator's own tests.
CHECK_PARAMS = {
    # The checks' data have 2 to 20 columns, i.e. recordings of 2 to 20
    # samples, below the default minimum of 16 meant to catch transposed input.
    "HHTTransformer": dict(n_freq_bins=4, n_time_bins=4, flatten=True, min_n_times=2),
}

_HHT_RAW = (
    "HHTTransformer reads raw recordings, one row per recording and one column "
    "per sample; "
)
EXPECTED_FAILED_CHECKS = {
    "HHTTransformer": {
        "check_n_features_in": _HHT_RAW
        + "columns are time samples, and recordings of any length are accepted, so "
        "there is no fixed n_features_in_.",
        "check_n_features_in_after_fitting": _HHT_RAW
        + "transform accepts recordings of any length (the time axis is resampled "
        "onto n_time_bins), so a different number of columns is not an error.",
        "check_transformer_general": _HHT_RAW
        + "its last part asserts that transform rejects a different number of "
        "columns, which HHTTransformer accepts by design (see above); its other "
        "parts (fit_transform == fit().transform, determinism, n_samples kept) "
        "are asserted in tests/test_hht.py.",
    },
}


def _instance(cls):
    return cls(**CHECK_PARAMS.get(cls.__name__, {}))


ESTIMATORS = [_instance(cls) for cls in discover_estimators()]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_discovery_finds_every_public_estimator():
    names = {type(est).__name__ for est in ESTIMATORS}
    assert "HHTTransformer" in names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
