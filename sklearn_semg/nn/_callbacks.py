"""Training callbacks: checkpoints (saving, resuming) and epoch bookkeeping.

Saving and resuming are separate callbacks, as skorch's ``Checkpoint`` and
``LoadInitState``: :class:`TrainingCheckpoint` marks the best epochs and
writes the files of a run folder, :class:`ResumeCheckpoint` restores one
checkpoint at the start of training. Which run folder a fit writes in is
decided by :func:`claim_run_dir`.

File names inside a run folder (the reference notebook's names):

``best_model.pt``
    Written when the validation accuracy reaches a new best.
``checkpoint_epoch_{N}.pt``
    Written every ``every`` epochs (``N`` counts from 1).
``final_model.pt``
    Written when training ends after a complete epoch.

Each file is one ``torch.save`` dictionary: ``epoch`` (completed epochs),
``module_state_dict``, ``optimizer_state_dict``, ``scheduler_state_dict``,
``history`` (skorch's per-epoch records), ``best_valid_acc``,
``torch_rng_state`` and ``cuda_rng_state`` (the CPU and, when training on a
GPU, the CUDA random states, so that a resumed run continues exactly; the
latter is None on the CPU), ``generator_states`` (the states of the
classifier's own generators of batch order and augmentation, by name),
``classes``, ``module_params`` and ``early_stopping``. Every write goes
through :func:`sklearn_semg.utils._io.atomic_write`: a temporary file in the
same folder, renamed over the target (``os.replace``, atomic on POSIX and
Windows), so an interrupted save never leaves a truncated checkpoint in place
of a good one; a resumed run deletes the temporary files that a killed
process left in its run folder.
"""

import errno
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler, PrintLog
from skorch.history import History

__all__ = [
    "BEST",
    "EpochProgress",
    "PlainPrintLog",
    "RecordBest",
    "FINAL",
    "ResumeCheckpoint",
    "TrainingCheckpoint",
    "claim_run_dir",
    "find_checkpoint",
    "load_checkpoint",
    "periodic_name",
]

BEST = "best_model.pt"
FINAL = "final_model.pt"
_PERIODIC = re.compile(r"^checkpoint_epoch_(\d+)\.pt$")


def periodic_name(epoch):
    """File name of the periodic checkpoint after ``epoch`` epochs."""
    return f"checkpoint_epoch_{epoch}.pt"


def _plain(value):
    """History values as plain Python types (torch.load(weights_only=True))."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    return str(obj)


def atomic_torch_save(obj, path):
    """``torch.save`` through :func:`~sklearn_semg.utils._io.atomic_write`: a
    temporary file beside ``path``, renamed into place, with the permissions
    of every other output. torch's own failure to write (``RuntimeError:
    [enforce fail at inline_container.cc...]`` on a full disk) becomes an
    ``OSError`` that names the file."""
    from ..utils._io import atomic_write

    def write(f):
        try:
            torch.save(obj, f)
        except RuntimeError as exc:
            raise OSError(
                errno.EIO, f"torch could not write the checkpoint ({exc})", str(path)
            ) from exc

    return atomic_write(Path(path), write)


def load_checkpoint(path):
    """Load a checkpoint file on the CPU (safe ``weights_only`` loading)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def _periodic_checkpoints(run_dir):
    found = []
    for entry in Path(run_dir).iterdir():
        match = _PERIODIC.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    return sorted(found)


def _newest_usable(run_dir):
    """The checkpoint of ``run_dir`` with the most epochs that loads: periodic
    ones first on a tie (same state, written first), then final, then best;
    a damaged file is skipped for the next one."""
    candidates = [(epoch, 0, path) for epoch, path in _periodic_checkpoints(run_dir)]
    for rank, name in ((1, FINAL), (2, BEST)):
        if (run_dir / name).exists():
            try:
                epoch = load_checkpoint(run_dir / name)["epoch"]
            except Exception:  # damaged: not a candidate
                continue
            candidates.append((epoch, rank, run_dir / name))
    for _, _, path in sorted(candidates, key=lambda c: (-c[0], c[1])):
        try:
            load_checkpoint(path)
        except Exception:
            continue
        return path
    raise FileNotFoundError(
        f"resume_from='last': no usable checkpoint_epoch_N.pt, {FINAL} or {BEST} "
        f"in {run_dir}."
    )


def find_checkpoint(run_dir, which):
    """Path of checkpoint ``which`` inside ``run_dir``.

    ``which`` is ``"best"``, ``"final"``, ``"last"`` (the latest periodic
    checkpoint, or ``final`` when it is more recent), or an epoch number.
    """
    run_dir = Path(run_dir)
    if which == "best":
        path = run_dir / BEST
    elif which == "final":
        path = run_dir / FINAL
    elif which == "last":
        path = _newest_usable(run_dir)
    else:
        path = run_dir / periodic_name(int(which))
    if not path.exists():
        available = sorted(p.name for p in run_dir.glob("*.pt"))
        raise FileNotFoundError(
            f"resume_from={which!r}: {path} does not exist; checkpoints in "
            f"{run_dir}: {available or 'none'}."
        )
    return path


def run_fingerprint(net, X, y):
    """Hash of the training set and of the parameters that shape training.

    Two fits with the same fingerprint train the same model, so a resumed fit
    (even inside GridSearchCV) finds the folder of its interrupted twin, while
    parallel fits on other folds or parameters never share a folder.
    """
    ignored = {
        "checkpoint_dir",
        "checkpoint_every",
        "resume_from",
        "max_epochs",
        "verbose",
        "progress",
        "device",
        "callbacks",
    }
    # skorch's get_params also lists private attributes: its own
    # ``_params_to_validate`` and the ``_parent_callback_ctx`` that
    # scikit-learn >= 1.9 sets per GridSearchCV task. They are no training
    # parameters, and the latter would give each task its own fingerprint.
    params = {
        k: v
        for k, v in net.get_params(deep=False).items()
        if k not in ignored and not k.startswith("_")
    }
    digest = hashlib.sha1()
    digest.update(repr(sorted((k, repr(v)) for k, v in params.items())).encode())
    digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:12]


def new_run_dir(root, fingerprint):
    """Create ``root/run-{fingerprint}-{k}`` with the first free ``k``.

    ``os.mkdir`` fails when the folder exists, so two processes can never
    claim the same folder.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    k = 0
    while True:
        candidate = root / f"run-{fingerprint}-{k}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            k += 1


def latest_run_dir(root, fingerprint):
    """The most recent run folder of ``fingerprint`` under ``root``, or None."""
    runs = []
    for entry in Path(root).glob(f"run-{fingerprint}-*"):
        suffix = entry.name.rsplit("-", 1)[-1]
        if entry.is_dir() and suffix.isdigit():
            runs.append((int(suffix), entry))
    return max(runs)[1] if runs else None


def claim_run_dir(root, fingerprint, resumed_from=None):
    """The run folder a fit writes its checkpoints in.

    The folder of the checkpoint the fit resumed from, when that folder is a
    run folder directly under ``root`` (the temporary files of saves that a
    killed process cut short are deleted first: the resumed fit takes the
    folder over, no other writer owns them); a new run folder
    ``root/run-{fingerprint}-{k}`` otherwise.

    Parameters
    ----------
    root : str or path-like
        The ``checkpoint_dir``.
    fingerprint : callable
        Returns the fingerprint of the fit (see :func:`run_fingerprint`);
        called only when a new folder is needed.
    resumed_from : path-like or None, default=None
        The checkpoint file the fit resumed from.

    Returns
    -------
    run_dir : pathlib.Path
    """
    if resumed_from is not None and _is_run_dir_of(Path(resumed_from).parent, root):
        run_dir = Path(resumed_from).parent
        _remove_stale_temporaries(run_dir)
        return run_dir
    return new_run_dir(root, fingerprint())


def _scheduler(net):
    for _, cb in net.callbacks_:
        if isinstance(cb, LRScheduler) and hasattr(cb, "lr_scheduler_"):
            return cb.lr_scheduler_
    return None


def _callback_of_type(net, kind):
    for _, cb in getattr(net, "callbacks_", []):
        if isinstance(cb, kind):
            return cb
    return None


class RecordBest(Callback):
    """Mark the epochs that reach a new best validation accuracy (``best``).

    Parameters
    ----------
    monitor : str, default="valid_acc"
        History key to maximise (``"train_acc"`` when there is no validation
        split).

    The epoch table shows the mark as ``+``. :class:`TrainingCheckpoint`
    extends it to save ``best_model.pt`` on those epochs.
    """

    def __init__(self, monitor="valid_acc"):
        self.monitor = monitor

    def initialize(self):
        self.best_valid_acc_ = -np.inf
        return self

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1].get(self.monitor)
        is_best = score is not None and score > self.best_valid_acc_
        if is_best:
            self.best_valid_acc_ = float(score)
        net.history.record("best", bool(is_best))


class TrainingCheckpoint(RecordBest):
    """Save best, periodic and final checkpoints in a run folder.

    Every fit writes under its own folder ``dirname/run-{fingerprint}-{k}``
    (see :ref:`run_folders`), created atomically, so parallel fits of a
    ``GridSearchCV`` never write the same file. A fit that a
    ``ResumeCheckpoint`` callback (placed before this one) resumed goes on
    writing in the run folder of its checkpoint when that folder is under
    ``dirname``, and in a new run folder under ``dirname`` otherwise. The
    folder is the net's ``checkpoint_path_``. Resuming is not this
    callback's job (as in skorch, where ``Checkpoint`` saves and
    ``LoadInitState`` loads).

    Parameters
    ----------
    dirname : str or path-like
        Root folder of the run folders.
    every : int or None, default=5
        Save ``checkpoint_epoch_{N}.pt`` every ``every`` epochs; None saves
        no periodic checkpoint.
    monitor : str, default="valid_acc"
        History key whose new maximum writes ``best_model.pt``.

    Attributes
    ----------
    run_dir_ : pathlib.Path
        The run folder written in.
    resumed_from_ : pathlib.Path or None
        The checkpoint the run continues (restored by ``ResumeCheckpoint``).
    best_valid_acc_ : float
        Best monitored score so far.
    """

    def __init__(self, dirname, every=5, monitor="valid_acc"):
        super().__init__(monitor=monitor)
        self.dirname = dirname
        self.every = every

    def initialize(self):
        super().initialize()
        self.run_dir_ = None
        self.resumed_from_ = None
        self.started_ = False
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.started_:  # partial_fit of a run in progress
            return
        self.started_ = True
        resume = _callback_of_type(net, ResumeCheckpoint)
        self.resumed_from_ = None if resume is None else resume.resumed_from_
        self.run_dir_ = claim_run_dir(
            self.dirname, lambda: run_fingerprint(net, X, y), self.resumed_from_
        )
        net.checkpoint_path_ = self.run_dir_

    def _state(self, net):
        scheduler = _scheduler(net)
        cuda = _cuda_index(net)
        return {
            "epoch": len(net.history),
            "module_state_dict": {
                k: v.detach().cpu() for k, v in net.module_.state_dict().items()
            },
            "optimizer_state_dict": _to_cpu(net.optimizer_.state_dict()),
            "scheduler_state_dict": _plain(scheduler.state_dict())
            if scheduler is not None
            else None,
            "history": _plain(net.history.to_list()),
            "best_valid_acc": float(self.best_valid_acc_),
            "torch_rng_state": torch.get_rng_state(),
            "cuda_rng_state": None if cuda is None else torch.cuda.get_rng_state(cuda),
            "generator_states": {
                name: generator.get_state()
                for name, generator in _generators(net).items()
            },
            "classes": [str(c) for c in net.classes_],
            "module_params": _plain(net.get_params_for("module")),
            "early_stopping": _early_stopping_state(net),
        }

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        epoch = len(net.history)
        state = None
        if net.history[-1, "best"]:
            state = self._state(net)
            atomic_torch_save(state, self.run_dir_ / BEST)
        if self.every and epoch % self.every == 0:
            atomic_torch_save(
                state or self._state(net), self.run_dir_ / periodic_name(epoch)
            )

    def on_train_end(self, net, **kwargs):
        # Only a completed training makes a final model. After a
        # KeyboardInterrupt, the last completed epoch is kept as a periodic
        # checkpoint to resume from ("last"); an epoch cut in the middle is
        # lost.
        if not (len(net.history) and "dur" in net.history[-1]):
            return
        if getattr(net, "_interrupted_", False):
            path = self.run_dir_ / periodic_name(len(net.history))
            if not path.exists():
                atomic_torch_save(self._state(net), path)
            return
        atomic_torch_save(self._state(net), self.run_dir_ / FINAL)


class ResumeCheckpoint(Callback):
    """Restore a checkpoint at the start of training (skorch's
    ``LoadInitState`` for the files of :class:`TrainingCheckpoint`).

    Restores the network parameters, the optimizer and LR-scheduler states,
    the history (so the epoch count continues), the best score so far, the
    state of ``EarlyStopping``, the torch random states and the net's own
    random generators; checks that the classes are the same. It writes
    nothing: a :class:`TrainingCheckpoint` after it picks up the run folder.
    Place it after the LR scheduler and early-stopping callbacks, whose own
    ``on_train_begin`` resets what it restores.

    Parameters
    ----------
    resume_from : {"best", "final", "last"}, int, str or path-like
        A name or epoch number, looked up in the latest run folder of the same
        model and data under ``dirname``; or the path of a checkpoint file or
        of a run folder (its latest checkpoint).
    dirname : str, path-like or None, default=None
        Root folder of the run folders; needed for a name or epoch number.

    Attributes
    ----------
    resumed_from_ : pathlib.Path or None
        The checkpoint file restored.
    """

    def __init__(self, resume_from, dirname=None):
        self.resume_from = resume_from
        self.dirname = dirname

    def initialize(self):
        self.resumed_from_ = None
        self.started_ = False
        return self

    def _resume_path(self, fingerprint):
        which = self.resume_from
        if isinstance(which, (str, os.PathLike)) and which not in (
            "best",
            "final",
            "last",
        ):
            path = Path(which)
            if path.is_dir():
                return find_checkpoint(path, "last")
            if path.is_file():
                return path
            raise FileNotFoundError(
                f"resume_from={os.fspath(which)!r} is neither 'best', 'final', "
                "'last', an epoch number, a checkpoint file nor a run folder."
            )
        fingerprint = fingerprint()
        run_dir = None
        if self.dirname is not None and Path(self.dirname).is_dir():
            run_dir = latest_run_dir(self.dirname, fingerprint)
        if run_dir is None:
            raise FileNotFoundError(
                f"resume_from={which!r}: no earlier run of this model and data "
                f"under {os.fspath(self.dirname)!r} (looked for run-{fingerprint}-*). "
                "Pass the path of a checkpoint file or run folder instead."
            )
        return find_checkpoint(run_dir, which)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.started_:  # partial_fit of a run in progress
            return
        self.started_ = True
        path = self._resume_path(lambda: run_fingerprint(net, X, y))
        _restore(net, path)
        self.resumed_from_ = Path(path)


def _restore(net, path):
    """Load the checkpoint ``path`` into ``net`` (see ResumeCheckpoint)."""
    state = load_checkpoint(path)
    expected = [str(c) for c in net.classes_]
    if state.get("classes") is not None and state["classes"] != expected:
        raise ValueError(
            f"Checkpoint {path} was trained on classes {state['classes']}, but "
            f"y has classes {expected}; expected the same classes to resume."
        )
    try:
        net.module_.load_state_dict(state["module_state_dict"])
    except RuntimeError as exc:
        raise ValueError(
            f"Checkpoint {path} does not fit this network (module parameters "
            f"{state.get('module_params')}): {exc}"
        ) from exc
    net.optimizer_.load_state_dict(state["optimizer_state_dict"])
    scheduler = _scheduler(net)
    if scheduler is not None and state.get("scheduler_state_dict"):
        scheduler.load_state_dict(state["scheduler_state_dict"])
    net.history = History(state["history"])
    _restore_best_scores(net)
    if state.get("torch_rng_state") is not None:
        torch.set_rng_state(state["torch_rng_state"])
    cuda = _cuda_index(net)
    if cuda is not None and state.get("cuda_rng_state") is not None:
        torch.cuda.set_rng_state(state["cuda_rng_state"], cuda)
    generators = _generators(net)
    for name, generator_state in (state.get("generator_states") or {}).items():
        if name in generators:
            generators[name].set_state(generator_state)
    best = _callback_of_type(net, RecordBest)
    if best is not None:
        best.best_valid_acc_ = state.get("best_valid_acc", -np.inf)
    _restore_early_stopping(net, state.get("early_stopping"))


def _generators(net):
    """The net's own random generators by name (HHTCNNClassifier's batch
    order and augmentation), or none for another net."""
    generators = getattr(net, "_random_generators", None)
    return generators() if callable(generators) else {}


def _net_device(net):
    """The device the net computes on: its fitted ``device_`` (the device
    parameter may be "auto"), else the parameter."""
    device = getattr(net, "device_", None)
    return torch.device(net.device if device is None else device)


def _cuda_index(net):
    """Index of the CUDA device the net trains on, or None on another device."""
    device = _net_device(net)
    if device.type != "cuda":
        return None
    return device.index if device.index is not None else torch.cuda.current_device()


def _restore_best_scores(net):
    """Set the scoring callbacks' ``best_score_`` from the restored history.

    The scoring callbacks (``train_loss``, ``valid_loss``, ``valid_acc``,
    ``train_acc``) ran their ``on_train_begin`` before the history was
    restored, so without this the first resumed epoch would always be marked
    a new best (``valid_acc_best``...), unlike in the uninterrupted run.
    """
    for _, cb in net.callbacks_:
        if not hasattr(cb, "best_score_") or not hasattr(cb, "lower_is_better"):
            continue
        name = getattr(cb, "name_", None) or getattr(cb, "name", None)
        if not isinstance(name, str):
            continue
        best = np.inf if cb.lower_is_better else -np.inf
        for row in net.history:
            if row.get(f"{name}_best") and name in row:
                best = row[name]
        cb.best_score_ = best


def _is_run_dir_of(folder, root):
    """Whether ``folder`` is a run folder directly under ``root``."""
    try:
        return Path(folder).resolve().parent == Path(root).resolve()
    except OSError:
        return False


_TEMPORARY = re.compile(r"^\..+\.pt\..+\.tmp$")


def _early_stopping(net):
    from skorch.callbacks import EarlyStopping

    for _, callback in getattr(net, "callbacks_", []):
        if isinstance(callback, EarlyStopping):
            return callback
    return None


def _early_stopping_state(net):
    """What skorch's EarlyStopping has learned so far (its patience count, its
    threshold, the best weights kept for ``load_best``), or None."""
    callback = _early_stopping(net)
    if callback is None or not hasattr(callback, "misses_"):
        return None
    best = getattr(callback, "best_model_weights_", None)
    return {
        "misses": int(callback.misses_),
        "dynamic_threshold": None
        if callback.dynamic_threshold_ is None
        else float(callback.dynamic_threshold_),
        "best_epoch": int(getattr(callback, "best_epoch_", 0)),
        "best_model_weights": None
        if best is None
        else {k: v.detach().cpu() for k, v in best.items()},
    }


def _restore_early_stopping(net, state):
    """Give EarlyStopping (reset by its own on_train_begin, which runs before
    the checkpoint callback's) the state it had at the checkpoint."""
    callback = _early_stopping(net)
    if callback is None or state is None:
        return
    callback.misses_ = state["misses"]
    callback.dynamic_threshold_ = state["dynamic_threshold"]
    callback.best_epoch_ = state["best_epoch"]
    weights = state["best_model_weights"]
    if weights is not None:
        device = _net_device(net)
        weights = {k: v.to(device) for k, v in weights.items()}
    callback.best_model_weights_ = weights


def _remove_stale_temporaries(run_dir):
    """Delete the temporary files of saves cut short (a killed process).

    Only called when a resumed fit takes the run folder over, so no other
    writer can own them.
    """
    for entry in Path(run_dir).iterdir():
        if _TEMPORARY.match(entry.name):
            entry.unlink(missing_ok=True)


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class PlainPrintLog(PrintLog):
    """skorch's epoch table, without its colour codes when standard output is
    not a terminal (a log file or a pipe would keep them as ``\x1b[32m``)."""

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _isatty(sys.stdout):
            return _ANSI.sub("", text)
        return text


class EpochProgress(Callback):
    """A progress bar over the epochs of a fit (tqdm, on standard error), with
    the monitored score of the last epoch."""

    def __init__(self, monitor="valid_acc"):
        self.monitor = monitor

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        total = getattr(net, "max_epochs", None)
        self.bar_ = tqdm(
            total=total,
            initial=min(len(net.history), total or 0),
            desc="epochs",
            unit="epoch",
            file=sys.stderr,
            leave=False,
        )

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1].get(self.monitor)
        if score is not None:
            self.bar_.set_postfix({self.monitor: f"{score:.3f}"}, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
