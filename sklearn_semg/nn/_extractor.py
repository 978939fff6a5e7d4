"""CNNFeatureExtractor: a frozen CNN encoder as a scikit-learn transformer."""

import copy
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._base import channel_names
from ..utils._batches import is_lazy_array, row_batches
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import check_hht_matrices
from ._device import resolve_device
from ._modules import (
    POOLINGS,
    HHTEncoder,
    init_parameters,
    torch_generator,
)

__all__ = ["CNNFeatureExtractor", "check_image_batch", "encoder_state_dict"]


#: Largest magnitude accepted in the matrices fed to the float32 networks: the
#: InstanceNorm of a layer squares its inputs (float32 overflows near 1.8e19).
MAX_MAGNITUDE = 1e15


def check_image_batch(X, *, estimator_name, expected_shape=None):
    """:func:`~sklearn_semg.utils.validation.check_hht_matrices` as the
    networks need it: float32 ``(n, C, H, W)``, values that the float32
    normalisation can square, and the shape seen at ``fit``."""
    return check_hht_matrices(
        X,
        estimator_name=estimator_name,
        expected_shape=expected_shape,
        max_magnitude=MAX_MAGNITUDE,
    )


def encoder_state_dict(weights):
    """Load encoder weights from a path or a mapping; return a CPU state dict.

    Accepts an :class:`HHTEncoder` state dict (keys ``encoder.N.conv.*``, as
    the reference notebook's ``sEMGHHTEncoder`` saves them), a full network
    state dict (keys ``encoder.encoder.N...``, the notebook's end-to-end
    model and :class:`~sklearn_semg.nn.HHTCNN`), or a notebook checkpoint
    holding one of these under ``"model_state_dict"``.
    """
    source = weights
    if isinstance(weights, (str, os.PathLike)):
        if not os.path.isfile(weights):
            raise FileNotFoundError(
                f"The 'weights' file {os.fspath(weights)!r} does not exist; expected "
                "a torch state dict saved with torch.save(encoder.state_dict(), path)."
            )
        try:
            weights = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"Could not read the 'weights' file {os.fspath(source)!r} as a torch "
                f"state dict: {exc}"
            ) from exc
    if not hasattr(weights, "items"):
        raise TypeError(
            "The 'weights' parameter must be None, a path to a state dict or a "
            f"state dict mapping; got {type(weights).__name__}."
        )
    if "model_state_dict" in weights:
        weights = weights["model_state_dict"]
    state = {}
    for key, value in weights.items():
        if key.startswith("encoder.encoder."):
            key = key[len("encoder.") :]
        elif not key.startswith("encoder."):
            continue  # the classification head or pooling: not encoder weights
        state[key] = torch.as_tensor(value).detach().to("cpu")
    if not state:
        raise ValueError(
            f"The 'weights' {'file ' + repr(os.fspath(source)) if source is not weights else 'mapping'} "
            "holds no encoder weights (keys 'encoder.N.conv.weight'); got keys "
            f"{sorted(weights)[:5]}."
        )
    return state


def _architecture(state):
    """(in_channels, base_channels, num_layers) of an encoder state dict."""
    num_layers = 1 + max(int(k.split(".")[1]) for k in state)
    first = state["encoder.0.conv.weight"]
    return int(first.shape[1]), int(first.shape[0]), num_layers


class CNNFeatureExtractor(TransformerMixin, BaseEstimator):
    """Frozen CNN encoder turning HHT matrices into feature vectors.

    ``num_layers`` blocks of ``Conv2d(k3, s2, p1) -> InstanceNorm2d ->
    LeakyReLU(0.2)`` with ``base_channels * 2**i`` channels, then average
    pooling (the reference notebook's encoder, see :ref:`reference_notebook`).
    The encoder is never trained
    here: its weights are a seeded random initialisation (what the reference
    does), a saved state dict, or the encoder of a trained
    :class:`~sklearn_semg.nn.HHTCNNClassifier` (see :meth:`from_classifier`).

    Parameters
    ----------
    base_channels : int, default=64
        Channels of the first block (64 -> 128 -> 256 with 3 layers). Ignored
        when ``weights`` are given (read from them).
    num_layers : int, default=3
        Number of blocks. Ignored when ``weights`` are given.
    pooling : {"global", "time"}, default="global"
        ``"global"`` averages the last map over frequency and time (the
        reference, ``base_channels * 2**(num_layers-1)`` features);
        ``"time"`` averages over time only and keeps the frequency rows, so
        where the energy sits in frequency survives (``ceil(H / 2**L)`` times
        more features).
    weights : None, str, path-like or dict, default=None
        ``None``: random initialisation from ``random_state``. A path or a
        state dict mapping: pretrained weights (see
        :func:`~sklearn_semg.nn.encoder_state_dict` for the accepted layouts).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA if available).
        A CUDA device that is absent raises a ``ValueError`` at ``fit``.
    batch_size : int, default=4
        Matrices per forward pass. Small batches are the fastest on CPU (the
        feature maps of a 256x256 batch of 4 stay in cache); see
        ``bench/bench_cnn.py``.
    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation (a private torch.Generator; the
        global torch seed is neither read nor changed). The same integer gives
        bit-identical features in any process.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The frozen encoder (eval mode, no gradients).
    input_shape_ : tuple of int
        ``(C, H, W)`` of the matrices seen at ``fit``.
    n_features_in_ : int
        ``C * H * W``.
    n_features_out_ : int
        Length of the feature vectors.
    device_ : torch.device
        Device the encoder runs on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg import CNNFeatureExtractor
    >>> X = np.random.default_rng(0).random((5, 2, 64, 64), dtype=np.float32)
    >>> cnn = CNNFeatureExtractor(base_channels=8, random_state=0).fit(X)
    >>> cnn.transform(X).shape
    (5, 32)
    """

    _parameter_constraints: dict = {
        "base_channels": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions(set(POOLINGS))],
        "weights": [None, str, os.PathLike, dict],
        "device": [str, torch.device],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        base_channels=64,
        num_layers=3,
        pooling="global",
        weights=None,
        device="cpu",
        batch_size=4,
        random_state=None,
    ):
        self.base_channels = base_channels
        self.num_layers = num_layers
        self.pooling = pooling
        self.weights = weights
        self.device = device
        self.batch_size = batch_size
        self.random_state = random_state

    @classmethod
    def from_classifier(cls, classifier, **params):
        """Extractor with the trained encoder of a fitted HHTCNNClassifier.

        Parameters
        ----------
        classifier : HHTCNNClassifier
            A fitted end-to-end classifier.
        **params
            Other parameters of the extractor (``device``, ``batch_size``).

        Returns
        -------
        extractor : CNNFeatureExtractor
            Unfitted; its ``weights`` are a CPU copy of the encoder's state
            dict and its ``pooling`` that of the classifier.
        """
        check_is_fitted(classifier, "module_")
        state = {
            f"encoder.{k}": v.detach().cpu().clone()
            for k, v in classifier.module_.encoder.state_dict().items()
        }
        params.setdefault("pooling", classifier.module_.encoder.pooling)
        return cls(weights=state, **params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the frozen encoder for matrices shaped like ``X``.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices (``C`` channels). Of a Zarr or Dask array only the
            first rows are read (``fit`` learns the shape, nothing else).
        y : None
            Ignored.

        Returns
        -------
        self : CNNFeatureExtractor
            Fitted extractor.
        """
        if is_lazy_array(X):  # only the shape is learned: read one batch
            X = next(row_batches(X, rows=min(int(X.shape[0]), 16)), X[:0])
        X = check_image_batch(X, estimator_name=type(self).__name__)
        device = resolve_device(self.device)
        in_channels, height, width = X.shape[1:]
        if self.weights is None:
            base_channels, num_layers = self.base_channels, self.num_layers
            state = None
        else:
            state = encoder_state_dict(self.weights)
            w_in, base_channels, num_layers = _architecture(state)
            if w_in != in_channels:
                raise ValueError(
                    f"The 'weights' expect {w_in} input channel(s), but X has "
                    f"{in_channels} (shape {X.shape}); expected matrices with "
                    f"{w_in} channel(s)."
                )
        return self._set_encoder(
            (in_channels, height, width), base_channels, num_layers, state, device
        )

    def _set_encoder(self, input_shape, base_channels, num_layers, state, device):
        """Build the frozen encoder (from ``state``, or drawn from
        ``random_state`` when it is None) and the fitted attributes."""
        in_channels, height, width = input_shape
        # Built on the meta device, then given uninitialised CPU storage: the
        # default initialisation would draw from (and advance) the global torch
        # random state, and it is overwritten right after anyway.
        with torch.device("meta"):
            encoder = HHTEncoder(
                in_channels=in_channels,
                base_channels=base_channels,
                num_layers=num_layers,
                pooling=self.pooling,
            )
        encoder = encoder.to_empty(device="cpu")
        if state is None:
            init_parameters(encoder, torch_generator(self.random_state))
        else:
            encoder.load_state_dict(state)
        encoder.requires_grad_(False)
        self.encoder_ = encoder.eval().to(device)
        self.device_ = device
        self.input_shape_ = (in_channels, height, width)
        self.n_features_in_ = in_channels * height * width
        self.n_features_out_ = encoder.feature_dim(height)
        return self

    def transform(self, X):
        """Encode each matrix into a feature vector.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices shaped as at ``fit``. A Zarr or Dask array (such as
            an :class:`~sklearn_semg.hht.HHTStore`'s ``X``) is read one chunk
            of rows at a time, so it never has to fit in memory.

        Returns
        -------
        features : ndarray of shape (n, ``n_features_out_``), float32
        """
        check_is_fitted(self)
        if is_lazy_array(X):  # on disk or Dask: read and encode row batches
            parts = [self._encode(batch) for batch in row_batches(X)]
            return np.concatenate(parts) if parts else self._encode(X[:0])
        return self._encode(X)

    def _encode(self, X):
        X = check_image_batch(
            X, estimator_name=type(self).__name__, expected_shape=self.input_shape_
        )
        return encode(self.encoder_, X, self.batch_size, self.device_)

    def get_feature_names_out(self, input_features=None):
        """Names of the encoder's outputs, ``"cnn0" .. "cnn{k-1}"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Channel names of the matrices, one per input channel (checked,
            not used: every output mixes all channels).

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_features_out_`` names.
        """
        check_is_fitted(self)
        channel_names(input_features, self.input_shape_[0], type(self).__name__)
        return np.asarray(
            [f"cnn{k}" for k in range(self.n_features_out_)], dtype=object
        )

    def __getstate__(self):
        # Store the weights on the CPU so that a model fitted on a GPU loads on
        # a machine without one. The live encoder is left where it is: a CPU
        # copy is pickled (Module.to moves in place, which would leave the
        # estimator itself with its weights on the CPU and ``device_`` on the
        # GPU). BaseEstimator.__getstate__ may return the live __dict__: copy.
        state = dict(super().__getstate__())
        if "encoder_" in state:
            if self.device_.type != "cpu":
                state["encoder_"] = copy.deepcopy(self.encoder_).to("cpu")
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "device_" in state:
            self.device_ = _load_device(state["device_"], type(self).__name__)
            self.encoder_ = self.encoder_.to(self.device_)

    def _get_safe_state(self):
        """Parameters and fitted state as plain values and numpy arrays, for
        :func:`sklearn_semg.save_model` (no pickle)."""
        params = self.get_params(deep=False)
        if hasattr(params["weights"], "items"):
            params["weights"] = _tree_to_numpy(params["weights"])
        elif isinstance(params["weights"], os.PathLike):
            params["weights"] = os.fspath(params["weights"])
        state = {"params": params}
        if hasattr(self, "encoder_"):
            state["fitted"] = {
                "encoder": _tree_to_numpy(self.encoder_.state_dict()),
                "input_shape": list(self.input_shape_),
                "device": str(self.device_),
            }
        return state

    @classmethod
    def _from_safe_state(cls, state):
        """The extractor :meth:`_get_safe_state` described."""
        params = dict(state["params"])
        if hasattr(params["weights"], "items"):
            params["weights"] = _tree_to_torch(params["weights"])
        extractor = cls(**params)
        fitted = state.get("fitted")
        if fitted is not None:
            weights = _tree_to_torch(fitted["encoder"])
            _, base_channels, num_layers = _architecture(weights)
            device = _load_device(fitted["device"], cls.__name__)
            extractor._set_encoder(
                tuple(fitted["input_shape"]), base_channels, num_layers, weights, device
            )
        return extractor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _tree_to_numpy(value):
    """Tensors in nested dicts and lists as CPU numpy arrays."""
    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {key: _tree_to_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tree_to_numpy(item) for item in value)
    return value


def _tree_to_torch(value):
    """The inverse of :func:`_tree_to_numpy` (arrays copied into tensors)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value))
    if isinstance(value, dict):
        return {key: _tree_to_torch(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tree_to_torch(item) for item in value)
    return value


def _load_device(name, estimator_name):
    """The fitted device when available after unpickling, else the CPU."""
    device = torch.device(name)
    if device.type == "cuda" and (
        not torch.cuda.is_available()
        or (device.index or 0) >= torch.cuda.device_count()
    ):
        warnings.warn(
            f"{estimator_name} was fitted on {name}, which this machine does not "
            "have; it runs on the CPU instead.",
            UserWarning,
            stacklevel=3,
        )
        return torch.device("cpu")
    return device


def encode(module, X, batch_size, device):
    """Run ``module`` over ``X`` in batches without gradients; float32 numpy."""
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            # torch.from_numpy rejects negative strides and warns on read-only
            # arrays (joblib memmaps the data of parallel workers read-only):
            # copy such a batch, share the memory of any other.
            batch = np.require(X[start : start + batch_size], requirements="CW")
            batch = torch.from_numpy(batch).to(device)
            outputs.append(module(batch).cpu().numpy())
    return np.concatenate(outputs).astype(np.float32, copy=False)
