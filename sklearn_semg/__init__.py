"""sklearn-semg: surface-EMG classification as a first-class scikit-learn citizen.

``import sklearn_semg`` stays light: the torch-based estimators in
:mod:`sklearn_semg.nn` are imported on first use.
"""

from importlib import import_module

from ._svm import CalibratedSVC
from ._version import __version__
from .features import (
    EMGFeatures,
    HHTFeatures,
    MarginalSpectrum,
    SubjectStandardScaler,
)
from .hht import EMDDecomposer, HHTTransformer
from .preprocessing import SEMGFilter

# Public names served lazily, mapped to the module that defines them.
_LAZY = {
    "CNNFeatureExtractor": ".nn",
    "HHTCNNClassifier": ".nn",
    "make_cnn_svm_pipeline": ".pipelines",
    "make_end_to_end_pipeline": ".pipelines",
    "make_method_comparison": ".pipelines",
    "make_recommended_pipeline": ".pipelines",
    "is_model_file": ".persistence",
    "load_model": ".persistence",
    "model_metadata": ".persistence",
    "save_model": ".persistence",
}

__all__ = [
    "CalibratedSVC",
    "EMDDecomposer",
    "EMGFeatures",
    "HHTFeatures",
    "HHTTransformer",
    "MarginalSpectrum",
    "SEMGFilter",
    "SubjectStandardScaler",
    "__version__",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
