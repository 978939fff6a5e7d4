"""Checkpoints of HHTCNNClassifier: files, resume, interruptions, atomic
writes, parallel fits and pickling.

Tiny seeded 16x16 matrices and 4-channel networks: each fit takes well under
a second, the parallel tests a few seconds (worker start-up).
"""

import os
import pickle
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_val_score
from skorch.callbacks import Callback
from small import SMALL_NET

from sklearn_semg import HHTCNNClassifier, make_end_to_end_pipeline
from sklearn_semg.nn import _callbacks
from sklearn_semg.nn._callbacks import (
    BEST,
    FINAL,
    RecordBest,
    ResumeCheckpoint,
    TrainingCheckpoint,
    _plain,
    find_checkpoint,
    load_checkpoint,
    periodic_name,
)

KW = dict(SMALL_NET, random_state=0)
RUN = re.compile(r"^run-([0-9a-f]{12})-(\d+)$")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_matrices(n=40, size=16, seed=0):
    rng = np.random.default_rng(seed)
    y_idx = np.arange(n) % 2
    X = 0.3 * rng.random((n, 1, size, size), dtype=np.float32)
    X[y_idx == 1, :, : size // 2] += 0.5
    return X, np.array(["F_half", "M_full"])[y_idx]


def net(**params):
    return HHTCNNClassifier(**{**KW, **params})


def files(folder):
    return sorted(os.listdir(folder))  # hidden files (temporaries) included


def temporaries(root):
    return [p for p in Path(root).rglob("*") if p.name.endswith(".tmp")]


def assert_nested_equal(a, b, where="state"):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        assert torch.equal(torch.as_tensor(a), torch.as_tensor(b)), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            assert_nested_equal(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b, strict=True)):
            assert_nested_equal(x, z, f"{where}[{i}]")
    else:
        assert a == b, where


def assert_same_weights(net_a, net_b):
    assert_nested_equal(net_a.module_.state_dict(), net_b.module_.state_dict())


def scheduler_of(fitted):
    return fitted.callbacks_[[n for n, _ in fitted.callbacks_].index("lr_scheduler")][
        1
    ].lr_scheduler_


def checkpoint_callback(fitted):
    return dict(fitted.callbacks_)["checkpoint"]


def history_without_durations(history):
    rows = _plain(history.to_list() if hasattr(history, "to_list") else history)
    return [
        {k: v for k, v in row.items() if k not in ("dur", "batches")} for row in rows
    ]


class CountEpochs(Callback):
    def initialize(self):
        self.epochs_run_ = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_run_ += 1


class InterruptAt(Callback):
    """Raise KeyboardInterrupt (Ctrl+C) after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch=1):
        self.epoch = epoch
        self.batch = batch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            if len(net.history[-1]["batches"]) >= self.batch:
                raise KeyboardInterrupt


# -- no checkpoint_dir --------------------------------------------------------
def test_no_checkpoint_dir_writes_nothing(tmp_path, monkeypatch):
    X, y = make_matrices()
    # torch itself creates its compile cache folder (torchinductor_$USER) in
    # the temporary folder when torch._dynamo is first imported (the first
    # optimizer step); that import happens here, before the check.
    net(max_epochs=1).fit(X, y)
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    fitted = net(max_epochs=3, checkpoint_every=1).fit(X, y)
    assert files(cwd) == [] and files(tmp) == []
    assert not hasattr(fitted, "checkpoint_path_")
    assert "checkpoint" not in dict(fitted.callbacks_)
    # the best-epoch mark is still recorded
    assert fitted.history[0, "best"] is True


# -- files and their content --------------------------------------------------
def test_checkpoint_files_names_and_content(tmp_path):
    X, y = make_matrices()
    root = tmp_path / "ckpt"
    fitted = net(max_epochs=5, checkpoint_dir=root, checkpoint_every=2).fit(X, y)
    run = fitted.checkpoint_path_
    assert run.parent == root and RUN.match(run.name)
    assert files(root) == [run.name]
    # the documented names (module docstring of _callbacks and the estimator's)
    assert (BEST, FINAL, periodic_name(4)) == (
        "best_model.pt",
        "final_model.pt",
        "checkpoint_epoch_4.pt",
    )
    for name in ("best_model.pt", "checkpoint_epoch_{N}.pt", "final_model.pt"):
        assert name in _callbacks.__doc__ and name in HHTCNNClassifier.__doc__
    assert files(run) == [BEST, "checkpoint_epoch_2.pt", "checkpoint_epoch_4.pt", FINAL]
    assert temporaries(root) == []

    history = _plain(fitted.history.to_list())
    final = load_checkpoint(run / FINAL)
    assert final["epoch"] == 5
    assert_nested_equal(final["module_state_dict"], fitted.module_.state_dict())
    assert_nested_equal(final["optimizer_state_dict"], fitted.optimizer_.state_dict())
    assert final["scheduler_state_dict"] == _plain(scheduler_of(fitted).state_dict())
    assert final["history"] == history
    assert final["classes"] == ["F_half", "M_full"]
    assert final["module_params"] == {"base_channels": 4, "num_layers": 2}

    for epoch in (2, 4):
        periodic = load_checkpoint(run / periodic_name(epoch))
        assert periodic["epoch"] == epoch
        assert periodic["history"] == history[:epoch]

    best = load_checkpoint(run / BEST)
    best_epochs = [row["epoch"] for row in history if row["best"]]
    assert best["epoch"] == best_epochs[-1]
    assert best["best_valid_acc"] == max(fitted.history[:, "valid_acc"])
    assert best["history"] == history[: best["epoch"]]
    if best["epoch"] < 5:  # the best weights are not the final ones
        assert best["module_state_dict"].keys() == final["module_state_dict"].keys()


def test_checkpointing_does_not_change_training(tmp_path):
    X, y = make_matrices()
    plain = net(max_epochs=3).fit(X, y)
    saved = net(max_epochs=3, checkpoint_dir=tmp_path, checkpoint_every=1).fit(X, y)
    assert_same_weights(plain, saved)


# -- resume ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def four_epoch_run(tmp_path_factory):
    """A 4-epoch run with periodic checkpoints at 2 and 4 and LR reductions."""
    root = tmp_path_factory.mktemp("four_epochs")
    X, y = make_matrices()
    params = dict(lr=0.05, lr_patience=0, checkpoint_every=2)
    fitted = net(max_epochs=4, checkpoint_dir=root, **params).fit(X, y)
    return root, fitted.checkpoint_path_.name, X, y, params, fitted


def copy_run(four_epoch_run, tmp_path):
    root, run_name, *_ = four_epoch_run
    copy = tmp_path / "ckpt"
    shutil.copytree(root, copy)
    return copy, copy / run_name


@pytest.mark.parametrize(
    "which, expected",
    [
        ("best", BEST),
        (2, "checkpoint_epoch_2.pt"),
        ("final", FINAL),
        ("last", "checkpoint_epoch_4.pt"),  # the latest; as recent as final
        ("file", "checkpoint_epoch_2.pt"),
        ("folder", "checkpoint_epoch_4.pt"),
    ],
)
def test_resume_restores_params_optimizer_scheduler_and_history(
    four_epoch_run, tmp_path, which, expected
):
    *_, X, y, params, _ = four_epoch_run
    root, run = copy_run(four_epoch_run, tmp_path)
    resume_from = {"file": run / "checkpoint_epoch_2.pt", "folder": run}.get(
        which, which
    )
    state = load_checkpoint(run / expected)
    # max_epochs equal to the checkpoint's epochs: nothing more is trained, so
    # the net holds exactly what was restored.
    resumed = net(
        max_epochs=state["epoch"],
        checkpoint_dir=root,
        resume_from=resume_from,
        **params,
    )
    resumed.fit(X, y)
    assert checkpoint_callback(resumed).resumed_from_ == run / expected
    assert_nested_equal(resumed.module_.state_dict(), state["module_state_dict"])
    assert_nested_equal(resumed.optimizer_.state_dict(), state["optimizer_state_dict"])
    assert _plain(scheduler_of(resumed).state_dict()) == state["scheduler_state_dict"]
    assert _plain(resumed.history.to_list()) == state["history"]
    assert checkpoint_callback(resumed).best_valid_acc_ == state["best_valid_acc"]
    # the scenario restores a reduced learning rate, not the initial one
    if state["epoch"] == 4:
        assert resumed.optimizer_.param_groups[0]["lr"] < 0.05
    assert resumed.checkpoint_path_ == run  # goes on writing in its run folder
    assert [p.name for p in root.iterdir()] == [run.name]


def test_max_epochs_is_a_total_on_resume(four_epoch_run, tmp_path):
    *_, X, y, params, first = four_epoch_run
    root, run = copy_run(four_epoch_run, tmp_path)
    resumed = net(
        max_epochs=6,
        checkpoint_dir=root,
        resume_from="final",
        callbacks=[("count", CountEpochs())],
        **params,
    ).fit(X, y)
    assert dict(resumed.callbacks_)["count"].epochs_run_ == 2
    assert resumed.history[:, "epoch"] == [1, 2, 3, 4, 5, 6]
    assert resumed.history[:4, "dur"] == first.history[:, "dur"]  # restored rows
    assert load_checkpoint(run / FINAL)["epoch"] == 6
    assert "checkpoint_epoch_6.pt" in files(run)


def test_resume_from_a_path_without_checkpoint_dir_restores_and_writes_nothing(
    four_epoch_run, tmp_path, monkeypatch
):
    *_, X, y, params, first = four_epoch_run
    root, run = copy_run(four_epoch_run, tmp_path)
    before = {name: (run / name).read_bytes() for name in files(run)}
    monkeypatch.chdir(tmp_path)
    resumed = net(
        max_epochs=5,
        resume_from=run / "checkpoint_epoch_2.pt",
        callbacks=[("count", CountEpochs())],
        **params,
    ).fit(X, y)
    assert dict(resumed.callbacks_)["count"].epochs_run_ == 3
    assert resumed.history[:2, "dur"] == first.history[:2, "dur"]
    assert {name: (run / name).read_bytes() for name in files(run)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_resume_errors_name_the_problem(four_epoch_run, tmp_path):
    *_, X, y, params, _ = four_epoch_run
    root, run = copy_run(four_epoch_run, tmp_path)
    with pytest.raises(ValueError, match="needs checkpoint_dir"):
        net(max_epochs=5, resume_from="last").fit(X, y)
    with pytest.raises(FileNotFoundError, match="checkpoint_epoch_3.pt does not exist"):
        net(max_epochs=5, checkpoint_dir=root, resume_from=3, **params).fit(X, y)
    with pytest.raises(
        FileNotFoundError, match="no earlier run of this model and data"
    ):
        net(max_epochs=5, checkpoint_dir=root, resume_from="last", **params).fit(
            X[:-2], y[:-2]
        )
    with pytest.raises(ValueError, match="trained on classes"):
        net(max_epochs=5, resume_from=run / FINAL, **params).fit(
            X, np.where(y == "M_full", "M_half", y)
        )


def test_resumed_run_equals_the_uninterrupted_run(tmp_path):
    """6 epochs in one go == 3 epochs, then resumed to 6 (RNG state restored)."""
    X, y = make_matrices()
    params = dict(lr=0.02, lr_patience=1, checkpoint_every=3)  # dropout 0.5
    full = net(max_epochs=6, checkpoint_dir=tmp_path / "full", **params).fit(X, y)
    part = net(max_epochs=3, checkpoint_dir=tmp_path / "part", **params).fit(X, y)
    resumed = net(
        max_epochs=6, checkpoint_dir=tmp_path / "part", resume_from="last", **params
    ).fit(X, y)
    assert len(part.history) == 3
    assert checkpoint_callback(resumed).resumed_from_.name == periodic_name(3)
    assert_same_weights(full, resumed)
    assert_nested_equal(full.optimizer_.state_dict(), resumed.optimizer_.state_dict())
    np.testing.assert_array_equal(full.predict_proba(X), resumed.predict_proba(X))
    assert history_without_durations(full.history) == history_without_durations(
        resumed.history
    )
    for name in (FINAL, BEST, periodic_name(6)):
        a = load_checkpoint(full.checkpoint_path_ / name)
        b = load_checkpoint(resumed.checkpoint_path_ / name)
        assert_nested_equal(a["module_state_dict"], b["module_state_dict"], name)


def test_saving_and_resuming_are_separate_callbacks(four_epoch_run, tmp_path):
    """TrainingCheckpoint saves, ResumeCheckpoint restores (as skorch's
    Checkpoint and LoadInitState); the saver goes on in the resumed folder."""
    *_, X, y, params, _ = four_epoch_run
    root, run = copy_run(four_epoch_run, tmp_path)
    saving = net(max_epochs=1, checkpoint_dir=tmp_path / "new").fit(X, y)
    names = [name for name, _ in saving.callbacks_]
    assert "resume" not in names
    assert type(dict(saving.callbacks_)["checkpoint"]) is TrainingCheckpoint

    resumed = net(max_epochs=4, checkpoint_dir=root, resume_from=2, **params)
    resumed.fit(X, y)
    callbacks = dict(resumed.callbacks_)
    names = [name for name, _ in resumed.callbacks_]
    # restored after the scheduler and early stopping reset, before the saver
    assert names.index("lr_scheduler") < names.index("resume")
    assert names.index("resume") < names.index("checkpoint")
    assert isinstance(callbacks["resume"], ResumeCheckpoint)
    assert not isinstance(callbacks["resume"], RecordBest)
    assert callbacks["resume"].resumed_from_ == run / periodic_name(2)
    assert callbacks["checkpoint"].resumed_from_ == run / periodic_name(2)
    assert resumed.checkpoint_path_ == run

    only = net(max_epochs=2, resume_from=run / periodic_name(2), **params).fit(X, y)
    names = [name for name, _ in only.callbacks_]
    assert "resume" in names and "best" in names and "checkpoint" not in names


def test_resume_continues_the_shuffling_and_augmentation_generators(tmp_path):
    """The batch order (iterator_train__shuffle) and the augmentation draw
    from the classifier's own generators: their states are checkpointed, so
    3 epochs resumed to 6 equal 6 in one go."""
    X, y = make_matrices()
    params = dict(
        lr=0.02,
        checkpoint_every=3,
        augment=True,
        iterator_train__shuffle=True,
        iterator_train__batch_size=8,
    )
    full = net(max_epochs=6, checkpoint_dir=tmp_path / "full", **params).fit(X, y)
    net(max_epochs=3, checkpoint_dir=tmp_path / "part", **params).fit(X, y)
    resumed = net(
        max_epochs=6, checkpoint_dir=tmp_path / "part", resume_from="last", **params
    ).fit(X, y)
    state = load_checkpoint(full.checkpoint_path_ / periodic_name(3))
    assert set(state["generator_states"]) == {"loader", "augment"}
    assert_same_weights(full, resumed)
    assert history_without_durations(full.history) == history_without_durations(
        resumed.history
    )


def test_checkpoints_get_normal_permissions_without_touching_the_umask(
    tmp_path, monkeypatch
):
    """Checkpoints are written through the package's one atomic_write, with
    0666 less the umask applied by the system: the process-wide umask is
    neither read nor changed (os.umask would do both, for every thread)."""
    X, y = make_matrices()
    umask = os.umask(0o027)
    os.umask(0o027)
    try:

        def no_umask(mask):
            raise AssertionError("os.umask called while writing checkpoints")

        monkeypatch.setattr(os, "umask", no_umask)
        fitted = net(max_epochs=2, checkpoint_dir=tmp_path, checkpoint_every=1)
        fitted.fit(X, y)
        monkeypatch.undo()
    finally:
        os.umask(umask)
    for path in fitted.checkpoint_path_.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert stat.S_IMODE(fitted.checkpoint_path_.stat().st_mode) == 0o750


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_resume_continues_the_cuda_random_state_and_loads_on_cpu(tmp_path):
    X, y = make_matrices()
    params = dict(lr=0.02, checkpoint_every=3, device="cuda")  # dropout 0.5
    full = net(max_epochs=6, checkpoint_dir=tmp_path / "full", **params).fit(X, y)
    net(max_epochs=3, checkpoint_dir=tmp_path / "part", **params).fit(X, y)
    resumed = net(
        max_epochs=6, checkpoint_dir=tmp_path / "part", resume_from="last", **params
    ).fit(X, y)
    state = load_checkpoint(full.checkpoint_path_ / FINAL)
    assert state["cuda_rng_state"] is not None
    # cuDNN kernels may round differently from run to run: close, not equal
    np.testing.assert_allclose(
        full.predict_proba(X), resumed.predict_proba(X), atol=1e-4
    )
    # a CUDA run's checkpoint resumes on the CPU
    on_cpu = net(
        max_epochs=6,
        resume_from=full.checkpoint_path_ / FINAL,
        **{**params, "device": "cpu"},
    ).fit(X, y)
    np.testing.assert_allclose(
        on_cpu.predict_proba(X), full.predict_proba(X), atol=1e-4
    )


# -- interruptions ----------------------------------------------------------------
def test_keyboard_interrupt_mid_epoch_then_resume_from_last(tmp_path):
    X, y = make_matrices()
    root = tmp_path / "ckpt"
    params = dict(checkpoint_dir=root, checkpoint_every=2)
    interrupted = net(
        max_epochs=5, callbacks=[("interrupt", InterruptAt(epoch=4))], **params
    )
    with pytest.raises(KeyboardInterrupt, match="after 4 completed epoch"):
        interrupted.fit(X, y)  # the interrupt propagates after skorch's clean-up
    assert len(interrupted.history) == 4 and "dur" not in interrupted.history[-1]
    run = interrupted.checkpoint_path_
    # epoch 4 never completed: no checkpoint_epoch_4.pt and no final model
    assert files(run) == [BEST, "checkpoint_epoch_2.pt"]

    resumed = net(
        max_epochs=5,
        resume_from="last",
        callbacks=[("count", CountEpochs())],
        **params,
    ).fit(X, y)
    assert checkpoint_callback(resumed).resumed_from_ == run / "checkpoint_epoch_2.pt"
    assert dict(resumed.callbacks_)["count"].epochs_run_ == 3
    assert resumed.history[:, "epoch"] == [1, 2, 3, 4, 5]
    assert load_checkpoint(run / FINAL)["epoch"] == 5
    assert_same_weights(resumed, net(max_epochs=5).fit(X, y))


def test_interrupt_between_epochs_keeps_the_last_epoch_to_resume_from(tmp_path):
    """Ctrl-C right after an epoch: that epoch is saved as a periodic
    checkpoint (never as final_model.pt), and resuming equals the
    uninterrupted run."""
    X, y = make_matrices()
    root = tmp_path / "ckpt"

    class InterruptAfter(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 3:
                raise KeyboardInterrupt

    interrupted = net(
        max_epochs=5,
        checkpoint_dir=root,
        checkpoint_every=10,
        callbacks=[("interrupt", InterruptAfter())],
    )
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, y)
    run = interrupted.checkpoint_path_
    assert FINAL not in files(run) and "checkpoint_epoch_3.pt" in files(run)
    resumed = net(max_epochs=5, checkpoint_dir=root, resume_from="last").fit(X, y)
    assert resumed.history[:, "epoch"] == [1, 2, 3, 4, 5]
    assert_same_weights(resumed, net(max_epochs=5).fit(X, y))


def test_on_interrupt_keep_is_skorch_behaviour_with_a_warning():
    X, y = make_matrices()
    kept = net(
        max_epochs=5,
        on_interrupt="keep",
        callbacks=[("interrupt", InterruptAt(epoch=3))],
    )
    with pytest.warns(UserWarning, match=r"after 3 completed epoch.*'keep'"):
        assert kept.fit(X, y) is kept
    assert len(kept.history) == 3
    with pytest.raises(ValueError, match="'on_interrupt' parameter"):
        net(max_epochs=1, on_interrupt="ignore").fit(X, y)


def test_cross_val_score_never_scores_an_interrupted_fit():
    from sklearn.model_selection import cross_val_score

    X, y = make_matrices()
    with pytest.raises(KeyboardInterrupt):
        cross_val_score(
            net(max_epochs=5, callbacks=[("interrupt", InterruptAt(epoch=2))]),
            X,
            y,
            cv=2,
        )


def test_resume_with_early_stopping_equals_the_uninterrupted_run(tmp_path):
    """EarlyStopping's patience count, threshold and kept best weights are
    checkpointed: interrupted + resumed trains the same epochs and ends with
    the same weights as one run, with augmentation and the LR schedule."""
    X, y = make_matrices(n=60, seed=3)
    kw = dict(
        max_epochs=40, early_stopping=3, augment=True, lr=0.02, checkpoint_every=1
    )
    whole = net(**kw).fit(X, y)
    stopped = len(whole.history)
    assert stopped < 40  # early stopping did stop it
    misses = [not row["valid_acc_best"] for row in whole.history]
    # interrupt after an epoch that did not improve: patience partly used
    at = max(e for e in range(1, stopped) if misses[e - 1])

    class InterruptAfter(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == at:
                raise KeyboardInterrupt

    root = tmp_path / "ckpt"
    first = net(checkpoint_dir=root, callbacks=[("stop", InterruptAfter())], **kw)
    with pytest.raises(KeyboardInterrupt):
        first.fit(X, y)
    resumed = net(checkpoint_dir=root, resume_from="last", **kw).fit(X, y)
    assert len(resumed.history) == stopped
    assert resumed.history[:, "valid_acc"] == whole.history[:, "valid_acc"]
    assert_same_weights(resumed, whole)


def test_resume_from_last_falls_back_to_the_newest_usable_file(tmp_path):
    X, y = make_matrices()
    root = tmp_path / "ckpt"
    run = net(max_epochs=4, checkpoint_dir=root, checkpoint_every=2).fit(X, y)
    folder = run.checkpoint_path_
    # the newest file is damaged: the next newest is used
    (folder / FINAL).write_bytes(b"not a checkpoint")
    again = net(max_epochs=4, checkpoint_dir=root, resume_from="last").fit(X, y)
    assert checkpoint_callback(again).resumed_from_.name in (
        "checkpoint_epoch_4.pt",
        BEST,
    )
    # only best_model.pt left: resume from it
    for name in files(folder):
        if name != BEST:
            (folder / name).unlink()
    (folder / ".final_model.pt.abc.tmp").write_bytes(b"stale")
    best_epoch = load_checkpoint(folder / BEST)["epoch"]
    last = net(max_epochs=4, checkpoint_dir=root, resume_from="last").fit(X, y)
    assert checkpoint_callback(last).resumed_from_ == folder / BEST
    assert len(last.history) == 4 and best_epoch <= 4
    assert not temporaries(root)  # stale temporaries removed


def test_killed_process_then_resume_in_this_process(tmp_path):
    X, y = make_matrices()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    root = tmp_path / "ckpt"
    code = textwrap.dedent(
        f"""
        import numpy as np, torch
        torch.set_num_threads(1)
        from sklearn_semg import HHTCNNClassifier
        X = np.load({str(tmp_path / "X.npy")!r})
        y = np.load({str(tmp_path / "y.npy")!r})
        HHTCNNClassifier(max_epochs=100000, checkpoint_dir={str(root)!r},
                         checkpoint_every=1, **{KW!r}).fit(X, y)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not list(root.glob(f"run-*/{periodic_name(2)}")):
            if proc.poll() is not None:
                pytest.fail(f"training process ended early: {proc.stderr.read()!r}")
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint_epoch_2.pt within 120 s")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    (run,) = root.iterdir()
    assert FINAL not in files(run)
    last_epoch = load_checkpoint(find_checkpoint(run, "last"))["epoch"]
    assert last_epoch >= 2

    resumed = net(
        max_epochs=last_epoch + 2,
        checkpoint_dir=root,
        checkpoint_every=1,
        resume_from="last",
        callbacks=[("count", CountEpochs())],
    ).fit(X, y)
    assert dict(resumed.callbacks_)["count"].epochs_run_ == 2
    assert resumed.checkpoint_path_ == run
    assert resumed.history[:, "epoch"] == list(range(1, last_epoch + 3))
    assert load_checkpoint(run / FINAL)["epoch"] == last_epoch + 2
    assert temporaries(root) == []  # a save cut by the kill is cleaned up
    # the same result as a run that was never killed
    assert_same_weights(resumed, net(max_epochs=last_epoch + 2).fit(X, y))


# -- atomic writes ------------------------------------------------------------------
def test_a_failing_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    X, y = make_matrices()
    root = tmp_path / "ckpt"
    first = net(max_epochs=2, checkpoint_dir=root, checkpoint_every=1).fit(X, y)
    run = first.checkpoint_path_
    before = {name: (run / name).read_bytes() for name in files(run)}
    assert set(before) == {
        BEST,
        FINAL,
        "checkpoint_epoch_1.pt",
        "checkpoint_epoch_2.pt",
    }

    real_save = torch.save
    calls = []

    def disk_full(obj, f, *args, **kwargs):
        calls.append(obj["epoch"])
        f.write(b"PK\x03\x04 half a checkpoint")  # part of the file...
        raise OSError(28, "No space left on device")  # ...then the disk is full

    monkeypatch.setattr(_callbacks.torch, "save", disk_full)
    # no periodic checkpoint in epochs 3-4: every save overwrites best or final
    with pytest.raises(OSError, match="No space left on device"):
        net(
            max_epochs=4, checkpoint_dir=root, checkpoint_every=100, resume_from="final"
        ).fit(X, y)
    monkeypatch.setattr(_callbacks.torch, "save", real_save)
    assert len(calls) == 1  # the error is raised, not swallowed
    assert {name: (run / name).read_bytes() for name in files(run)} == before
    assert temporaries(root) == []
    for name in before:
        assert load_checkpoint(run / name)["epoch"] in (1, 2)


# -- parallel fits and pickling ----------------------------------------------------------
def run_folders(root):
    folders = sorted(Path(root).iterdir())
    assert all(RUN.match(f.name) for f in folders)
    return folders


def assert_one_writer_per_folder(folder, expected_epochs):
    """A folder written by one fit: every file is a prefix of its final history."""
    final = load_checkpoint(folder / FINAL)
    assert final["epoch"] in expected_epochs
    periodic = sorted(
        int(m.group(1))
        for m in map(re.compile(r"checkpoint_epoch_(\d+)").match, files(folder))
        if m
    )
    assert periodic == list(range(1, final["epoch"] + 1))
    for epoch in periodic:
        assert (
            load_checkpoint(folder / periodic_name(epoch))["history"]
            == final["history"][:epoch]
        )
    return final


def test_grid_search_n_jobs_2_gives_every_fit_its_own_folder(tmp_path):
    X, y = make_matrices()
    root = tmp_path / "ckpt"
    search = GridSearchCV(
        net(checkpoint_dir=root, checkpoint_every=1),
        {"max_epochs": [2, 3]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    folders = run_folders(root)
    assert len(folders) == 2 * 2 + 1  # 2 candidates x 2 folds + the refit
    epochs = [assert_one_writer_per_folder(f, {2, 3})["epoch"] for f in folders]
    expected = Counter({2: 2, 3: 2})
    expected[search.best_params_["max_epochs"]] += 1  # the refit
    assert Counter(epochs) == expected
    # max_epochs does not enter the fingerprint: the two candidates of a fold
    # share one and still got two folders (k = 0 and 1), created atomically.
    by_fingerprint = Counter(RUN.match(f.name).group(1) for f in folders)
    assert sorted(by_fingerprint.values()) == [1, 2, 2]
    assert search.best_estimator_.checkpoint_path_ in folders


def test_cross_val_score_n_jobs_2_gives_every_fit_its_own_folder(tmp_path):
    X, y = make_matrices(n=36)
    root = tmp_path / "ckpt"
    scores = cross_val_score(
        net(max_epochs=2, checkpoint_dir=root, checkpoint_every=1), X, y, cv=3, n_jobs=2
    )
    assert scores.shape == (3,)
    folders = run_folders(root)
    assert len(folders) == 3
    assert len({RUN.match(f.name).group(1) for f in folders}) == 3  # one per fold
    for folder in folders:
        assert_one_writer_per_folder(folder, {2})


def test_nets_and_pipelines_pickle_before_and_after_fit(tmp_path):
    X, y = make_matrices()
    unfitted = net(max_epochs=2, checkpoint_dir=tmp_path, progress=True)
    clone = pickle.loads(pickle.dumps(unfitted))
    assert clone.get_params()["checkpoint_dir"] == tmp_path

    fitted = net(max_epochs=2, checkpoint_dir=tmp_path).fit(X, y)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.checkpoint_path_ == fitted.checkpoint_path_

    pipe = make_end_to_end_pipeline(
        hht=False, checkpoint_dir=tmp_path, max_epochs=2, **KW
    )
    pickle.loads(pickle.dumps(pipe))
    pipe.fit(X, y)
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
