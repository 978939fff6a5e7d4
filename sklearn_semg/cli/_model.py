"""Model files for the commands: reading one (the safe format, or joblib with
``--trust-pickle``), the record of the data a model was trained on, and the
state a saved pipeline must not carry."""

import sys
from pathlib import Path

from ._common import PROG, CLIError, _warn
from ._methods import canonical_method

#: Value of the ``"format"`` key of the joblib model files that ``train``
#: wrote before the safe format (read with --trust-pickle).
MODEL_FORMAT = "sklearn-semg-model"


def _load_model(path, trust_pickle=False):
    """(pipeline, metadata) of a model file written by ``train``.

    A safe model file (:func:`sklearn_semg.save_model`) is read without
    running code from it. A joblib file (the format of earlier versions of
    ``train``, or any fitted estimator saved with joblib) runs code chosen by
    its author while it loads: it is read only with ``trust_pickle``, with a
    warning. A bare estimator's input kind is read from its first step
    (``"hht"``: raw recordings). A former method name in the metadata
    (``svm``, ``e2e``) is read as the current one.
    """
    from ..persistence import is_model_file, load_model

    file = Path(path)
    if is_model_file(file):
        try:
            pipeline, metadata = load_model(file, return_metadata=True)
        except (OSError, ValueError) as exc:
            raise CLIError(f"MODEL: {exc}") from None
    elif not trust_pickle:
        raise CLIError(
            f"MODEL {str(file)!r} is not a safe sklearn-semg model file (written by "
            f"`{PROG} train` or sklearn_semg.save_model). If it is a joblib/pickle "
            "file, loading it runs code chosen by whoever wrote it: pass "
            "--trust-pickle only if you trust its source (then re-save it with "
            "`sklearn_semg.save_model`)."
        )
    else:
        pipeline, metadata = _load_joblib(file)
    if "method" in metadata:
        metadata = {**metadata, "method": canonical_method(metadata["method"])}
    return pipeline, metadata


def _load_joblib(file):
    """(pipeline, metadata) of a joblib file: an earlier ``train``'s dict,
    or a bare fitted estimator."""
    print(
        f"{PROG}: warning: loading {str(file)!r} with joblib (--trust-pickle): a "
        "joblib/pickle file runs code chosen by whoever wrote it.",
        file=sys.stderr,
    )
    import joblib

    try:
        payload = joblib.load(file)
    except Exception as exc:  # unpickling raises anything; reported, not swallowed
        raise CLIError(
            f"MODEL {str(file)!r} could not be read as a joblib file "
            f"({type(exc).__name__}: {exc}); expected the output of "
            f"`{PROG} train`."
        ) from exc
    if isinstance(payload, dict) and payload.get("format") == MODEL_FORMAT:
        return payload["pipeline"], payload["metadata"]
    if hasattr(payload, "predict") and hasattr(payload, "predict_proba"):
        steps = getattr(payload, "steps", [])
        raw = bool(steps) and steps[0][0] == "hht"
        return payload, {
            "input": "raw" if raw else "hht",
            "input_shape": None,
            "n_channels": getattr(steps[0][1], "n_channels_", None) if raw else None,
            "method_name": type(payload).__name__,
            "trained_on": "unknown",
        }
    raise CLIError(
        f"MODEL {str(file)!r} is not a sklearn-semg model: it holds a "
        f"{type(payload).__name__}; expected the output of `{PROG} train`."
    )


def _content_hashes(X):
    """One SHA-256 per recording or matrix of ``X`` (of its dtype, shape and
    values, 32 hex digits): the model file's record of its training data."""
    import hashlib

    import numpy as np

    hashes = []
    for x in X:
        x = np.ascontiguousarray(x)
        digest = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
        digest.update(x.tobytes())
        hashes.append(digest.hexdigest()[:32])
    return hashes


def _in_training_data(X, files, metadata):
    """Boolean mask of the files whose content the model was trained on,
    announced on stderr (models written before the record: all False)."""
    import numpy as np

    known = set(metadata.get("training_data", {}).get("sha256", ()))
    seen = np.array([h in known for h in _content_hashes(X)], dtype=bool)
    if seen.any():
        names = [files[i] for i in np.flatnonzero(seen)[:3]]
        more = ", ..." if seen.sum() > 3 else ""
        _warn(
            f"{seen.sum()} of the {len(files)} file(s) are in the model's training "
            f"data (same content: {', '.join(names)}{more}); a model scored on "
            "them is not being tested."
        )
    return seen


def _model_device(device):
    if device == "auto":
        from ..nn import resolve_device

        return str(resolve_device("auto"))
    return device


def _without_cache(pipeline):
    """``pipeline`` with every ``memory`` parameter of its steps unset, so a
    saved model never points at a cache folder of the run that made it."""
    cached = {
        name: None
        for name, value in pipeline.get_params(deep=True).items()
        if name.rsplit("__", 1)[-1] == "memory" and value is not None
    }
    return pipeline.set_params(**cached) if cached else pipeline
