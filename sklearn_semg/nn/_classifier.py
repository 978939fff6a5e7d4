"""HHTCNNClassifier: the end-to-end CNN (method 2) as a skorch classifier."""

import contextlib
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, ProgressBar
from skorch.dataset import ValidSplit
from skorch.history import History

from ..utils._validation import check_label_types
from ._augment import AugmentedDataset, augment_params
from ._callbacks import (
    EpochProgress,
    PlainPrintLog,
    RecordBest,
    TrainingCheckpoint,
    _plain,
)
from ._device import resolve_device
from ._extractor import (
    _load_device,
    _tree_to_numpy,
    _tree_to_torch,
    check_image_batch,
)
from ._modules import HHTCNN, check_input_size

__all__ = ["HHTCNNClassifier"]


class HHTCNNClassifier(NeuralNetClassifier):
    """End-to-end CNN on HHT matrices (encoder + head trained together).

    A skorch :class:`~skorch.NeuralNetClassifier` whose module is
    :class:`~sklearn_semg.nn.HHTCNN`: the encoder of
    :class:`~sklearn_semg.CNNFeatureExtractor` followed by ``Dropout(p) ->
    Linear(n_features, 128) -> ReLU -> Dropout(p) -> Linear(128, n_classes)``.
    ``in_channels``, ``n_classes`` (and the input height, for
    ``pooling="time"``) are inferred from the data at ``fit``; the other module
    parameters are set as ``module__base_channels``, ``module__num_layers``,
    ``module__dropout``, ``module__pooling``. The defaults are the reference
    notebook's: Adam, ``lr=1e-3``, ``batch_size=16``, 50 epochs,
    cross-entropy, a stratified 20 % validation split and
    ``ReduceLROnPlateau(mode="max", factor=0.5, patience=5)`` on the
    validation accuracy.

    Parameters
    ----------
    module : type, default=HHTCNN
        The network class.
    criterion, optimizer, lr, max_epochs, batch_size
        As in skorch, with the reference defaults.
    train_split : "auto", callable or None, default="auto"
        ``"auto"``: a stratified 20 % validation split seeded by
        ``random_state``. Any skorch ``train_split`` otherwise (``None``: no
        validation, then neither the LR schedule nor the best checkpoint can
        follow the validation accuracy).
    lr_factor, lr_patience : float, int, default=0.5, 5
        ``ReduceLROnPlateau`` settings on ``valid_acc``.
    checkpoint_dir : str, path-like or None, default=None
        ``None`` writes nothing. Otherwise every fit writes under its own
        folder ``checkpoint_dir/run-{fingerprint}-{k}`` (the fitted attribute
        ``checkpoint_path_``): ``best_model.pt`` on each new best validation
        accuracy, ``checkpoint_epoch_{N}.pt`` every ``checkpoint_every``
        epochs and ``final_model.pt`` at the end (see
        :ref:`checkpoint_files` for their content). Writes are
        atomic. Parallel fits (``GridSearchCV(n_jobs=2)``) never share a
        folder.
    checkpoint_every : int, default=5
        Period of the periodic checkpoints, in epochs.
    resume_from : None, {"best", "final", "last"}, int, str or path-like, \
            default=None
        Continue training from a checkpoint: ``"best"``, ``"final"``,
        ``"last"`` (the latest, e.g. after an interruption) or an epoch number,
        looked up in the latest run of the same model and data under
        ``checkpoint_dir``; or the path of a checkpoint file or run folder.
        Parameters, optimizer, LR-scheduler state, history and random state
        are restored and the epoch count continues: ``max_epochs`` is the
        total (50 means "train until epoch 50"). The resumed fit writes on
        in the checkpoint's run folder when it lies under ``checkpoint_dir``,
        in a new run folder under ``checkpoint_dir`` otherwise, and nowhere
        when ``checkpoint_dir`` is None (a path is then required).
    augment : None, bool or dict, default=None
        Training-time augmentation of the matrices (never applied to
        validation or prediction): ``True`` for the defaults
        ``{"time_shift": 0.1, "amplitude_scale": 0.2, "channel_gain": 0.1}``
        (largest circular time shift as a fraction of the time bins; standard
        deviations of the log of a global and of a per-channel gain), or a
        dict with some of these keys. What changes between recordings of the
        same movement: when, how strong, how well each electrode couples.
    early_stopping : int or None, default=None
        Stop when the monitored accuracy (validation, or training without a
        split) has not improved for this many epochs, and keep the best
        weights (skorch ``EarlyStopping(load_best=True)``).
    on_interrupt : {"raise", "keep"}, default="raise"
        What a ``KeyboardInterrupt`` (Ctrl-C) during training does.
        ``"raise"``: training stops after skorch's clean-up (the checkpoints of
        completed epochs stay on disk, the last one as a periodic checkpoint
        to resume from, never as ``final_model.pt``) and the interrupt
        propagates, so ``fit``, ``cross_val_score`` and ``GridSearchCV`` never
        return or score a half-trained model. ``"keep"``: skorch's own
        behaviour, opted into explicitly: training stops, ``fit`` returns the
        partly trained model, with a ``UserWarning`` saying after how many
        epochs.
    progress : bool, "epochs" or "batches", default=False
        ``True`` or ``"batches"``: a progress bar over the batches of each
        epoch (skorch's ``ProgressBar``). ``"epochs"``: one bar over the
        epochs, with the monitored score. The epoch table (``verbose``) drops its colour codes
        when standard output is not a terminal.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, the shuffling and dropout.
        The global torch random state is saved before ``fit`` and restored
        after it, so seeding never leaks. Training on the CPU is then
        reproducible bit for bit.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (replaced at
        initialisation by the device chosen). A model fitted on a GPU loads
        on a machine without one (skorch moves it to the CPU).
    verbose : int, default=1
        1 prints the per-epoch table (train loss and accuracy, validation
        loss and accuracy, learning rate, ``+`` in ``best`` on a new best).
    **kwargs
        Other skorch parameters (``module__*``, ``optimizer__weight_decay``,
        ``iterator_train__*``, ``callbacks``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The original class labels (strings allowed).
    module_ : HHTCNN
        The trained network; ``module_.encoder`` can feed
        :meth:`CNNFeatureExtractor.from_classifier`.
    history_ : skorch.history.History
        Per-epoch records (``train_loss``, ``train_acc``, ``valid_loss``,
        ``valid_acc``, ``lr``, ``best``, ``dur``).
    checkpoint_path_ : pathlib.Path
        Folder of this fit's checkpoints (only with ``checkpoint_dir``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_semg import HHTCNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 1, 16, 16), dtype=np.float32)
    >>> y = np.array(["M_full", "F_half"] * 10)
    >>> net = HHTCNNClassifier(max_epochs=2, module__base_channels=4,
    ...                        random_state=0, verbose=0).fit(X, y)
    >>> sorted(net.classes_.tolist()), net.predict(X[:3]).shape
    (['F_half', 'M_full'], (3,))
    """

    def __init__(
        self,
        module=HHTCNN,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=50,
        batch_size=16,
        train_split="auto",
        lr_factor=0.5,
        lr_patience=5,
        checkpoint_dir=None,
        checkpoint_every=5,
        resume_from=None,
        augment=None,
        early_stopping=None,
        on_interrupt="raise",
        progress=False,
        random_state=None,
        device="cpu",
        verbose=1,
        **kwargs,
    ):
        self.lr_factor = lr_factor
        self.lr_patience = lr_patience
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.resume_from = resume_from
        self.augment = augment
        self.early_stopping = early_stopping
        self.on_interrupt = on_interrupt
        self.progress = progress
        self.random_state = random_state
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            device=device,
            verbose=verbose,
            **kwargs,
        )

    # -- configuration ------------------------------------------------------
    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        printer = [("print_log", PlainPrintLog())]
        callbacks = [cb for cb in callbacks if cb[0] != "print_log"]
        callbacks += [
            (
                "train_acc",
                EpochScoring(
                    "accuracy", name="train_acc", on_train=True, lower_is_better=False
                ),
            ),
            (
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                    monitor=self._monitor,
                    mode="max",
                    factor=self.lr_factor,
                    patience=self.lr_patience,
                    event_name="lr",
                ),
            ),
        ]
        # skorch evaluates this property in set_params too: accept anything
        # here and leave the validation of parameters to fit.
        if isinstance(self.early_stopping, Integral) and self.early_stopping > 0:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=self._monitor,
                        patience=int(self.early_stopping),
                        lower_is_better=False,
                        load_best=True,
                    ),
                )
            )
        # resume_from without checkpoint_dir (a checkpoint path): the callback
        # restores it and writes nothing.
        if self.checkpoint_dir is not None or self.resume_from is not None:
            callbacks.append(
                (
                    "checkpoint",
                    TrainingCheckpoint(
                        self.checkpoint_dir,
                        monitor=self._monitor,
                        every=self.checkpoint_every,
                        resume_from=self.resume_from,
                    ),
                )
            )
        else:
            callbacks.append(("best", RecordBest(monitor=self._monitor)))
        if self.progress is True or (
            isinstance(self.progress, str) and self.progress == "batches"
        ):
            callbacks.append(("progress", ProgressBar()))
        elif isinstance(self.progress, str) and self.progress == "epochs":
            callbacks.append(("progress", EpochProgress(monitor=self._monitor)))
        return callbacks + printer

    @property
    def _monitor(self):
        # Without a validation split, follow the training accuracy.
        return "train_acc" if self.train_split is None else "valid_acc"

    def _seed(self):
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def get_iterator(self, dataset, training=False):
        params = augment_params(self.augment) if training else None
        if params:
            dataset = AugmentedDataset(dataset, **params)
        return super().get_iterator(dataset, training=training)

    def get_split_datasets(self, X, y=None, **fit_params):
        if isinstance(self.train_split, str) and self.train_split == "auto":
            split = ValidSplit(0.2, stratified=True, random_state=self._seed_)
            dataset = self.get_dataset(X, y)
            return split(dataset, y, **fit_params)
        return super().get_split_datasets(X, y, **fit_params)

    def initialize(self):
        if isinstance(self.device, str) and self.device == "auto":
            self.device = str(resolve_device("auto"))
        else:
            resolve_device(self.device)
        if self.resume_from is not None and self.checkpoint_dir is None:
            if not isinstance(self.resume_from, (str, os.PathLike)) or (
                self.resume_from in ("best", "final", "last")
            ):
                raise ValueError(
                    f"resume_from={self.resume_from!r} needs checkpoint_dir (the "
                    "folder of earlier runs); set checkpoint_dir or pass the path "
                    "of a checkpoint file."
                )
        return super().initialize()

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        kwargs.update(getattr(self, "_inferred_module_params_", {}))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    # -- data ---------------------------------------------------------------
    def _check_X(self, X, reset):
        X = check_image_batch(
            X,
            estimator_name=type(self).__name__,
            expected_shape=None if reset else self.input_shape_,
        )
        return np.require(X, requirements=["C", "W"])

    def fit(self, X, y, **fit_params):
        """Train the network (from scratch, or from ``resume_from``).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices.
        y : array-like of shape (n,)
            Class labels (strings allowed).
        **fit_params
            Passed to skorch.

        Returns
        -------
        self : HHTCNNClassifier
            Fitted classifier.
        """
        augment_params(self.augment)  # a clear error before any work
        if self.early_stopping is not None and (
            not isinstance(self.early_stopping, Integral) or self.early_stopping < 1
        ):
            raise ValueError(
                "The 'early_stopping' parameter must be None or a patience in "
                f"epochs (an int >= 1); got {self.early_stopping!r}."
            )
        X = self._check_X(X, reset=True)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        check_label_types(y, type(self).__name__)
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
        if len(y) != len(X):
            raise ValueError(
                f"y has {len(y)} labels but X has {len(X)} matrices; expected one "
                "label per matrix."
            )
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({encoder.classes_.tolist()}); expected at least 2 "
                "classes to train a classifier."
            )
        y_enc = encoder.transform(y).astype(np.int64)
        _, channels, height, width = X.shape
        check_input_size(
            height,
            width,
            self.get_params_for("module").get("num_layers", 3),
            param_name="module__num_layers",
        )
        self.label_encoder_ = encoder
        self.input_shape_ = (channels, height, width)
        # Private state ends in "_": skorch's get_params lists every other
        # instance attribute as a parameter (and clone would copy it).
        self._inferred_module_params_ = {
            "in_channels": channels,
            "n_classes": len(encoder.classes_),
            "input_height": height,
        }
        self._seed_ = self._seed()
        self._fit_for_total_epochs_ = True
        self._check_on_interrupt()
        try:
            with self._seeded():
                if not self.warm_start or not self.initialized_:
                    self.initialize()
                # skorch's partial_fit, not ours: y is already encoded
                super().partial_fit(X, y_enc, _routing_method="fit", **fit_params)
        finally:
            self._fit_for_total_epochs_ = False
        return self._after_interrupt()

    def _check_on_interrupt(self):
        if self.on_interrupt not in ("raise", "keep"):
            raise ValueError(
                "The 'on_interrupt' parameter of HHTCNNClassifier must be 'raise' "
                f"or 'keep'; got {self.on_interrupt!r}."
            )
        self._interrupted_ = False

    def _after_interrupt(self):
        """skorch's partial_fit swallows a KeyboardInterrupt: raise it again
        (``on_interrupt="raise"``) or warn (``"keep"``)."""
        if not self._interrupted_:
            return self
        done = len(self.history)
        message = (
            f"{type(self).__name__}: training interrupted after {done} completed "
            f"epoch(s) of max_epochs={self.max_epochs}"
        )
        if self.on_interrupt == "keep":
            warnings.warn(
                f"{message}; keeping the partly trained model (on_interrupt='keep').",
                UserWarning,
                stacklevel=3,
            )
            return self
        raise KeyboardInterrupt(message)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        if getattr(self, "label_encoder_", None) is None or not self.initialized_:
            return self.fit(X, y, **fit_params)
        X = self._check_X(X, reset=False)
        y_enc = self.label_encoder_.transform(np.asarray(y)).astype(np.int64)
        self._check_on_interrupt()
        super().partial_fit(X, y_enc, classes=classes, **fit_params)
        return self._after_interrupt()

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        if epochs is None and getattr(self, "_fit_for_total_epochs_", False):
            # max_epochs is a total: a resumed fit trains the remaining epochs.
            epochs = max(self.max_epochs - len(self.history), 0)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # skorch's EarlyStopping ends training this way too: that one is a
            # normal end. A user's interrupt, which skorch's partial_fit
            # swallows (after on_train_end), is noted so fit raises it again.
            stopper = dict(self.callbacks_).get("early_stopping")
            early_end = stopper is not None and stopper.misses_ == stopper.patience
            self._interrupted_ = not early_end
            raise

    @contextlib.contextmanager
    def _seeded(self):
        if self._seed_ is None:
            yield
            return
        # resolve_device, not torch.device: "auto" is not resolved yet here,
        # and a bad value must give the documented ValueError.
        device = resolve_device(self.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self._seed_)
            yield

    @property
    def classes_(self):
        return self.label_encoder_.classes_

    def predict_proba(self, X):
        """Class probabilities (softmax of the network output).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices shaped as at ``fit``.

        Returns
        -------
        proba : ndarray of shape (n, n_classes), float32
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "label_encoder_")
        if isinstance(X, torch.utils.data.Dataset):  # skorch's own scoring
            return super().predict_proba(X)
        return super().predict_proba(self._check_X(X, reset=False))

    def predict(self, X):
        """Predicted class labels (the original labels, not indices).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices shaped as at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n,)
        """
        check_is_fitted(self, "label_encoder_")
        if isinstance(X, torch.utils.data.Dataset):
            # skorch's epoch scoring compares with the encoded targets
            return super().predict(X)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``(X, y)`` (see :func:`sklearn.metrics.accuracy_score`)."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    # -- safe model files ---------------------------------------------------
    def _get_safe_state(self):
        """Parameters and fitted state as plain values, numpy arrays and
        scikit-learn objects, for :func:`sklearn_semg.save_model` (no pickle).

        The network, criterion and optimizer states are kept, so a loaded
        classifier predicts identically and trains on with ``warm_start`` or
        ``partial_fit`` from the same optimizer state; the callbacks start
        afresh, as after skorch's ``load_params``.
        """
        params = self.get_params(deep=False)
        classes = {}
        for key, value in list(params.items()):
            if isinstance(value, os.PathLike):  # a folder: plain text
                params[key] = os.fspath(value)
            elif isinstance(value, type):
                name = f"{value.__module__}.{value.__qualname__}"
                if name not in _param_classes():
                    raise TypeError(
                        f"The {key!r} parameter of {type(self).__name__} ({name}) "
                        "cannot be stored in a safe model file, which names only "
                        f"{sorted(_param_classes())}; save this model with joblib."
                    )
                classes[key] = params.pop(key) and name
        state = {"params": params, "classes": classes}
        if getattr(self, "label_encoder_", None) is not None and self.initialized_:
            state["fitted"] = {
                "label_encoder": self.label_encoder_,
                "input_shape": list(self.input_shape_),
                "n_features_in": int(self.n_features_in_),
                "inferred_module_params": dict(self._inferred_module_params_),
                "seed": self._seed_,
                "module": _tree_to_numpy(self.module_.state_dict()),
                "criterion": _tree_to_numpy(self.criterion_.state_dict()),
                "optimizer": _tree_to_numpy(self.optimizer_.state_dict()),
                "history": _plain(self.history_.to_list()),
            }
        return state

    @classmethod
    def _from_safe_state(cls, state):
        """The classifier :meth:`_get_safe_state` described."""
        params = dict(state["params"])
        for key, name in state["classes"].items():
            if name not in _param_classes():
                raise ValueError(
                    f"its {key!r} parameter names the class {name!r}, which is not "
                    f"one a model file may name ({sorted(_param_classes())})"
                )
            params[key] = _param_classes()[name]
        # Folders named by the file are not written to or read from later
        # (a later fit would write checkpoints there): set them again.
        paths = {k: params[k] for k in ("checkpoint_dir", "resume_from") if params[k]}
        if paths:
            warnings.warn(
                f"{cls.__name__}: the saved {paths} are not restored from a model "
                "file (a later fit would write or read there); set them again with "
                "set_params to keep checkpointing.",
                UserWarning,
                stacklevel=4,
            )
            params.update(dict.fromkeys(paths))
        net = cls(**params)
        fitted = state.get("fitted")
        if fitted is None:
            return net
        if net.device != "auto":
            device = _load_device(str(net.device), cls.__name__)
            if device != torch.device(net.device):
                net.set_params(device=str(device))
        net.label_encoder_ = fitted["label_encoder"]
        net.input_shape_ = tuple(fitted["input_shape"])
        net.n_features_in_ = fitted["n_features_in"]
        net._inferred_module_params_ = dict(fitted["inferred_module_params"])
        net._seed_ = fitted["seed"]
        net._fit_for_total_epochs_ = False
        net._interrupted_ = False
        # The network that the parameters describe, built without memory (on
        # the meta device), must match the saved weights before the real one
        # is allocated: a forged file cannot ask for a huge network.
        with torch.device("meta"):
            probe = net.initialized_instance(
                net.module,
                {**net.get_params_for("module"), **net._inferred_module_params_},
            )
        expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
        saved = {k: tuple(np.shape(v)) for k, v in fitted["module"].items()}
        if expected != saved:
            raise ValueError(
                "the network its parameters describe does not match its saved weights"
            )
        # initialize() draws initial weights from the global torch generator;
        # they are replaced right after, and the caller's generator is kept.
        with torch.random.fork_rng(devices=[]):
            net.initialize()
        net.module_.load_state_dict(_tree_to_torch(fitted["module"]))
        net.criterion_.load_state_dict(_tree_to_torch(fitted["criterion"]))
        net.optimizer_.load_state_dict(_optimizer_state(fitted["optimizer"]))
        net.history_ = History(fitted["history"])
        return net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags


def _param_classes():
    """Classes a safe model file may name as parameters (by these names)."""
    from skorch.dataset import Dataset

    classes = (
        HHTCNN,
        torch.nn.CrossEntropyLoss,
        torch.optim.Adam,
        torch.optim.AdamW,
        torch.optim.SGD,
        torch.utils.data.DataLoader,
        Dataset,
    )
    return {f"{c.__module__}.{c.__qualname__}": c for c in classes}


def _optimizer_state(saved):
    """An optimizer state dict read back from a model file: the per-parameter
    states keyed by int again (skops keeps them; this also accepts strings)."""
    state = _tree_to_torch(saved)
    state["state"] = {int(key): value for key, value in state["state"].items()}
    return state
