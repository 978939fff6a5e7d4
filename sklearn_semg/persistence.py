"""Safe model files: :func:`save_model` and :func:`load_model`.

``joblib`` and ``pickle`` files run code while they load: whoever wrote the
file chooses what runs. A sklearn-semg model file cannot do that. It is a zip
archive of three members:

``sklearn-semg-model.json``
    The format name and version, the library versions that wrote it and the
    caller's ``metadata`` (plain JSON).
``estimator.skops``
    The fitted estimator graph in `skops <https://skops.readthedocs.io>`_'
    format. Loading it builds only types on an explicit list: the types that
    skops trusts by default (Python containers, numpy, scikit-learn's
    estimators) and the short list :data:`TRUSTED_TYPES` of sklearn-semg's own
    estimators and the torch classes they name as parameters. Any other type
    in a file is refused by name unless the caller trusts it explicitly.
``weights.safetensors``
    The network weights and optimizer state of the torch estimators
    (:class:`~sklearn_semg.nn.CNNFeatureExtractor`,
    :class:`~sklearn_semg.nn.HHTCNNClassifier`) as plain arrays in the
    `safetensors <https://huggingface.co/docs/safetensors>`_ format, which
    holds numbers only. In the skops graph each torch estimator is replaced
    by a record of its parameters and fitted state; it is rebuilt from that
    record on loading (its ``_get_safe_state`` / ``_from_safe_state``).

This module does not import torch: the torch estimators hand over their state
as numpy arrays.
"""

import json
import zipfile
from copy import deepcopy
from pathlib import Path
from types import FunctionType, ModuleType

import numpy as np

from .utils._io import atomic_write

__all__ = [
    "load_model",
    "model_metadata",
    "save_model",
]

#: Name written in every model file's header.
MODEL_FORMAT = "sklearn-semg-model"
#: Version of the file layout; a reader refuses files of a newer version.
MODEL_FORMAT_VERSION = 2

_HEADER = "sklearn-semg-model.json"
_GRAPH = "estimator.skops"
_ARRAYS = "weights.safetensors"
#: Largest member a model file may declare (a shipped model is a few MB): a
#: forged size is refused before anything is decompressed.
MAX_MEMBER_BYTES = 2**31

#: sklearn-semg's own types, and the torch and skorch classes that its
#: estimators take as parameters (stored as class references: loading one
#: imports the class, it calls nothing). skops trusts scikit-learn's
#: estimators, numpy and Python's containers by itself.
TRUSTED_TYPES = (
    # CalibratedSVC's fitted calibration (scikit-learn's private containers of
    # the sigmoid's two numbers, which skops does not list)
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn_semg._svm.CalibratedSVC",
    "sklearn_semg.features._classic.EMGFeatures",
    "sklearn_semg.features._hht_features.HHTFeatures",
    "sklearn_semg.features._marginal.MarginalSpectrum",
    "sklearn_semg.features._subject.SubjectStandardScaler",
    "sklearn_semg.hht._decomposition.EMDDecomposer",
    "sklearn_semg.hht._transformer.HHTTransformer",
    "sklearn_semg.nn._classifier.HHTCNNClassifier",
    "sklearn_semg.nn._extractor.CNNFeatureExtractor",
    "sklearn_semg.nn._modules.HHTCNN",
    "sklearn_semg.persistence._ArrayRef",
    "sklearn_semg.persistence._SavedTorchEstimator",
    "skorch.dataset.Dataset",
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch.optim.adam.Adam",
    "torch.optim.adamw.AdamW",
    "torch.optim.sgd.SGD",
    "torch.utils.data.dataloader.DataLoader",
)


class _SavedTorchEstimator:
    """Stands in the skops graph for a torch estimator: its class and its
    ``_get_safe_state()``, the arrays of which are in the safetensors member."""

    def __init__(self, estimator_class, state):
        self.estimator_class = estimator_class
        self.state = state


class _ArrayRef:
    """Stands in a saved state for the array stored under ``key``."""

    def __init__(self, key):
        self.key = key


# -- save ---------------------------------------------------------------------
def save_model(estimator, path, *, metadata=None, overwrite=True):
    """Write a fitted (or unfitted) estimator to a safe model file.

    The file is written to a temporary name and renamed into place, so an
    interrupted save never leaves a truncated file in place of a good one.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator or pipeline built from scikit-learn's and
        sklearn-semg's estimators (other types are saved too, but loading
        them then needs ``trusted=``).
    path : str or path-like
        File to write (by convention ``*.semg``); its folder must exist.
    metadata : dict, default=None
        JSON-serialisable description stored beside the model (read back by
        :func:`model_metadata` without loading the model).
    overwrite : bool, default=True
        If False, an existing ``path`` is never replaced.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from sklearn_semg import EMGFeatures, load_model, save_model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((20, 2, 400)), np.repeat(["rest", "grip"], 10)
    >>> model = make_pipeline(EMGFeatures(fs=1000), StandardScaler(), SVC()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.semg")
    >>> _ = save_model(model, path, metadata={"task": "grip"})
    >>> bool((load_model(path).predict(X) == model.predict(X)).all())
    True
    """
    return atomic_write(
        Path(path), lambda f: write_model(f, estimator, metadata), overwrite=overwrite
    )


def write_model(file, estimator, metadata=None):
    """Write the model file of :func:`save_model` into the open binary ``file``
    (for callers with their own atomic write)."""
    import safetensors.numpy
    import skops.io

    header = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "metadata": {} if metadata is None else metadata,
        "versions": _versions(),
    }
    try:
        header_bytes = json.dumps(header, indent=1, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The 'metadata' of save_model must be JSON-serialisable (str, int, "
            f"float, bool, None, lists and dicts of them); got {exc}."
        ) from None
    graph, arrays = _safe_graph(estimator)
    try:
        graph_bytes = skops.io.dumps(graph)
    except Exception as exc:
        raise TypeError(
            f"{type(estimator).__name__} could not be stored in skops' format: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    arrays_bytes = safetensors.numpy.save(arrays)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_HEADER, header_bytes)
        archive.writestr(_GRAPH, graph_bytes)
        archive.writestr(_ARRAYS, arrays_bytes)


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("sklearn-semg", "scikit-learn", "skops", "torch", "skorch"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _safe_graph(estimator):
    """(a copy of ``estimator`` whose torch estimators are replaced by
    :class:`_SavedTorchEstimator` records, the arrays of those records)."""
    arrays = {}
    memo = {}
    for i, torch_estimator in enumerate(_torch_estimators(estimator)):
        state = _arrays_to_refs(torch_estimator._get_safe_state(), f"{i}", arrays)
        memo[id(torch_estimator)] = _SavedTorchEstimator(type(torch_estimator), state)
    if not memo:
        return estimator, arrays
    # deepcopy takes the records from the memo in place of the torch estimators
    # and copies everything else; the caller's estimator is left untouched.
    return deepcopy(estimator, memo), arrays


def _children(obj):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, (type, FunctionType, ModuleType, np.ndarray)):
        return []
    return list(getattr(obj, "__dict__", {}).values())


def _torch_estimators(root):
    """Objects reachable from ``root`` that save themselves as a safe state."""
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if hasattr(type(obj), "_get_safe_state"):
            found.append(obj)
            continue
        stack.extend(_children(obj))
    return found


def _arrays_to_refs(value, key, arrays):
    # 0-d arrays (an optimizer's step count) stay in the skops graph:
    # safetensors reads them back with shape (1,)
    if isinstance(value, np.ndarray) and value.dtype != object and value.ndim:
        arrays[key] = np.ascontiguousarray(value)
        return _ArrayRef(key)
    if isinstance(value, dict):
        return {k: _arrays_to_refs(v, f"{key}.{k}", arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_arrays_to_refs(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    return value


# -- load ---------------------------------------------------------------------
def load_model(path, *, trusted=None):
    """Read an estimator written by :func:`save_model`, without running code
    from the file.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trusted : list of str, default=None
        Exact names of further types to trust (``"module.Class"``), for
        models that hold estimators from other packages; the error for an
        untrusted type lists them. Trust only types whose loading you know to
        be harmless.

    Returns
    -------
    estimator : estimator
        As saved; torch estimators fitted on a GPU load on the CPU when this
        machine has none (with a warning).

    Raises
    ------
    ValueError
        The file is not a model file (a joblib or pickle file is named as
        such), is damaged, was written by a newer format version, or refers
        to types that are not trusted.
    """
    import safetensors.numpy
    import skops.io

    path = Path(path)
    members = _read_members(path)
    _header(path, members[_HEADER])
    allowed = set(TRUSTED_TYPES) | set(_check_trusted(trusted))
    graph_bytes = members[_GRAPH]
    try:
        untrusted = skops.io.get_untrusted_types(data=graph_bytes)
    except Exception as exc:
        raise _damaged(path, _GRAPH, exc) from exc
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise ValueError(
            f"The model file {str(path)!r} refers to types that sklearn-semg does not "
            f"trust: {refused}. Loading them could run code chosen by whoever wrote "
            "the file. If you trust the file and these types, pass "
            f"trusted={refused} to load_model."
        )
    try:
        graph = skops.io.loads(graph_bytes, trusted=sorted(set(untrusted)))
        arrays = safetensors.numpy.load(members[_ARRAYS])
    except Exception as exc:
        raise _damaged(path, f"{_GRAPH} or {_ARRAYS}", exc) from exc
    return _rebuild(graph, arrays, path, allowed)


def model_metadata(path):
    """The ``metadata`` stored by :func:`save_model`, without loading the model.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    metadata : dict
    """
    path = Path(path)
    return _header(path, _read_members(path, only=(_HEADER,))[_HEADER])["metadata"]


def _check_trusted(trusted):
    if trusted is None:
        return []
    if isinstance(trusted, str) or not all(isinstance(t, str) for t in trusted):
        raise TypeError(
            "The 'trusted' parameter of load_model must be a list of type names "
            f"('module.Class'); got {trusted!r}."
        )
    return list(trusted)


def _read_members(path, only=(_HEADER, _GRAPH, _ARRAYS)):
    if not path.is_file():
        raise FileNotFoundError(
            f"The model file {str(path)!r} does not exist or is not a file."
        )
    if not zipfile.is_zipfile(path):
        raise ValueError(_not_a_model(path))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            missing = [name for name in only if name not in infos]
            if missing:
                raise ValueError(
                    f"{_not_a_model(path)} (the zip archive lacks {missing})"
                )
            for name in only:
                if infos[name].file_size > MAX_MEMBER_BYTES:
                    raise ValueError(
                        f"The model file {str(path)!r} declares a {name} member of "
                        f"{infos[name].file_size} bytes, more than the "
                        f"{MAX_MEMBER_BYTES} bytes a model file may hold; refused."
                    )
            return {name: archive.read(name) for name in only}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(path, "zip archive", exc) from exc


def _not_a_model(path):
    with open(path, "rb") as f:
        start = f.read(2)
    kind = ""
    if start[:1] == b"\x80" or start in (b"x\x9c", b"x\x01", b"x\xda", b"x^"):
        kind = (
            "; it looks like a joblib/pickle file, which runs code when loaded: "
            "load it with joblib.load only if you trust its source, then save "
            "it again with save_model"
        )
    return (
        f"The file {str(path)!r} is not a sklearn-semg model file (a zip archive "
        f"written by save_model, holding {_HEADER}, {_GRAPH} and {_ARRAYS}){kind}"
    )


def _header(path, data):
    try:
        header = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _damaged(path, _HEADER, exc) from exc
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise ValueError(f"{_not_a_model(path)} (its {_HEADER} names another format)")
    version = header.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
        raise ValueError(
            f"The model file {str(path)!r} has format version {version!r}; this "
            f"sklearn-semg reads versions up to {MODEL_FORMAT_VERSION}. Upgrade "
            "sklearn-semg to load it."
        )
    if not isinstance(header.get("metadata"), dict):
        raise _damaged(path, _HEADER, "no metadata mapping")
    return header


def _damaged(path, member, cause):
    if isinstance(cause, BaseException):
        cause = f"{type(cause).__name__}: {cause}"
    return ValueError(
        f"The model file {str(path)!r} is damaged: its {member} could not be read "
        f"({cause})."
    )


def _rebuild(root, arrays, path, allowed):
    """``root`` with every :class:`_SavedTorchEstimator` reachable from it
    replaced by the estimator it records (in place in lists, dicts and
    objects; tuples, such as a Pipeline's steps, are rebuilt)."""
    done = {}

    def visit(obj):
        if id(obj) in done:
            return done[id(obj)]
        if isinstance(obj, _SavedTorchEstimator):
            done[id(obj)] = _torch_estimator(obj, arrays, path, allowed)
            return done[id(obj)]
        done[id(obj)] = obj
        if isinstance(obj, list):
            obj[:] = [visit(v) for v in obj]
        elif isinstance(obj, dict):
            for k, v in obj.items():
                obj[k] = visit(v)
        elif isinstance(obj, tuple):
            items = tuple(visit(v) for v in obj)
            if any(a is not b for a, b in zip(items, obj, strict=True)):
                done[id(obj)] = items
        elif _children(obj) and not isinstance(obj, (set, frozenset)):
            attributes = vars(obj)
            for name, v in list(attributes.items()):
                attributes[name] = visit(v)
        return done[id(obj)]

    return visit(root)


def _torch_estimator(record, arrays, path, allowed):
    cls = record.estimator_class
    name = f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"
    if name not in allowed or not hasattr(cls, "_from_safe_state"):
        raise ValueError(
            f"The model file {str(path)!r} records a torch estimator of type "
            f"{name!r}, which is not one that sklearn-semg rebuilds."
        )

    def resolve(value):
        if isinstance(value, _ArrayRef):
            if value.key not in arrays:
                raise _damaged(path, _ARRAYS, f"no array {value.key!r}")
            return arrays[value.key]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [resolve(v) for v in value]
            return items if isinstance(value, list) else tuple(items)
        return value

    return cls._from_safe_state(resolve(record.state))


def _is_model_file(path):
    """True when ``path`` is a zip archive holding a model header."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _HEADER in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
