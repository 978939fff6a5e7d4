"""HHTCNNClassifier (method 2): module, defaults, inputs, seeding, device,
training output, transfer to method 1 and persistence.

All data are tiny seeded matrices (16x16, 2-4 channels) and networks have 4
base channels, so each fit takes a fraction of a second.
"""

import pickle
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback, LRScheduler
from skorch.exceptions import DeviceWarning
from small import SMALL_NET
from torch import nn

from sklearn_semg import (
    CalibratedSVC,
    CNNFeatureExtractor,
    HHTCNNClassifier,
    make_end_to_end_pipeline,
)
from sklearn_semg.datasets import make_semg
from sklearn_semg.nn import HHTCNN
from sklearn_semg.nn._modules import ConvBlock, init_parameters, torch_generator

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")

LABELS = np.array(["extension", "flexion", "relaxation"])
SMALL = SMALL_NET


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_matrices(n=48, n_channels=1, size=16, n_classes=3, seed=0, squeeze=False):
    """Noise matrices whose class sets which band of rows holds the energy."""
    rng = np.random.default_rng(seed)
    y_idx = np.arange(n) % n_classes
    X = 0.3 * rng.random((n, n_channels, size, size), dtype=np.float32)
    band = size // n_classes
    for i, k in enumerate(y_idx):
        X[i, :, k * band : (k + 1) * band] += 1.0
    if squeeze:
        X = X[:, 0]
    return X, LABELS[y_idx]


# -- the module -------------------------------------------------------------
def test_module_is_encoder_plus_reference_head_with_shapes_from_data():
    X, y = make_matrices(n=30, n_channels=3)
    net = HHTCNNClassifier(
        module__base_channels=4,
        module__num_layers=2,
        module__dropout=0.3,
        max_epochs=1,
        verbose=0,
        random_state=0,
    ).fit(X, y)
    module = net.module_
    assert isinstance(module, HHTCNN)
    convs = [m for m in module.encoder.modules() if isinstance(m, nn.Conv2d)]
    # in_channels from X, base_channels doubling over num_layers blocks
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 4), (4, 8)]
    head = list(module.classifier)
    assert [type(m) for m in head] == [
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert head[0].p == head[3].p == 0.3
    assert (head[1].in_features, head[1].out_features) == (8, 128)
    # n_classes from y
    assert (head[4].in_features, head[4].out_features) == (128, 3)
    with torch.no_grad():
        assert module.eval()(torch.from_numpy(X[:5])).shape == (5, 3)


def test_module_parameters_are_settable_and_searchable():
    X, y = make_matrices(n=30, size=32)
    net = HHTCNNClassifier(max_epochs=1, verbose=0, random_state=0)
    net.set_params(module__base_channels=2, module__num_layers=4, module__dropout=0.0)
    assert net.get_params()["module__num_layers"] == 4
    net.fit(X, y)
    convs = [m for m in net.module_.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [2, 4, 8, 16]
    assert net.module_.classifier[0].p == 0.0
    assert net.module_.classifier[1].in_features == 16


def test_defaults_are_the_reference_training_setup():
    net = HHTCNNClassifier()
    params = net.get_params()
    assert params["optimizer"] is torch.optim.Adam
    assert params["lr"] == 1e-3
    assert params["batch_size"] == 16
    assert params["max_epochs"] == 50
    assert params["criterion"] is nn.CrossEntropyLoss
    assert params["train_split"] == "auto"
    assert (params["lr_factor"], params["lr_patience"]) == (0.5, 5)
    assert params["device"] == "cpu"
    assert params["checkpoint_dir"] is None

    X, y = make_matrices(n=50)
    net.set_params(max_epochs=2, random_state=0, **SMALL).fit(X, y)
    assert isinstance(net.criterion_, nn.CrossEntropyLoss)
    assert isinstance(net.optimizer_, torch.optim.Adam)
    assert net.optimizer_.param_groups[0]["lr"] == 1e-3
    # the module's own defaults: the reference's 64 channels, 3 blocks, p=0.5
    default = HHTCNN(n_classes=3)
    assert default.classifier[0].p == 0.5
    assert default.encoder.out_channels == 256

    # ReduceLROnPlateau(mode="max", factor=0.5, patience=5) on valid_acc
    scheduler_cbs = [cb for _, cb in net.callbacks_ if isinstance(cb, LRScheduler)]
    assert len(scheduler_cbs) == 1
    cb = scheduler_cbs[0]
    assert cb.monitor == "valid_acc"
    sched = cb.lr_scheduler_
    assert isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert (sched.mode, sched.factor, sched.patience) == ("max", 0.5, 5)

    # a stratified 20 % validation split, batches of 16
    batches = net.history[-1, "batches"]
    train_sizes = [b["train_batch_size"] for b in batches if "train_batch_size" in b]
    valid_sizes = [b["valid_batch_size"] for b in batches if "valid_batch_size" in b]
    assert sum(valid_sizes) == 10 and sum(train_sizes) == 40
    assert max(train_sizes) == 16
    y_enc = net.label_encoder_.transform(y)
    _, valid = net.get_split_datasets(X, y_enc)
    counts = np.bincount(y_enc[valid.indices], minlength=3)
    assert counts.tolist() in ([4, 3, 3], [3, 4, 3], [3, 3, 4])  # stratified


def test_lr_halves_when_valid_acc_stalls():
    """ReduceLROnPlateau(mode="max") follows valid_acc (patience 0 here)."""
    X, y = make_matrices(n=40, seed=3)
    net = HHTCNNClassifier(
        max_epochs=8, lr=0.05, lr_patience=0, random_state=1, **SMALL
    ).fit(X, y)
    valid_acc = net.history[:, "valid_acc"]
    recorded = net.history[:, "lr"]
    lr, best = 0.05, -np.inf
    for epoch, acc in enumerate(valid_acc):
        assert recorded[epoch] == pytest.approx(lr), epoch  # lr used this epoch
        if acc > best * (1 + 1e-4):  # torch's "rel" threshold, mode="max"
            best = acc
        else:
            lr *= 0.5
    assert recorded[-1] < 0.05, "the scenario must exercise at least one reduction"


# -- inputs and labels ------------------------------------------------------
def test_three_and_four_dimensional_input_and_string_labels():
    X3, y = make_matrices(n=40, squeeze=True)
    X4 = X3[:, np.newaxis]
    kw = dict(max_epochs=3, random_state=0, **SMALL)
    net3 = HHTCNNClassifier(**kw).fit(X3, y)
    net4 = HHTCNNClassifier(**kw).fit(X4, y)
    assert net3.input_shape_ == net4.input_shape_ == (1, 16, 16)
    assert net3.module_.encoder.in_channels == 1
    np.testing.assert_array_equal(net3.predict_proba(X3), net4.predict_proba(X4))
    # classes_ are the original labels, predict returns them
    assert net3.classes_.tolist() == sorted(set(y))
    pred = net3.predict(X3)
    assert pred.dtype == y.dtype and set(pred) <= set(y)
    proba = net3.predict_proba(X3)
    assert proba.shape == (40, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(pred, net3.classes_[proba.argmax(axis=1)])
    assert net3.score(X3, y) == pytest.approx(np.mean(pred == y))
    # float64 and lists are accepted as well
    np.testing.assert_array_equal(net3.predict(X3.astype(np.float64).tolist()), pred)
    with pytest.raises(ValueError, match="fitted on"):
        net3.predict(np.zeros((2, 1, 8, 8), dtype=np.float32))


def test_the_net_learns_the_tiny_problem():
    X, y = make_matrices(n=60, n_channels=2)
    net = HHTCNNClassifier(max_epochs=15, lr=0.01, random_state=0, **SMALL).fit(X, y)
    Xt, yt = make_matrices(n=30, n_channels=2, seed=1)
    assert net.score(Xt, yt) >= 0.9


def test_a_pair_of_features_is_one_position_where_the_norm_is_skipped():
    """2-D input (n, 2) is read as 1x2 matrices, which one block halves to a
    single position: InstanceNorm (undefined there) is skipped, so the block
    is a dense layer and the net learns; on 2 or more positions the block is
    the reference one, bit for bit."""
    block = init_parameters(ConvBlock(1, 4), torch_generator(0))
    gen = torch.Generator().manual_seed(0)
    one = torch.randn(5, 1, 1, 2, generator=gen)
    with torch.no_grad():
        assert torch.equal(block(one), block.activation(block.conv(one)))
        for shape in [(5, 1, 1, 3), (5, 1, 3, 1), (5, 1, 4, 4), (5, 1, 16, 16)]:
            x = torch.randn(*shape, generator=gen)
            reference = block.activation(block.instance_norm(block.conv(x)))
            assert torch.equal(block(x), reference), shape
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 1] > 0, "flexion", "extension")
    net = HHTCNNClassifier(
        max_epochs=20,
        lr=0.01,
        train_split=None,
        random_state=0,
        **{**SMALL, "module__num_layers": 1},
    ).fit(X, y)
    assert net.input_shape_ == (1, 1, 2) and net.n_features_in_ == 2
    assert net.score(X, y) >= 0.9


# -- parameters -------------------------------------------------------------
@pytest.mark.parametrize(
    "name, value",
    [
        ("lr_factor", 1.5),
        ("lr_factor", "half"),
        ("lr_patience", -1),
        ("checkpoint_dir", 3),
        ("checkpoint_every", 0),
        ("resume_from", 0),
        ("augment", "yes"),
        ("early_stopping", 0),
        ("on_interrupt", "ignore"),
        ("progress", "bars"),
        ("random_state", "seed"),
        ("train_split", "none"),
        ("device", 3),
    ],
)
def test_parameters_are_checked_at_fit_with_scikit_learns_message(name, value):
    X, y = make_matrices(n=20)
    net = HHTCNNClassifier(max_epochs=1, **SMALL)
    net.set_params(**{name: value})  # set_params and __init__ accept anything
    message = rf"The '{name}' parameter of HHTCNNClassifier must be .* Got .* instead"
    with pytest.raises(InvalidParameterError, match=message):
        net.fit(X, y)
    with pytest.raises(InvalidParameterError, match=message):
        clone(net).partial_fit(X, y)  # its first call fits
    assert net.get_params()[name] is value  # left as given


def test_every_parameter_added_to_skorch_has_a_constraint():
    from skorch import NeuralNetClassifier

    added = set(HHTCNNClassifier().get_params(deep=False)) - set(
        NeuralNetClassifier(HHTCNN).get_params(deep=False)
    )
    added -= {k for k in added if k.startswith("module__")}
    assert added <= set(HHTCNNClassifier._parameter_constraints)
    # skorch's with a meaning added here ("auto")
    assert {"device", "train_split"} <= set(HHTCNNClassifier._parameter_constraints)


def test_partial_fit_classes_set_the_classes_and_the_output_layer():
    X, y = make_matrices(n=48)
    first = y != "relaxation"  # the first batch lacks a class
    net = HHTCNNClassifier(max_epochs=2, random_state=0, **SMALL)
    assert net.partial_fit(X[first], y[first], classes=LABELS) is net
    assert net.classes_.tolist() == sorted(LABELS)
    assert net.module_.classifier[-1].out_features == 3
    net.partial_fit(X[~first], y[~first])  # the class the first batch lacked
    net.partial_fit(X, y, classes=LABELS[::-1])  # the same classes again
    assert len(net.history) == 6  # max_epochs more epochs per call
    assert net.predict_proba(X).shape == (48, 3)
    with pytest.raises(ValueError, match="is not the classes of the first call"):
        net.partial_fit(X, y, classes=["extension", "flexion"])
    with pytest.raises(ValueError, match=r"label\(s\) \['wrist'\]"):
        net.partial_fit(X[:2], np.array(["wrist", "flexion"]))
    # without classes, the first call takes those of y
    two = HHTCNNClassifier(max_epochs=1, random_state=0, **SMALL)
    two.partial_fit(X[first], y[first])
    assert two.classes_.tolist() == ["extension", "flexion"]
    with pytest.raises(ValueError, match=r"\['relaxation'\].*classes=\.\.\."):
        two.partial_fit(X, y)
    # the classes given hold every label of y, and at least 2
    with pytest.raises(ValueError, match=r"\['relaxation'\]"):
        clone(two).partial_fit(X, y, classes=["extension", "flexion"])
    with pytest.raises(ValueError, match="has 1 class"):
        clone(two).partial_fit(
            X[y == "flexion"], y[y == "flexion"], classes=["flexion"]
        )


# -- randomness -------------------------------------------------------------
def test_random_state_reproducible_and_global_rng_untouched():
    X, y = make_matrices(n=40, n_channels=2)
    kw = dict(max_epochs=3, random_state=7, **SMALL)  # dropout 0.5: RNG used
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    a = HHTCNNClassifier(**kw).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before), "fit changed the torch RNG"
    b = HHTCNNClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for (name, pa), pb in zip(
        a.module_.state_dict().items(), b.module_.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
    assert a.history[:, "train_loss"] == b.history[:, "train_loss"]
    c = HHTCNNClassifier(**{**kw, "random_state": 8}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_shuffling_and_augmentation_draw_from_generators_seeded_by_random_state(
    num_workers,
):
    """The DataLoader (generator=) and the augmentation (its own generator;
    each worker's own with num_workers > 0) never read the global torch
    random state: the same random_state gives the same model whatever that
    state, and fit, partial_fit and predict leave it as it was."""
    X, y = make_matrices(n=40, n_channels=2)
    kw = dict(
        max_epochs=2,
        random_state=0,
        augment=True,
        iterator_train__shuffle=True,
        iterator_train__num_workers=num_workers,
        **SMALL,
    )
    torch.manual_seed(1)
    before = torch.get_rng_state()
    a = HHTCNNClassifier(**kw).fit(X, y)
    a.predict_proba(X)
    assert torch.equal(torch.get_rng_state(), before), "fit used the torch RNG"
    torch.manual_seed(2)  # another global state: the same model
    b = HHTCNNClassifier(**kw).fit(X, y)
    for (name, pa), pb in zip(
        a.module_.state_dict().items(), b.module_.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history[:, "train_loss"] == b.history[:, "train_loss"]
    # partial_fit goes on with each model's own random streams
    before = torch.get_rng_state()
    a.partial_fit(X, y)
    torch.manual_seed(3)
    b.partial_fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # the generators drive the batches: without shuffling or augmentation,
    # the same initial weights train differently
    plain = HHTCNNClassifier(**{**kw, "augment": None}).fit(X, y)
    unshuffled = HHTCNNClassifier(**{**kw, "iterator_train__shuffle": False})
    assert not np.array_equal(
        a.history[:2, "train_loss"], plain.history[:, "train_loss"]
    )
    assert not np.array_equal(
        a.history[:2, "train_loss"], unshuffled.fit(X, y).history[:, "train_loss"]
    )


def test_random_state_instance_is_accepted():
    X, y = make_matrices(n=30)
    a = HHTCNNClassifier(max_epochs=1, random_state=np.random.RandomState(3), **SMALL)
    b = HHTCNNClassifier(max_epochs=1, random_state=np.random.RandomState(3), **SMALL)
    np.testing.assert_array_equal(
        a.fit(X, y).predict_proba(X), b.fit(X, y).predict_proba(X)
    )


# -- device -----------------------------------------------------------------
def test_device_auto_and_errors():
    X, y = make_matrices(n=30)
    net = HHTCNNClassifier(max_epochs=1, device="auto", random_state=0, **SMALL)
    net.fit(X, y)
    expected = "cuda" if CUDA else "cpu"
    # the device chosen is a fitted attribute; the parameter stays as given
    assert net.device_.type == expected
    assert net.device == "auto" and net.get_params()["device"] == "auto"
    assert clone(net).get_params()["device"] == "auto"
    assert next(net.module_.parameters()).device.type == expected
    # a fitted "auto" net pickles, loads and predicts; the parameter stays
    loaded = pickle.loads(pickle.dumps(net))
    assert loaded.device == "auto" and loaded.device_.type == expected
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    # and trains on, on that device
    loaded.partial_fit(X, y)
    assert next(loaded.module_.parameters()).device.type == expected
    with pytest.raises(ValueError, match="'device' parameter"):
        HHTCNNClassifier(max_epochs=1, device="tpu", **SMALL).fit(X, y)
    if not CUDA:
        with pytest.raises(ValueError, match="no CUDA device is available"):
            HHTCNNClassifier(max_epochs=1, device="cuda", **SMALL).fit(X, y)


@pytest.mark.gpu
@needs_cuda
def test_cuda_fit_is_reproducible_and_predicts():
    X, y = make_matrices(n=40)
    kw = dict(max_epochs=3, device="cuda", random_state=0, **SMALL)
    before = torch.cuda.get_rng_state()
    a = HHTCNNClassifier(**kw).fit(X, y)
    assert torch.equal(torch.cuda.get_rng_state(), before)
    assert next(a.module_.parameters()).is_cuda
    assert a.predict(X).shape == (40,)


# -- training output --------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse_table(text):
    """skorch's epoch table as a list of dicts (cells as stripped strings)."""
    lines = [ANSI.sub("", line) for line in text.splitlines() if line.strip()]
    sep = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "})
    header, rule, rows = lines[sep - 1], lines[sep], lines[sep + 1 :]
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    names = [header[a:b].strip() for a, b in spans]
    return [
        {name: row[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)}
        for row in rows
    ]


def test_epoch_table_has_the_reference_columns_and_best_marks(capsys):
    X, y = make_matrices(n=40)
    net = HHTCNNClassifier(
        max_epochs=4,
        random_state=0,
        verbose=1,
        **{k: v for k, v in SMALL.items() if k != "verbose"},
    ).fit(X, y)
    out, err = capsys.readouterr()
    assert err == ""
    assert "\x1b[" not in out  # no colour codes: stdout is not a terminal here
    rows = parse_table(out)
    assert len(rows) == 4
    assert {
        "epoch",
        "train_loss",
        "train_acc",
        "valid_loss",
        "valid_acc",
        "lr",
        "best",
    } <= set(rows[0])
    for row, hist in zip(rows, net.history, strict=True):
        assert int(row["epoch"]) == hist["epoch"]
        assert row["best"] == ("+" if hist["best"] else "")
        for key in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"):
            assert float(row[key]) == pytest.approx(hist[key], abs=5e-5), key
    assert rows[0]["best"] == "+"
    # best marks the running maximum of valid_acc
    acc = net.history[:, "valid_acc"]
    assert net.history[:, "best"] == [
        a > max(acc[:i], default=-1) for i, a in enumerate(acc)
    ]
    # train_acc is the accuracy over the training batches
    assert all(0 <= a <= 1 for a in net.history[:, "train_acc"])


def test_verbose_zero_is_silent_and_progress_bar_goes_to_stderr(capsys):
    X, y = make_matrices(n=40)
    HHTCNNClassifier(max_epochs=2, random_state=0, **SMALL).fit(X, y)
    assert capsys.readouterr() == ("", "")
    HHTCNNClassifier(max_epochs=2, random_state=0, progress=True, **SMALL).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""
    assert "it/s" in err and "%|" in err  # tqdm's bar
    assert "/3 [" in err  # over the 2 training and 1 validation batches
    HHTCNNClassifier(max_epochs=3, random_state=0, progress="epochs", **SMALL).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""
    assert "epochs: " in err and "/3 [" in err and "epoch/s" in err


def test_the_epoch_table_keeps_its_colours_on_a_terminal(capsys, monkeypatch):
    import sys

    X, y = make_matrices(n=40)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    HHTCNNClassifier(max_epochs=2, random_state=0, verbose=1, **{
        k: v for k, v in SMALL.items() if k != "verbose"
    }).fit(X, y)  # fmt: skip
    assert "\x1b[" in capsys.readouterr().out  # skorch marks the best values


class CountForwards(Callback):
    """Count the forward passes of the module during training."""

    def on_train_begin(self, net, **kwargs):
        self.calls_ = {"train": 0, "eval": 0}

        def hook(module, args, output):
            self.calls_["train" if module.training else "eval"] += 1

        self.handle_ = net.module_.register_forward_hook(hook)

    def on_train_end(self, net, **kwargs):
        self.handle_.remove()


def test_train_acc_reuses_the_training_predictions():
    """No extra inference pass over the training set for train_acc (speed)."""
    X, y = make_matrices(n=40)  # 32 train (2 batches of 16) + 8 valid (1 batch)
    net = HHTCNNClassifier(
        max_epochs=3, random_state=0, callbacks=[("count", CountForwards())], **SMALL
    ).fit(X, y)
    assert dict(net.callbacks_)["count"].calls_ == {"train": 3 * 2, "eval": 3 * 1}
    # it is the accuracy of the (dropout-mode) training batches, as in the
    # reference loop: a multiple of 1/32 here
    for acc in net.history[:, "train_acc"]:
        assert (acc * 32) == pytest.approx(round(acc * 32))


# -- transfer to method 1 ---------------------------------------------------
def test_from_classifier_features_equal_the_trained_encoder():
    X, y = make_matrices(n=40, n_channels=2)
    net = HHTCNNClassifier(max_epochs=3, random_state=0, **SMALL).fit(X, y)
    extractor = CNNFeatureExtractor.from_classifier(net, batch_size=7).fit(X)
    features = extractor.transform(X)
    with torch.no_grad():
        expected = net.module_.encoder.eval()(torch.from_numpy(X)).numpy()
    assert features.shape == (40, 8)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    # the extractor holds a copy: training the net further does not change it
    net.partial_fit(X, y)
    np.testing.assert_array_equal(extractor.transform(X), features)

    method1 = Pipeline(
        [
            ("cnn", CNNFeatureExtractor.from_classifier(net)),
            ("scale", StandardScaler()),
            ("svm", CalibratedSVC(random_state=0)),
        ]
    ).fit(X, y)
    pred = method1.predict(X)
    assert set(pred) <= set(y)
    assert method1.named_steps["cnn"].n_features_out_ == 8
    assert method1.score(X, y) > 1 / 3


# -- persistence ------------------------------------------------------------
def test_joblib_round_trip_of_a_fitted_method2_pipeline(tmp_path):
    X, y = make_semg(18, n_channels=2, n_times=256, n_classes=3, random_state=0)
    pipe = make_end_to_end_pipeline(
        hht=True,
        fs=1000.0,
        hht_params={"n_freq_bins": 16, "n_time_bins": 16},
        max_epochs=2,
        random_state=0,
        **SMALL,
    ).fit(X, y)
    path = tmp_path / "method2.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert loaded.named_steps["clf"].classes_.tolist() == [0, 1, 2]
    assert len(loaded.named_steps["clf"].history) == 2


def test_a_net_fitted_for_cuda_loads_on_a_machine_without_it(monkeypatch):
    """skorch's __setstate__ maps CUDA tensors to the CPU with a DeviceWarning.

    Simulated on any machine: the net claims device "cuda" (parameter and
    fitted device_) when pickled, and CUDA is reported absent when it is
    loaded. A parameter "auto" stays "auto" (the machine chooses again).
    """
    X, y = make_matrices(n=30)
    net = HHTCNNClassifier(max_epochs=2, random_state=0, **SMALL).fit(X, y)
    expected = net.predict_proba(X)
    net.device, net.device_ = "cuda", torch.device("cuda")
    payload = pickle.dumps(net)
    net.device = "auto"
    auto_payload = pickle.dumps(net)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning) as record:
        loaded = pickle.loads(payload)
    assert any("no CUDA devices" in str(w.message) for w in record)
    assert str(loaded.device) == "cpu" and loaded.device_ == torch.device("cpu")
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    with pytest.warns(DeviceWarning):
        loaded = pickle.loads(auto_payload)
    assert loaded.device == "auto" and loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


@pytest.mark.gpu
@needs_cuda
def test_cuda_fitted_pipeline_loads_and_predicts_in_a_cpu_only_process(tmp_path):
    X, y = make_matrices(n=30)
    pipe = make_end_to_end_pipeline(
        hht=False, max_epochs=2, device="cuda", random_state=0, **SMALL
    ).fit(X, y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", pipe.predict_proba(X))
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    code = (
        "import warnings, joblib, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "with warnings.catch_warnings(record=True):\n"
        f"    pipe = joblib.load({str(tmp_path / 'pipe.joblib')!r})\n"
        "assert str(pipe.named_steps['clf'].device) == 'cpu'\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"ref = np.load({str(tmp_path / 'proba.npy')!r})\n"
        "np.testing.assert_allclose(pipe.predict_proba(X), ref, atol=1e-4)\n"
        "print('ok')\n"
    )
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
