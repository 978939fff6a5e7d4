"""CNNFeatureExtractor: input forms, frozen encoder, weights, devices,
reproducibility (same process, new process, joblib workers) and persistence."""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from small import SMALL_CNN
from torch import nn

from sklearn_semg import CNNFeatureExtractor, HHTCNNClassifier, HHTTransformer
from sklearn_semg.nn import HHTCNN, encoder_state_dict
from sklearn_semg.nn._modules import init_parameters, torch_generator

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False)",
)

# Small sizes keep every forward pass in milliseconds.
SMALL = SMALL_CNN


@pytest.fixture(scope="module")
def hht_images():
    """(8, 2, 32, 32) float32 HHT matrices of seeded synthetic 2-channel sEMG."""
    from sklearn_semg.datasets import make_semg

    X, y = make_semg(8, n_channels=2, n_times=300, n_classes=2, random_state=0)
    hht = HHTTransformer(fs=1000, n_freq_bins=32, n_time_bins=32, max_imf=4)
    return hht.fit_transform(X), y


@pytest.fixture(scope="module")
def images():
    """(8, 32, 32) single-channel float32 matrices (seeded)."""
    return np.random.default_rng(0).random((8, 32, 32), dtype=np.float32)


# -- the notebook's encoder, copied (reference-notebook.txt, sEMGHHTEncoder) --


class NotebookConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, leaky_slope=0.2):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.instance_norm = nn.InstanceNorm2d(out_channels)
        self.activation = nn.LeakyReLU(negative_slope=leaky_slope)

    def forward(self, x):
        return self.activation(self.instance_norm(self.conv(x)))


class NotebookEncoder(nn.Module):
    def __init__(self, in_channels=1, base_channels=64, num_layers=3):
        super().__init__()
        layers, current = [], in_channels
        for i in range(num_layers):
            layers.append(NotebookConvBlock(current, base_channels * 2**i))
            current = base_channels * 2**i
        self.encoder = nn.Sequential(*layers)
        self.global_avg_pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        x = self.global_avg_pool(self.encoder(x))
        return x.view(x.size(0), -1)


def seeded(module, seed=0):
    return init_parameters(module, torch_generator(seed)).eval()


# -- input forms ------------------------------------------------------------


def test_accepts_3d_and_4d_and_returns_float32(images, hht_images):
    cnn3 = CNNFeatureExtractor(**SMALL, random_state=0).fit(images)
    out3 = cnn3.transform(images)
    # 2 layers: channels 4 -> 8; global pooling gives 8 features
    assert out3.shape == (8, 8) and out3.dtype == np.float32
    assert cnn3.input_shape_ == (1, 32, 32)
    assert cnn3.n_features_in_ == 32 * 32 and cnn3.n_features_out_ == 8
    # (n, H, W) is read as (n, 1, H, W): same weights, same features
    cnn4 = CNNFeatureExtractor(**SMALL, random_state=0).fit(images[:, None])
    assert_array_equal(cnn4.transform(images[:, None]), out3)
    assert_array_equal(cnn3.transform(images[:, None]), out3)
    # float64 input is converted, not rejected
    assert_array_equal(cnn3.transform(images.astype(np.float64)), out3)

    # what HHTTransformer returns: (n, C, F, T), here 2 channels
    X, _ = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    out = cnn.transform(X)
    assert out.shape == (8, 8) and out.dtype == np.float32
    assert cnn.input_shape_ == (2, 32, 32)
    assert cnn.encoder_.encoder[0].conv.in_channels == 2
    assert np.isfinite(out).all() and out.std() > 0


def test_reference_default_architecture():
    X = np.random.default_rng(0).random((2, 1, 64, 64), dtype=np.float32)
    cnn = CNNFeatureExtractor(random_state=0).fit(X)
    convs = [block.conv for block in cnn.encoder_.encoder]
    assert [c.out_channels for c in convs] == [64, 128, 256]
    assert all(c.stride == (2, 2) and c.kernel_size == (3, 3) for c in convs)
    assert cnn.transform(X).shape == (2, 256)


def test_pooling_time_keeps_frequency_rows(images):
    cnn = CNNFeatureExtractor(**SMALL, pooling="time", random_state=0).fit(images)
    # 32 rows halved twice -> 8 rows, times 8 channels
    assert cnn.n_features_out_ == 64
    assert cnn.transform(images).shape == (8, 64)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((32,), r"Expected HHT matrices \(n, F, T\) or \(n, C, F, T\).*got a 1D"),
        (
            (2, 1, 1, 16, 16),
            r"as a 3D or 4D array, got a 5D array of shape \(2, 1, 1, 16, 16\)",
        ),
        ((0, 16, 16), "0 sample"),
        ((3, 0, 16), "0 feature"),
    ],
)
def test_rejects_other_shapes_with_what_it_expected(shape, match):
    X = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        CNNFeatureExtractor(**SMALL).fit(X)


def test_transform_checks_shape_seen_at_fit(images):
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(images)
    with pytest.raises(
        ValueError, match=r"shape \(1, 16, 16\).*fitted on \(1, 32, 32\)"
    ):
        cnn.transform(images[:, :16, :16])
    with pytest.raises(ValueError, match=r"\(2, 32, 32\).*fitted on \(1, 32, 32\)"):
        cnn.transform(np.stack([images, images], axis=1))


def test_rejects_bad_values_and_types(images):
    bad = images.copy()
    bad[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity.*matrix 3"):
        CNNFeatureExtractor(**SMALL).fit(bad)
    with pytest.raises(ValueError, match="Complex data not supported"):
        CNNFeatureExtractor(**SMALL).fit(images.astype(np.complex64))
    with pytest.raises(ValueError, match="not a numeric array"):
        CNNFeatureExtractor(**SMALL).fit(np.full((2, 8, 8), "a", dtype=object))
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse matrix; expected a dense array"):
        CNNFeatureExtractor(**SMALL).fit(sparse.random(4, 64, format="csr"))


def test_blocks_that_halve_the_matrices_to_one_position_still_encode():
    # 4x4 matrices, three stride-2 blocks: 2x2, then 1x1 maps, where the
    # InstanceNorm (undefined on one position) is skipped
    X = np.random.default_rng(0).random((3, 4, 4), dtype=np.float32)
    cnn = CNNFeatureExtractor(base_channels=4, num_layers=3, random_state=0).fit(X)
    out = cnn.transform(X)
    assert out.shape == (3, 16) and np.all(np.isfinite(out))
    # the matrices still make a difference
    assert not np.allclose(out[0], out[1])
    np.testing.assert_array_equal(
        CNNFeatureExtractor(
            base_channels=4, num_layers=3, random_state=0
        ).fit_transform(X),
        out,
    )


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(batch_size=0), "batch_size"),
        (dict(base_channels=0), "base_channels"),
        (dict(pooling="max"), "pooling"),
        (dict(weights=[1, 2]), "weights"),
        (dict(device=0), "device"),
    ],
)
def test_bad_parameters_name_the_parameter(images, params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        CNNFeatureExtractor(**params).fit(images)


def test_read_only_and_strided_input(images):
    """Read-only arrays (joblib's memmaps in workers) and negative strides."""
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(images)
    expected = cnn.transform(images)
    frozen = images.copy()
    frozen.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on non-writable arrays
        assert_array_equal(cnn.transform(frozen), expected)
    assert_array_equal(cnn.transform(images[::-1])[::-1], expected)
    assert_array_equal(cnn.transform(np.asfortranarray(images)), expected)


def test_batch_size_does_not_change_features(hht_images):
    X, _ = hht_images
    full = CNNFeatureExtractor(**SMALL, batch_size=100, random_state=0).fit(X)
    expected = full.transform(X)
    for batch_size in (1, 3, 4):
        cnn = CNNFeatureExtractor(**SMALL, batch_size=batch_size, random_state=0)
        assert_allclose(cnn.fit(X).transform(X), expected, rtol=1e-5, atol=1e-6)


# -- frozen encoder ---------------------------------------------------------


def test_encoder_is_frozen(hht_images):
    X, y = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(X, y)
    assert not cnn.encoder_.training
    assert all(not m.training for m in cnn.encoder_.modules())
    params = list(cnn.encoder_.parameters())
    assert params and all(not p.requires_grad for p in params)
    before = [p.detach().clone() for p in params]
    first = cnn.transform(X)
    # fitting again (even on other data and labels) changes nothing: no training
    cnn.fit(X[::-1], y[::-1])
    assert_array_equal(cnn.transform(X), first)
    for p, q in zip(cnn.encoder_.parameters(), before, strict=True):
        assert torch.equal(p, q)


# -- weights ----------------------------------------------------------------


def test_same_random_state_same_features_other_differs(hht_images):
    X, _ = hht_images
    a = CNNFeatureExtractor(**SMALL, random_state=0).fit(X).transform(X)
    b = CNNFeatureExtractor(**SMALL, random_state=0).fit(X).transform(X)
    c = CNNFeatureExtractor(**SMALL, random_state=1).fit(X).transform(X)
    assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_global_torch_seed_neither_read_nor_changed(hht_images):
    X, _ = hht_images
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = CNNFeatureExtractor(**SMALL, random_state=0).fit(X).transform(X)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(456)
    b = CNNFeatureExtractor(**SMALL, random_state=0).fit(X).transform(X)
    assert_array_equal(a, b)


def test_weights_from_saved_state_dict(tmp_path, hht_images):
    X, _ = hht_images
    source = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    path = tmp_path / "encoder.pt"
    torch.save(source.encoder_.state_dict(), path)
    assert sorted(torch.load(path))[0] == "encoder.0.conv.bias"
    # architecture read from the weights: these parameters are ignored
    loaded = CNNFeatureExtractor(
        weights=path, base_channels=99, num_layers=1, random_state=7
    ).fit(X)
    assert loaded.n_features_out_ == source.n_features_out_ == 8
    assert_array_equal(loaded.transform(X), source.transform(X))
    # a str path and a mapping work too
    assert_array_equal(
        CNNFeatureExtractor(weights=str(path)).fit(X).transform(X), source.transform(X)
    )
    state = dict(source.encoder_.state_dict())
    assert_array_equal(
        CNNFeatureExtractor(weights=state).fit(X).transform(X), source.transform(X)
    )


def test_weights_in_the_notebooks_encoder_layout(tmp_path):
    """torch.save(sEMGHHTEncoder.state_dict()): keys encoder.N.conv.weight."""
    X = np.random.default_rng(1).random((3, 64, 64), dtype=np.float32)
    notebook = seeded(NotebookEncoder(base_channels=8, num_layers=3))
    path = tmp_path / "svm_encoder.pt"  # save_svm_classifier's f"{path}_encoder.pt"
    torch.save(notebook.state_dict(), path)
    assert "encoder.0.conv.weight" in torch.load(path)
    cnn = CNNFeatureExtractor(weights=path).fit(X)
    assert [b.conv.out_channels for b in cnn.encoder_.encoder] == [8, 16, 32]
    with torch.no_grad():
        expected = notebook(torch.from_numpy(X[:, None])).numpy()
    assert_allclose(cnn.transform(X), expected, rtol=1e-5, atol=1e-6)


def test_weights_in_the_end_to_end_layout(tmp_path):
    """The end-to-end model's keys encoder.encoder.N... (head dropped), also
    inside a notebook checkpoint under "model_state_dict"."""
    X = np.random.default_rng(2).random((3, 1, 32, 32), dtype=np.float32)
    net = seeded(HHTCNN(n_classes=6, base_channels=4, num_layers=2))
    keys = set(net.state_dict())
    assert "encoder.encoder.0.conv.weight" in keys and "classifier.4.weight" in keys
    with torch.no_grad():
        expected = net.encoder(torch.from_numpy(X)).numpy()

    torch.save(net.state_dict(), tmp_path / "e2e.pt")
    cnn = CNNFeatureExtractor(weights=tmp_path / "e2e.pt").fit(X)
    assert_array_equal(cnn.transform(X), expected)
    assert set(encoder_state_dict(tmp_path / "e2e.pt")) == {
        k[len("encoder.") :] for k in keys if k.startswith("encoder.")
    }

    checkpoint = {"epoch": 12, "model_state_dict": net.state_dict(), "val_acc": 0.5}
    torch.save(checkpoint, tmp_path / "best_model.pt")
    cnn = CNNFeatureExtractor(weights=tmp_path / "best_model.pt").fit(X)
    assert_array_equal(cnn.transform(X), expected)


def test_weights_errors_name_the_file(tmp_path, images):
    missing = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError, match="'weights' file .*nope.pt.*does not"):
        CNNFeatureExtractor(weights=missing).fit(images)
    text = tmp_path / "notes.pt"
    text.write_text("not a state dict")
    with pytest.raises(ValueError, match="Could not read the 'weights' file .*notes"):
        CNNFeatureExtractor(weights=text).fit(images)
    head_only = tmp_path / "head.pt"
    torch.save({"classifier.1.weight": torch.zeros(2, 2)}, head_only)
    with pytest.raises(ValueError, match="holds no encoder weights"):
        CNNFeatureExtractor(weights=head_only).fit(images)
    one_channel = seeded(NotebookEncoder(base_channels=4, num_layers=2)).state_dict()
    with pytest.raises(ValueError, match=r"expect 1 input channel.*X has 2"):
        CNNFeatureExtractor(weights=one_channel).fit(np.stack([images] * 2, axis=1))


def test_from_classifier_uses_the_trained_encoder(hht_images):
    X, y = hht_images
    with pytest.raises(NotFittedError):
        CNNFeatureExtractor.from_classifier(HHTCNNClassifier())
    net = HHTCNNClassifier(
        max_epochs=2,
        module__base_channels=4,
        module__num_layers=2,
        train_split=None,
        verbose=0,
        random_state=0,
    ).fit(X, np.where(y == 0, "M_full", "F_half"))
    cnn = CNNFeatureExtractor.from_classifier(net, batch_size=3)
    assert cnn.batch_size == 3 and cnn.pooling == "global"
    cnn.fit(X)
    net.module_.eval()
    with torch.no_grad():
        expected = net.module_.encoder(torch.from_numpy(X)).numpy()
    assert_allclose(cnn.transform(X), expected, rtol=1e-6, atol=1e-7)
    # the weights are a copy: changing the network later does not leak in
    first = cnn.transform(X)
    with torch.no_grad():
        net.module_.encoder.encoder[0].conv.weight.add_(1.0)
    assert_array_equal(cnn.transform(X), first)
    changed = CNNFeatureExtractor.from_classifier(net).fit(X).transform(X)
    assert not np.allclose(changed, first)


# -- devices ----------------------------------------------------------------


def test_device_cpu_and_auto_without_cuda(monkeypatch, images):
    expected = CNNFeatureExtractor(**SMALL, random_state=0).fit(images)
    assert expected.device_ == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    auto = CNNFeatureExtractor(**SMALL, device="auto", random_state=0).fit(images)
    assert auto.device_ == torch.device("cpu")
    assert auto.device == "auto"  # the parameter is left as given
    assert_array_equal(auto.transform(images), expected.transform(images))


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1"])
def test_absent_cuda_is_a_clear_error(monkeypatch, images, device):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        ValueError, match=f"asks for '{device}', but no CUDA device.*'auto'"
    ):
        CNNFeatureExtractor(**SMALL, device=device).fit(images)


def test_cuda_index_beyond_the_devices_is_a_clear_error(monkeypatch, images):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"'cuda:3', but this machine has 1 CUDA"):
        CNNFeatureExtractor(**SMALL, device="cuda:3").fit(images)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "xla"])
def test_unknown_device_is_a_clear_error(images, device):
    with pytest.raises(ValueError, match=r"'device' parameter must be 'cpu', 'cuda'"):
        CNNFeatureExtractor(**SMALL, device=device).fit(images)


def test_absent_mps_is_a_clear_error(monkeypatch, images):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'mps', but no MPS device"):
        CNNFeatureExtractor(**SMALL, device="mps").fit(images)


@needs_cuda
def test_cuda_features_match_cpu(hht_images):
    X, _ = hht_images
    cpu = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    gpu = CNNFeatureExtractor(**SMALL, device="cuda", random_state=0).fit(X)
    assert gpu.device_.type == "cuda"
    assert next(gpu.encoder_.parameters()).is_cuda
    out = gpu.transform(X)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert_allclose(out, cpu.transform(X), rtol=1e-3, atol=1e-4)


@needs_cuda
def test_pickling_a_cuda_model_leaves_it_on_the_gpu(tmp_path, hht_images):
    X, _ = hht_images
    gpu = CNNFeatureExtractor(**SMALL, device="cuda", random_state=0).fit(X)
    expected = gpu.transform(X)
    joblib.dump(gpu, tmp_path / "gpu.joblib")
    # the estimator that was saved still runs where it was fitted
    assert next(gpu.encoder_.parameters()).is_cuda
    assert_array_equal(gpu.transform(X), expected)
    loaded = joblib.load(tmp_path / "gpu.joblib")
    assert loaded.device_.type == "cuda"
    assert_array_equal(loaded.transform(X), expected)
    # and it loads on a machine without a GPU (CUDA hidden from a new process)
    np.save(tmp_path / "X.npy", X)
    code = f"""
        import warnings, joblib, numpy as np
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model = joblib.load({str(tmp_path / "gpu.joblib")!r})
        assert any("does not have" in str(x.message) for x in w), w
        assert model.device_.type == "cpu", model.device_
        np.save({str(tmp_path / "cpu.npy")!r}, model.transform(np.load({str(tmp_path / "X.npy")!r})))
    """
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, env=env)
    assert_allclose(np.load(tmp_path / "cpu.npy"), expected, rtol=1e-3, atol=1e-4)


# -- reproducibility across processes ----------------------------------------


def test_bit_identical_in_a_new_process(tmp_path, hht_images):
    X, _ = hht_images
    np.save(tmp_path / "X.npy", X)
    expected = CNNFeatureExtractor(**SMALL, random_state=0).fit(X).transform(X)
    code = f"""
        import numpy as np
        from sklearn_semg import CNNFeatureExtractor
        X = np.load({str(tmp_path / "X.npy")!r})
        cnn = CNNFeatureExtractor(base_channels=4, num_layers=2, random_state=0)
        np.save({str(tmp_path / "out.npy")!r}, cnn.fit(X).transform(X))
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True)
    assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def _features_in_worker(X, random_state):
    cnn = CNNFeatureExtractor(**SMALL, random_state=random_state).fit(X)
    return cnn.transform(X), torch.get_num_threads(), os.getpid()


def test_bit_identical_in_joblib_workers(hht_images):
    X, _ = hht_images
    expected = {s: _features_in_worker(X, s)[0] for s in (0, 1)}
    results = Parallel(n_jobs=2, backend="loky")(
        delayed(_features_in_worker)(X, s) for s in (0, 1, 0, 1)
    )
    for seed, (features, n_threads, pid) in zip((0, 1, 0, 1), results, strict=True):
        assert pid != os.getpid()  # really ran in a worker process
        assert_array_equal(features, expected[seed])
        # joblib limits each of the 2 workers to its share of the cores
        assert n_threads <= max(1, joblib.cpu_count() // 2)


# -- persistence ------------------------------------------------------------


def test_joblib_round_trip(tmp_path, hht_images):
    X, _ = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    expected = cnn.transform(X)
    joblib.dump(cnn, tmp_path / "cnn.joblib")
    loaded = joblib.load(tmp_path / "cnn.joblib")
    assert loaded.device_ == torch.device("cpu")
    assert loaded.get_params() == cnn.get_params()
    assert_array_equal(loaded.transform(X), expected)
    assert not loaded.encoder_.training
    assert all(not p.requires_grad for p in loaded.encoder_.parameters())
    # an unfitted extractor pickles too, and stays unfitted
    with pytest.raises(NotFittedError):
        pickle.loads(pickle.dumps(CNNFeatureExtractor())).transform(X)


def test_model_fitted_on_cuda_loads_on_cpu(monkeypatch, tmp_path, hht_images):
    """A fitted model whose device_ is a GPU (weights kept on the CPU here, so
    the test runs anywhere) loads on a machine without one: warning, CPU."""
    X, _ = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    expected = cnn.transform(X)
    encoder = cnn.encoder_
    cnn.device_ = torch.device("cuda")
    joblib.dump(cnn, tmp_path / "cuda.joblib")
    payload = pickle.dumps(cnn)
    # pickling leaves the estimator as it was
    assert cnn.device_ == torch.device("cuda") and cnn.encoder_ is encoder

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for load in (
        lambda: pickle.loads(payload),
        lambda: joblib.load(tmp_path / "cuda.joblib"),
    ):
        with pytest.warns(
            UserWarning,
            match="fitted on cuda, which this machine does not have; it runs on the CPU",
        ):
            loaded = load()
        assert loaded.device_ == torch.device("cpu")
        assert all(p.device.type == "cpu" for p in loaded.encoder_.parameters())
        assert_array_equal(loaded.transform(X), expected)


def test_model_fitted_on_a_missing_cuda_index_loads_on_cpu(monkeypatch, hht_images):
    X, _ = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(X)
    cnn.device_ = torch.device("cuda:1")
    payload = pickle.dumps(cnn)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.warns(UserWarning, match="fitted on cuda:1"):
        loaded = pickle.loads(payload)
    assert loaded.device_ == torch.device("cpu")


def test_feature_names_and_pandas_output(hht_images):
    import pandas as pd

    M, _ = hht_images
    cnn = CNNFeatureExtractor(**SMALL, random_state=0).fit(M)
    names = cnn.get_feature_names_out()
    assert names.tolist() == [f"cnn{k}" for k in range(cnn.n_features_out_)]
    # input_features name the input channels: checked against them
    n_channels = cnn.input_shape_[0]
    channels = [f"c{k}" for k in range(n_channels)]
    assert cnn.get_feature_names_out(channels).tolist() == names.tolist()
    with pytest.raises(ValueError, match=f"n_channels_ = {n_channels}"):
        cnn.get_feature_names_out([*channels, "extra"])
    values = cnn.transform(M)
    frame = cnn.set_output(transform="pandas").transform(M)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == names.tolist()
    np.testing.assert_array_equal(frame.to_numpy(), values)
