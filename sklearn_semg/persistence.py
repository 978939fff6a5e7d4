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
    scikit-learn estimators. Any other type in a file is refused by name
    unless the caller trusts it explicitly; torch and skorch types
    (:data:`NEVER_TRUSTED`) are refused even then, because their
    ``__setstate__`` unpickles parts of their state.
``weights.safetensors``
    The network weights and optimizer state of the torch estimators
    (:class:`~sklearn_semg.nn.CNNFeatureExtractor`,
    :class:`~sklearn_semg.nn.HHTCNNClassifier`) as plain arrays in the
    `safetensors <https://huggingface.co/docs/safetensors>`_ format, which
    holds numbers only. In the skops graph each torch estimator is replaced
    by a record: the name of its class (looked up in a fixed table) and its
    parameters and fitted state as plain values, the classes it takes as
    parameters by name (looked up in a fixed table too). It is rebuilt from
    that record (its ``_get_safe_state`` / ``_from_safe_state``), after its
    network's shapes are checked against the saved weights.

This module does not import torch: the torch estimators hand over their state
as numpy arrays.
"""

import io
import json
import zipfile
from copy import deepcopy
from pathlib import Path
from types import FunctionType, ModuleType

import numpy as np

from .utils._io import atomic_write

__all__ = [
    "is_model_file",
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
#: Largest member a model file may declare, and largest total of the members
#: inside its skops archive (a shipped model is a few MB): a forged size is
#: refused before anything is decompressed.
MAX_MEMBER_BYTES = 2**29
#: Largest header (JSON) a model file may declare.
MAX_HEADER_BYTES = 2**20

#: sklearn-semg's own estimators that skops builds (plain scikit-learn
#: estimators: their state is parameters and numpy arrays), and the two
#: records of this module. skops trusts scikit-learn's estimators, numpy and
#: Python's containers by itself. No torch or skorch type is ever trusted:
#: their ``__setstate__`` unpickles (skorch's ``NeuralNet``), so the torch
#: estimators are stored as records and rebuilt by their own
#: ``_from_safe_state``.
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
    "sklearn_semg.persistence._ArrayRef",
    "sklearn_semg.persistence._SavedTorchEstimator",
    "sklearn_semg.preprocessing._filter.SEMGFilter",
)

#: Types never built from a model file, not even when trusted explicitly:
#: torch and skorch objects unpickle parts of their state.
NEVER_TRUSTED = ("torch.", "skorch.", "sklearn_semg.nn.")


def _torch_estimator_classes():
    """The estimators stored as records, by the name a record gives."""
    from .nn import CNNFeatureExtractor, HHTCNNClassifier

    return {_class_name(cls): cls for cls in (CNNFeatureExtractor, HHTCNNClassifier)}


def _class_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class _SavedTorchEstimator:
    """Stands in the skops graph for a torch estimator: the name of its class
    (a string, looked up in a fixed table on loading) and its
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
    unsafe = _never_trusted(skops.io.get_untrusted_types(data=graph_bytes))
    if unsafe:
        raise TypeError(
            f"{type(estimator).__name__} holds {unsafe} outside the torch estimators "
            "that a safe model file rebuilds (for example a network in a search's "
            "results or a callback object): a model file cannot hold them. Save "
            "only the fitted model (search.best_estimator_), or use joblib."
        )
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
    known = None
    for i, torch_estimator in enumerate(_torch_estimators(estimator)):
        known = known or _torch_estimator_classes()
        name = _class_name(type(torch_estimator))
        if name not in known:
            raise TypeError(
                f"{name} cannot be stored in a safe model file: only "
                f"{sorted(known)} are rebuilt from one. Save it with joblib."
            )
        state = _arrays_to_refs(torch_estimator._get_safe_state(), f"{i}", arrays)
        memo[id(torch_estimator)] = _SavedTorchEstimator(name, state)
    if not memo:
        return estimator, arrays
    # deepcopy takes the records from the memo in place of the torch estimators
    # (numpy passes the memo on into object arrays) and copies everything else;
    # the caller's estimator is left untouched.
    return deepcopy(estimator, memo), arrays


def _children(obj):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, np.ndarray):
        return list(obj.ravel()) if obj.dtype == object else []
    if isinstance(obj, (type, FunctionType, ModuleType)):
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
def load_model(path, *, trusted=None, return_metadata=False):
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
    return_metadata : bool, default=False
        Also return the ``metadata`` stored by :func:`save_model` (the file
        is read once).

    Returns
    -------
    estimator : estimator
        As saved; torch estimators fitted on a GPU load on the CPU when this
        machine has none (with a warning).
    metadata : dict
        Only with ``return_metadata=True``; see :func:`model_metadata`.

    Raises
    ------
    ValueError
        The file is not a model file (a joblib or pickle file is named as
        such), is damaged, was written by a newer format version, or refers
        to types that are not trusted.
    """
    estimator, metadata = _load(path, trusted)
    return (estimator, metadata) if return_metadata else estimator


def _load(path, trusted=None):
    """(estimator, metadata) of a model file, reading it once."""
    import safetensors.numpy
    import skops.io

    path = Path(path)
    members = _read_members(path)
    metadata = _header(path, members[_HEADER])["metadata"]
    allowed = set(TRUSTED_TYPES) | set(_check_trusted(trusted))
    graph_bytes = members[_GRAPH]
    _check_graph_archive(path, graph_bytes)
    try:
        untrusted = skops.io.get_untrusted_types(data=graph_bytes)
    except Exception as exc:
        raise _damaged(path, _GRAPH, exc) from exc
    never = _never_trusted(untrusted)
    if never:
        raise ValueError(
            f"The model file {str(path)!r} asks to build {never} from its own data; "
            "torch and skorch objects can unpickle code that way, so a model file "
            "may only hold them as sklearn-semg's records. Refused: the file is "
            "forged or damaged."
        )
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
    return _rebuild(graph, arrays, path), metadata


def _never_trusted(names):
    return sorted(name for name in names if name.startswith(NEVER_TRUSTED))


def _check_graph_archive(path, data):
    """Refuse a skops archive that would decompress to more than
    :data:`MAX_MEMBER_BYTES`, counting each file as often as the schema names
    it (skops reads a file once per node that names it, so a small file named
    many times would otherwise be decompressed many times)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            if sizes.get("schema.json", 0) > MAX_MEMBER_BYTES:
                raise _too_large(path, sizes["schema.json"])
            schema = json.loads(archive.read("schema.json"))
    except (
        zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, RecursionError
    ) as exc:  # fmt: skip
        if isinstance(exc, ValueError) and str(exc).startswith("The model file"):
            raise
        raise _damaged(path, _GRAPH, exc) from exc
    total, stack = sizes["schema.json"], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("file")
            total += sizes.get(name, 0) if isinstance(name, str) else 0
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if total > MAX_MEMBER_BYTES:
        raise _too_large(path, total)


def _too_large(path, size):
    return ValueError(
        f"The model file {str(path)!r} would decompress {size} bytes from its "
        f"{_GRAPH}, more than the {MAX_MEMBER_BYTES} bytes a model file may hold; "
        "refused."
    )


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
    never = _never_trusted(trusted)
    if never:
        raise ValueError(
            f"The 'trusted' parameter of load_model cannot trust {never}: torch and "
            "skorch objects unpickle parts of their state, which a model file must "
            "never make them do."
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
                limit = MAX_HEADER_BYTES if name == _HEADER else MAX_MEMBER_BYTES
                if infos[name].file_size > limit:
                    raise ValueError(
                        f"The model file {str(path)!r} declares a {name} member of "
                        f"{infos[name].file_size} bytes, more than the {limit} "
                        "bytes a model file may hold there; refused."
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


def _rebuild(root, arrays, path):
    """``root`` with every :class:`_SavedTorchEstimator` reachable from it
    replaced by the estimator it records (in place in lists, dicts, object
    arrays and objects; tuples, such as a Pipeline's steps, are rebuilt)."""
    done = {}

    def visit(obj):
        if id(obj) in done:
            return done[id(obj)]
        if isinstance(obj, _SavedTorchEstimator):
            done[id(obj)] = _torch_estimator(obj, arrays, path)
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
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                for index in np.ndindex(obj.shape):
                    obj[index] = visit(obj[index])
        elif _children(obj) and not isinstance(obj, (set, frozenset)):
            attributes = vars(obj)
            for name, v in list(attributes.items()):
                attributes[name] = visit(v)
        return done[id(obj)]

    return visit(root)


def _torch_estimator(record, arrays, path):
    name = record.estimator_class
    known = _torch_estimator_classes()
    if not isinstance(name, str) or name not in known:
        raise ValueError(
            f"The model file {str(path)!r} records a torch estimator of type "
            f"{name!r}, which is not one that sklearn-semg rebuilds "
            f"({sorted(known)})."
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

    state = resolve(record.state)
    try:
        return known[name]._from_safe_state(state)
    except Warning:  # a warning turned into an error by the caller's filters
        raise
    except Exception as exc:
        raise ValueError(
            f"The model file {str(path)!r} holds a {name.rsplit('.', 1)[-1]} that "
            f"could not be rebuilt ({type(exc).__name__}: {exc}); the file is "
            "damaged or forged."
        ) from exc


def is_model_file(path):
    """Whether ``path`` is a model file written by :func:`save_model`.

    Only the zip directory is read: a damaged model file is still one (and
    :func:`load_model` says what is wrong with it), while a joblib or pickle
    file, a folder or a missing path is not.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_semg import is_model_file, save_model
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> is_model_file(save_model(StandardScaler(), folder / "scaler.semg"))
    True
    >>> is_model_file(folder)
    False
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _HEADER in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
