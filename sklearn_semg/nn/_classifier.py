"""HHTCNNClassifier: the end-to-end CNN (method 2) as a skorch classifier."""

import contextlib
import functools
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn import get_config
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, ProgressBar
from skorch.dataset import ValidSplit
from skorch.history import History
from skorch.utils import to_device, to_numpy, to_tensor
from torch.utils.data import DataLoader

from ..utils._batches import chunk_rows, is_lazy_array, release_memory, row_batches
from ..utils._sklearn import (
    Interval,
    StrOptions,
    _fit_context,
    validate_parameter_constraints,
)
from ..utils._validation import check_label_types
from ._augment import AugmentedDataset, augment_params
from ._callbacks import (
    EpochProgress,
    PlainPrintLog,
    RecordBest,
    ResumeCheckpoint,
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
from ._modules import HHTCNN

__all__ = ["HHTCNNClassifier"]


def _constrained(fit_method):
    """Check ``_parameter_constraints`` (scikit-learn's messages) before
    ``fit_method``, when ``sklearn.base._fit_context`` would.

    ``_fit_context`` checks them through ``self._validate_params()``, but
    skorch's NeuralNet has a ``_validate_params`` of its own (the names of
    the ``prefix__`` arguments), which its ``set_params`` calls too, and
    ``set_params`` must not reject values (scikit-learn's convention). As in
    ``_fit_context``: skipped under ``skip_parameter_validation`` and by a
    ``partial_fit`` that continues training.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        continues = fit_method.__name__ == "partial_fit" and self._trained()
        if not continues and not get_config()["skip_parameter_validation"]:
            validate_parameter_constraints(
                self._parameter_constraints,
                self.get_params(deep=False),
                caller_name=type(self).__name__,
            )
        return fit_method(self, *args, **kwargs)

    return wrapper


def _check_labels_in(y, classes):
    """A ValueError naming the labels of ``y`` that are not ``classes``."""
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"y holds the label(s) {unknown.tolist()}, which are not among the "
            f"classes of the model {list(classes)}; pass every class to the "
            "first partial_fit (classes=...)."
        )


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
    checkpoint_every : int or None, default=5
        Period of the periodic checkpoints, in epochs; None writes none.
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
        The draws come from a ``torch.Generator`` seeded from
        ``random_state`` (with ``iterator_train__num_workers > 0``, each
        worker's own, seeded by the ``DataLoader``), never from the global
        torch random state.
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
        epochs, with the monitored score. The epoch table (``verbose``) drops
        its colour codes when standard output is not a terminal.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, dropout, the batch order
        (with ``iterator_train__shuffle=True``) and the augmentation. The
        weights and dropout draw from the global torch random state, which
        is saved before training and restored after it (``fit`` and
        ``partial_fit`` neither read nor change it); the batch order and
        the augmentation draw from ``torch.Generator`` objects of their own,
        which the ``DataLoader`` (``generator=``) and its workers use, so the
        same ``random_state`` gives the same model also with
        ``iterator_train__num_workers > 0`` (for a given number of workers:
        each worker draws the augmentation of its own batches). Training on
        the CPU is then reproducible bit for bit. None: the global torch
        random state is used, as in plain torch code (``torch.manual_seed``
        before ``fit`` makes it repeat).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when
        available, else the CPU). The device chosen is the fitted attribute
        ``device_``; the parameter stays as given, so a clone of a model
        fitted with ``"auto"`` chooses again on its machine. A model fitted
        on a GPU loads on a machine without one (skorch moves it to the CPU;
        an explicit ``"cuda"`` then reads ``"cpu"``).
    verbose : int, default=1
        1 prints the per-epoch table (train loss and accuracy, validation
        loss and accuracy, learning rate, ``+`` in ``best`` on a new best).
    **kwargs
        Other skorch parameters (``module__*``, ``optimizer__weight_decay``,
        ``iterator_train__*``, ``callbacks``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The original class labels (strings allowed): those of ``y``, or the
        ``classes`` given to the first ``partial_fit``.
    n_features_in_ : int
        ``C * H * W`` of the matrices seen at ``fit``.
    device_ : torch.device
        The device the network and its inputs are on (``device`` resolved).
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

    _parameter_constraints: dict = {
        "train_split": [StrOptions({"auto"}), callable, None],
        "lr_factor": [Interval(Real, 0, 1, closed="neither")],
        "lr_patience": [Interval(Integral, 0, None, closed="left")],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left"), None],
        "resume_from": [
            Interval(Integral, 1, None, closed="left"),
            str,
            os.PathLike,
            None,
        ],
        "augment": ["boolean", dict, None],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "on_interrupt": [StrOptions({"raise", "keep"})],
        "progress": ["boolean", StrOptions({"batches", "epochs"})],
        "random_state": ["random_state"],
        "device": [str, torch.device],
    }

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
        # skorch evaluates this property in set_params and get_params too:
        # accept anything here and leave the validation of parameters to fit.
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
        # Resuming and saving are two callbacks (skorch's LoadInitState and
        # Checkpoint); the resume comes after the LR scheduler and early
        # stopping, whose on_train_begin resets what it restores, and before
        # the checkpoint, which goes on writing in the run folder it resumed.
        # resume_from without checkpoint_dir (a checkpoint path): restore,
        # write nothing.
        if self.resume_from is not None:
            callbacks.append(
                (
                    "resume",
                    ResumeCheckpoint(self.resume_from, dirname=self.checkpoint_dir),
                )
            )
        if self.checkpoint_dir is not None:
            callbacks.append(
                (
                    "checkpoint",
                    TrainingCheckpoint(
                        self.checkpoint_dir,
                        every=self.checkpoint_every,
                        monitor=self._monitor,
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

    def _validate_params(self):
        # skorch's check of the names of the prefix__ arguments ("did you mean
        # module__...?") needs the module names that initialize() registers;
        # scikit-learn's _fit_context calls this method before fit, when they
        # are not known yet. (The _parameter_constraints: see _constrained.)
        if self._modules:
            super()._validate_params()

    def _check_param_values(self):
        """What the constraints cannot say: the keys and values of an
        ``augment`` dict, and that a named ``resume_from`` needs
        ``checkpoint_dir``."""
        augment_params(self.augment)
        if self.resume_from is not None and self.checkpoint_dir is None:
            if not isinstance(self.resume_from, (str, os.PathLike)) or (
                self.resume_from in ("best", "final", "last")
            ):
                raise ValueError(
                    f"resume_from={self.resume_from!r} needs checkpoint_dir (the "
                    "folder of earlier runs); set checkpoint_dir or pass the path "
                    "of a checkpoint file."
                )

    def _seed(self):
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # -- random generators ----------------------------------------------------
    def _new_generators(self):
        """The generators of the batch order and of the augmentation, seeded
        from ``random_state`` (from the global torch generator when it is
        None, as torch's own DataLoader does)."""
        if self._seed_ is None:
            seeds = [
                int(torch.empty((), dtype=torch.int64).random_().item())
                for _ in range(2)
            ]
        else:
            seeds = np.random.SeedSequence(self._seed_).generate_state(2, np.uint64)
        self._generators_ = {
            name: torch.Generator().manual_seed(int(seed))
            for name, seed in zip(("loader", "augment"), seeds, strict=True)
        }

    def _random_generators(self):
        """name -> torch.Generator of training (checkpointed with the torch
        random state, see :class:`~sklearn_semg.nn.TrainingCheckpoint`)."""
        if getattr(self, "_generators_", None) is None:
            self._seed_ = getattr(self, "_seed_", None)
            self._new_generators()
        return self._generators_

    @contextlib.contextmanager
    def _seeded(self):
        """Train on this model's own torch random stream (weights, dropout).

        The global generators (the CPU one, and the CUDA one of ``device_``)
        are saved, set to the stream (seeded from ``random_state`` at
        ``fit``; where the last training call left it afterwards, so that
        ``partial_fit`` continues it) and restored. ``random_state=None``
        trains on the global generators themselves.
        """
        if self._seed_ is None:
            yield
            return
        cuda = self.device_.type == "cuda"
        index = None
        if cuda:
            index = self.device_.index
            index = torch.cuda.current_device() if index is None else index
        with torch.random.fork_rng(devices=[index] if cuda else []):
            saved = getattr(self, "_torch_rng_state_", None)
            if saved is None:
                torch.default_generator.manual_seed(self._seed_)
                if cuda:
                    with torch.cuda.device(index):
                        torch.cuda.manual_seed(self._seed_)
            else:
                torch.set_rng_state(saved["cpu"])
                if cuda and saved.get("cuda") is not None:
                    torch.cuda.set_rng_state(saved["cuda"], index)
            try:
                yield
            finally:
                self._torch_rng_state_ = {
                    "cpu": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state(index) if cuda else None,
                }

    def get_iterator(self, dataset, training=False):
        """skorch's DataLoader, given this model's own random generator.

        The training loader (its shuffling, when
        ``iterator_train__shuffle=True``, and the seeds of its workers) draws
        from the ``"loader"`` generator, the augmentation from the
        ``"augment"`` one; other loaders from a fresh generator of their own
        (their only draw is a worker seed), so that no loader reads the
        global torch random state. An ``iterator_train__generator`` or
        ``iterator_valid__generator`` given by the user is kept.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        iterator = getattr(self, prefix)
        kwargs = self.get_params_for(prefix)
        if "batch_size" not in kwargs:
            kwargs["batch_size"] = self.batch_size
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        if training:
            params = augment_params(self.augment)
            if params:
                generator = self._random_generators()["augment"]
                dataset = AugmentedDataset(dataset, **params, generator=generator)
        if isinstance(iterator, type) and issubclass(iterator, DataLoader):
            kwargs.setdefault(
                "generator",
                self._random_generators()["loader"] if training else torch.Generator(),
            )
        return iterator(dataset, **kwargs)

    def get_split_datasets(self, X, y=None, **fit_params):
        if isinstance(self.train_split, str) and self.train_split == "auto":
            split = ValidSplit(0.2, stratified=True, random_state=self._seed_)
            dataset = self.get_dataset(X, y)
            return split(dataset, y, **fit_params)
        return super().get_split_datasets(X, y, **fit_params)

    # -- device -------------------------------------------------------------
    # The device parameter may be "auto"; the device chosen is device_. skorch
    # reads self.device where it moves modules and tensors, so these places
    # are overridden to use device_ (the parameter is never rewritten).
    def initialize(self):
        self.device_ = resolve_device(self.device)
        return super().initialize()

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        kwargs.update(getattr(self, "_inferred_module_params_", {}))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def _initialize_module(self, reason=None):
        return self._initialize_on_device("module", "_modules", reason)

    def _initialize_criterion(self, reason=None):
        return self._initialize_on_device("criterion", "_criteria", reason)

    def _initialize_on_device(self, kind, registry, reason):
        """skorch's ``_initialize_module`` / ``_initialize_criterion``, with
        the modules moved to ``device_`` rather than to ``self.device``.

        ``registry`` names the list of the module names (``_modules``,
        ``_criteria``), which ``initialize_{kind}`` fills on the first call:
        read it again after that.
        """
        with self._current_init_context(kind):
            kwargs = {}
            for name in getattr(self, registry):
                kwargs.update(self.get_params_for(name))
            has_init = any(
                isinstance(getattr(self, name + "_", None), torch.nn.Module)
                for name in getattr(self, registry)
            )
            if (kwargs or reason or has_init) and self.initialized_ and self.verbose:
                print(reason or self._format_reinit_msg(kind, kwargs))
            getattr(self, f"initialize_{kind}")()
            for name in getattr(self, registry):
                module = getattr(self, name + "_")
                if isinstance(module, torch.nn.Module):
                    module = to_device(module, self.device_)
                    setattr(self, name + "_", self.torch_compile(module, name=name))
        return self

    def infer(self, x, **fit_params):
        """The module's output on a batch, computed on ``device_``."""
        return self.module_(to_tensor(x, device=self.device_), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on a batch, with the targets on ``device_``."""
        y_true = to_tensor(y_true, device=self.device_)
        if isinstance(self.criterion_, torch.nn.NLLLoss):  # as skorch's
            y_pred = torch.log(y_pred + torch.finfo(y_pred.dtype).eps)
        return self.criterion_(y_pred, y_true)

    def __setstate__(self, state):
        # skorch maps the tensors to the device state["device"] names, or to
        # the CPU (with a DeviceWarning) when this machine lacks it, and sets
        # self.device to where they went. Name device_ instead of the
        # parameter (which may be "auto"); keep the parameter, unless it named
        # a device this machine lacks (skorch's behaviour: it reads "cpu").
        param = state.get("device")
        fitted = state.get("device_")
        if fitted is not None:
            target = str(fitted)
        else:
            target = "cpu" if param in ("auto", None) else param
        state["device"] = target
        super().__setstate__(state)
        placed = self.device
        if fitted is not None or getattr(self, "initialized_", False):
            self.device_ = torch.device(placed)
        self.device = param if param == "auto" or placed == target else str(placed)

    # -- data ---------------------------------------------------------------
    def _check_X(self, X, reset):
        if is_lazy_array(X):  # on disk or Dask: read a chunk of rows at a time
            return _LazyMatrices(
                X,
                estimator_name=type(self).__name__,
                expected_shape=None if reset else self.input_shape_,
            )
        X = check_image_batch(
            X,
            estimator_name=type(self).__name__,
            expected_shape=None if reset else self.input_shape_,
        )
        return np.require(X, requirements=["C", "W"])

    def _check_y(self, y, n_samples):
        name = type(self).__name__
        if y is None:
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None."
            )
        check_label_types(y, name)
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
        if len(y) != n_samples:
            raise ValueError(
                f"y has {len(y)} labels but X has {n_samples} matrices; expected one "
                "label per matrix."
            )
        check_classification_targets(y)
        return y

    def _label_encoder(self, y, classes):
        """LabelEncoder of the classes: those of ``y``, or ``classes``."""
        name = type(self).__name__
        if classes is None:
            encoder = LabelEncoder().fit(y)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"y has 1 class ({encoder.classes_.tolist()}); expected at "
                    "least 2 classes to train a classifier."
                )
            return encoder
        classes = column_or_1d(
            check_array(classes, ensure_2d=False, dtype=None, input_name="classes")
        )
        check_label_types(
            np.concatenate([classes.astype(object), y.astype(object)]), name
        )
        encoder = LabelEncoder().fit(classes)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"classes={encoder.classes_.tolist()} has 1 class; expected at "
                "least 2 classes to train a classifier."
            )
        _check_labels_in(y, encoder.classes_)
        return encoder

    @_constrained
    @_fit_context(prefer_skip_nested_validation=True)
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
        return self._fit(X, y, None, "fit", fit_params)

    def _fit(self, X, y, classes, routing, fit_params):
        self._check_param_values()
        X = self._check_X(X, reset=True)
        y = self._check_y(y, len(X))
        encoder = self._label_encoder(y, classes)
        y_enc = encoder.transform(y).astype(np.int64)
        self.device_ = resolve_device(self.device)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        channels, height, width = X.shape[1:]
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
        self._torch_rng_state_ = None
        self._new_generators()
        self._fit_for_total_epochs_ = True
        self._interrupted_ = False
        try:
            with self._seeded():
                if not self.warm_start or not self.initialized_:
                    self.initialize()
                # skorch's partial_fit, not ours: y is already encoded
                super().partial_fit(X, y_enc, _routing_method=routing, **fit_params)
        finally:
            self._fit_for_total_epochs_ = False
        return self._after_interrupt()

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

    def _trained(self):
        return getattr(self, "label_encoder_", None) is not None and self.initialized_

    @_constrained
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train ``max_epochs`` more epochs on ``(X, y)``.

        The first call (on an unfitted model) is a ``fit``, whose classes are
        ``classes`` when given (so that later batches may hold classes the
        first one lacks: the output layer has one unit per class), else those
        of ``y``. Later calls continue training the same network, optimizer
        and random streams.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            HHT matrices (shaped as at the first call, after it).
        y : array-like of shape (n,)
            Class labels, all among the classes of the model.
        classes : array-like of shape (n_classes,) or None, default=None
            All the classes, at the first call; later, None or the same.
        **fit_params
            Passed to skorch.

        Returns
        -------
        self : HHTCNNClassifier
        """
        if not self._trained():
            return self._fit(X, y, classes, "partial_fit", fit_params)
        X = self._check_X(X, reset=False)
        y = self._check_y(y, len(X))
        if classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()} is not the classes of the "
                f"first call to partial_fit, {self.classes_.tolist()}; pass the same "
                "classes, or none."
            )
        _check_labels_in(y, self.classes_)
        y_enc = self.label_encoder_.transform(y).astype(np.int64)
        self._interrupted_ = False
        with self._seeded():
            super().partial_fit(X, y_enc, **fit_params)
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

    @property
    def classes_(self):
        return self.label_encoder_.classes_

    def _predict_proba(self, X):
        # skorch's predict_proba, with the device of the outputs given:
        # skorch's cached predictions (EpochScoring) default to self.device.
        nonlin = self._get_predict_nonlinearity()
        y_probas = []
        for yp in self.forward_iter(X, training=False, device="cpu"):
            yp = yp[0] if isinstance(yp, tuple) else yp
            y_probas.append(to_numpy(nonlin(yp)))
        return np.concatenate(y_probas, 0)

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
            return self._predict_proba(X)
        return self._predict_proba(self._check_X(X, reset=False))

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


class _LazyMatrices:
    """Matrices of a Zarr or Dask array, as the ``X`` of a skorch Dataset.

    Item ``i`` is read with the chunk of rows that holds it; that chunk is
    checked (:func:`check_image_batch`) and kept until an item outside it is
    asked for, so the sequential batches of training (unshuffled) and of
    prediction read every chunk once, and memory holds one chunk.
    """

    def __init__(self, X, *, estimator_name, expected_shape=None):
        self.X = X
        self.estimator_name = estimator_name
        first = next(row_batches(X, rows=1), None)
        if first is None:
            first = check_image_batch(
                X[:0], estimator_name=estimator_name, expected_shape=expected_shape
            )
        else:
            first = check_image_batch(
                first, estimator_name=estimator_name, expected_shape=expected_shape
            )
        self.shape = (int(X.shape[0]), *first.shape[1:])
        self.expected_shape = self.shape[1:]
        self._step = chunk_rows(X)
        self._start, self._chunk = 0, first[:0]

    def __len__(self):
        return self.shape[0]

    def _load(self, i):
        start = (i // self._step) * self._step
        # drop the previous chunk (a view of it would keep it), give its
        # memory back, then read the next one
        self._chunk = np.empty((0, *self._chunk.shape[1:]), self._chunk.dtype)
        release_memory()
        batch = next(row_batches(self.X[start : start + self._step], rows=self._step))
        self._chunk = np.require(
            check_image_batch(
                batch,
                estimator_name=self.estimator_name,
                expected_shape=self.expected_shape,
            ),
            requirements=["C", "W"],
        )
        self._start = start

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            i = int(i) + (len(self) if i < 0 else 0)
            if not self._start <= i < self._start + len(self._chunk):
                self._load(i)
            return self._chunk[i - self._start]
        indices = np.arange(len(self))[i]
        return np.stack([self[int(j)] for j in indices])

    def __getstate__(self):
        # worker processes read their own chunks
        state = dict(self.__dict__)
        state["_start"], state["_chunk"] = 0, self._chunk[:0]
        return state
