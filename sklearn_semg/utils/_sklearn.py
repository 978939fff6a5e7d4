"""The one place that imports scikit-learn's private helpers.

scikit-learn does not promise these names across releases (parameter
validation, the fit context, the constant-feature test of its scalers). Every
module of the package imports them from here, so that a change in
scikit-learn is met in this file alone.
"""

from sklearn.base import _fit_context
from sklearn.preprocessing._data import _is_constant_feature
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "StrOptions",
    "_fit_context",
    "_is_constant_feature",
    "validate_parameter_constraints",
    "validate_params",
]
