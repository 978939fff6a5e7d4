"""Safe model files: save_model / load_model (skops + safetensors, no pickle)."""

import collections
import json
import os
import zipfile

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from sklearn_semg import (
    EMGFeatures,
    load_model,
    make_cnn_svm_pipeline,
    make_end_to_end_pipeline,
    make_recommended_pipeline,
    model_metadata,
    persistence,
    save_model,
)
from sklearn_semg.datasets import make_semg
from sklearn_semg.nn import CNNFeatureExtractor, HHTCNNClassifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL_HHT = {"n_freq_bins": 16, "n_time_bins": 16}
SMALL_NET = dict(module__base_channels=4, module__num_layers=2, verbose=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_semg(24, n_channels=2, n_times=600, n_classes=3, random_state=0)[:2]
    return X, np.array(["rest", "grip", "pinch"])[y]


def assert_same_predictions(loaded, model, X):
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def same_params(a, b):
    """Equal parameters, step by step (a skorch net's deep parameters list
    its callback objects, which are rebuilt)."""
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for key, value in pa.items():
        if hasattr(value, "get_params"):
            same_params(value, pb[key])
        elif key in ("steps", "transformer_list"):
            assert [n for n, _ in value] == [n for n, _ in pb[key]]
            for (_, x), (_, z) in zip(value, pb[key], strict=True):
                same_params(x, z)
        elif hasattr(value, "items"):  # a state dict
            assert value.keys() == pb[key].keys()
        else:
            assert repr(value) == repr(pb[key]), key


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_recommended_pipeline(fs=1000, random_state=0),
        lambda: make_cnn_svm_pipeline(
            fs=1000, hht_params=SMALL_HHT, base_channels=4, random_state=0
        ),
        lambda: make_end_to_end_pipeline(
            fs=1000, hht_params=SMALL_HHT, max_epochs=3, random_state=0, **SMALL_NET
        ),
        lambda: make_pipeline(EMGFeatures(fs=1000), StandardScaler(), SVC()),
    ],
    ids=["recommended", "cnn-svm", "end-to-end", "classic"],
)
def test_every_shipped_pipeline_round_trips_exactly(make, data, tmp_path):
    X, y = data
    model = make().fit(X, y)
    before = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    path = save_model(model, tmp_path / "model.semg", metadata={"task": "grip"})
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if before is not None:
        np.testing.assert_array_equal(loaded.predict_proba(X), before)
        # saving left the caller's model as it was
        np.testing.assert_array_equal(model.predict_proba(X), before)
    same_params(loaded, model)
    clone(loaded)  # a plain scikit-learn estimator again
    assert model_metadata(path) == {"task": "grip"}
    # the file is a zip of JSON, skops and safetensors: no pickle anywhere
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "estimator.skops",
            "sklearn-semg-model.json",
            "weights.safetensors",
        ]


def test_per_subject_pipeline_round_trips_with_groups(data, tmp_path):
    X, y = data
    groups = np.repeat(np.arange(4), 6)
    with sklearn.config_context(enable_metadata_routing=True):
        model = make_recommended_pipeline(fs=1000, per_subject=True, random_state=0)
        model.fit(X, y, groups=groups)
        loaded = load_model(save_model(model, tmp_path / "m.semg"))
        np.testing.assert_array_equal(
            loaded.predict_proba(X, groups=groups),
            model.predict_proba(X, groups=groups),
        )


def test_the_end_to_end_net_keeps_its_optimizer_state_and_history(tmp_path):
    X, y = make_semg(20, n_channels=1, n_times=400, random_state=1)[:2]
    X = np.abs(np.fft.rfft(X, axis=-1))[:, :, None, :16].repeat(16, axis=2)
    X = X.astype(np.float32)
    net = HHTCNNClassifier(max_epochs=3, random_state=0, **SMALL_NET).fit(X, y)
    loaded = load_model(save_model(net, tmp_path / "net.semg"))
    assert_same_predictions(loaded, net, X)
    assert loaded.history.to_list() == json.loads(json.dumps(net.history.to_list()))
    saved, restored = net.optimizer_.state_dict(), loaded.optimizer_.state_dict()
    assert saved["param_groups"] == restored["param_groups"]
    for index, state in saved["state"].items():
        for name, value in state.items():
            torch.testing.assert_close(restored["state"][index][name], value)
    # it trains on from there (skorch's partial_fit: max_epochs more epochs)
    loaded.partial_fit(X, y)
    assert len(loaded.history) == 3 + 3
    step = next(iter(loaded.optimizer_.state_dict()["state"].values()))["step"]
    assert step > next(iter(saved["state"].values()))["step"]


def test_unfitted_estimators_round_trip_with_their_parameters(tmp_path):
    weights = {"encoder.0.conv.weight": torch.ones(4, 1, 3, 3)}
    for model in (
        make_end_to_end_pipeline(hht=False, max_epochs=7, lr=0.01, **SMALL_NET),
        CNNFeatureExtractor(base_channels=8, weights=weights),
        make_recommended_pipeline(fs=2000),
    ):
        loaded = load_model(save_model(model, tmp_path / "u.semg"))
        same_params(loaded, model)
    loaded_weights = load_model(
        save_model(CNNFeatureExtractor(weights=weights), tmp_path / "w.semg")
    ).weights
    torch.testing.assert_close(
        loaded_weights["encoder.0.conv.weight"], weights["encoder.0.conv.weight"]
    )


def test_gpu_fitted_torch_estimators_load_on_the_cpu(data, tmp_path, monkeypatch):
    """Simulated: the estimators claim CUDA when saved; CUDA is absent at load."""
    X, y = data
    model = make_cnn_svm_pipeline(
        fs=1000, hht_params=SMALL_HHT, base_channels=4, random_state=0
    ).fit(X, y)
    model.named_steps["cnn"].device_ = torch.device("cuda")
    path = save_model(model, tmp_path / "cnn.semg")
    model.named_steps["cnn"].device_ = torch.device("cpu")
    H = model[:-3].transform(X)
    net = HHTCNNClassifier(max_epochs=2, random_state=0, **SMALL_NET).fit(H, y)
    net.set_params(device="cuda")
    net_path = save_model(net, tmp_path / "net.semg")
    net.set_params(device="cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on cuda.*runs on the CPU"):
        loaded = load_model(path)
    assert loaded.named_steps["cnn"].device_.type == "cpu"
    assert_same_predictions(loaded, model, X)
    with pytest.warns(UserWarning, match="fitted on cuda.*runs on the CPU"):
        loaded_net = load_model(net_path)
    assert loaded_net.device == "cpu"
    assert_same_predictions(loaded_net, net, H)


# -- what a model file may not do ------------------------------------------
def _double(X):
    return 2 * X


class _TouchOnLoad:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_joblib_file_is_refused_without_being_loaded(tmp_path):
    import joblib

    marker = tmp_path / "payload-ran"
    path = tmp_path / "model.joblib"
    joblib.dump(_TouchOnLoad(marker), path)
    with pytest.raises(ValueError, match="looks like a joblib/pickle file"):
        load_model(path)
    with pytest.raises(ValueError, match="looks like a joblib/pickle file"):
        model_metadata(path)
    assert not marker.exists()


def test_untrusted_types_are_named_and_refused_unless_trusted(tmp_path, data):
    X, _ = data
    # a function reference: loading it would hand os.system to the pipeline
    path = save_model(FunctionTransformer(os.system), tmp_path / "system.semg")
    with pytest.raises(ValueError, match=r"does not trust: \['posix.system'\]"):
        load_model(path)
    # the user's own function, trusted explicitly by its exact name
    path = save_model(make_pipeline(FunctionTransformer(_double)), tmp_path / "d.semg")
    name = f"{__name__}._double"
    with pytest.raises(ValueError, match=rf"pass trusted=\['{name}'\]"):
        load_model(path)
    np.testing.assert_array_equal(load_model(path, trusted=[name]).transform(X), 2 * X)
    with pytest.raises(TypeError, match="'trusted' parameter of load_model"):
        load_model(path, trusted=name)


def test_a_forged_torch_record_builds_nothing(tmp_path):
    """A record naming a class other than sklearn-semg's torch estimators."""
    record = persistence._SavedTorchEstimator(collections.Counter, {"params": {}})
    path = save_model([record], tmp_path / "forged.semg")
    with pytest.raises(ValueError, match="does not trust: \\['collections.Counter'\\]"):
        load_model(path)
    with pytest.raises(ValueError, match="not one that sklearn-semg rebuilds"):
        load_model(path, trusted=["collections.Counter"])


def _rewrite(path, member, data):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = data
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value)


def test_damaged_newer_and_oversized_files_get_clear_errors(tmp_path, monkeypatch):
    good = save_model(StandardScaler(), tmp_path / "good.semg")
    truncated = tmp_path / "truncated.semg"
    truncated.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(ValueError, match="truncated.semg"):
        load_model(truncated)
    newer = tmp_path / "newer.semg"
    newer.write_bytes(good.read_bytes())
    header = json.loads(zipfile.ZipFile(newer).read("sklearn-semg-model.json"))
    header["format_version"] = persistence.MODEL_FORMAT_VERSION + 1
    _rewrite(newer, "sklearn-semg-model.json", json.dumps(header).encode())
    with pytest.raises(ValueError, match="reads versions up to"):
        load_model(newer)
    broken = tmp_path / "broken.semg"
    broken.write_bytes(good.read_bytes())
    _rewrite(broken, "weights.safetensors", b"\xff" * 64)
    with pytest.raises(ValueError, match="broken.semg' is damaged"):
        load_model(broken)
    other_zip = tmp_path / "other.semg"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("x.txt", "hello")
    with pytest.raises(ValueError, match="not a sklearn-semg model file.*lacks"):
        load_model(other_zip)
    monkeypatch.setattr(persistence, "MAX_MEMBER_BYTES", 16)
    with pytest.raises(ValueError, match="more than the 16 bytes"):
        load_model(good)
    with pytest.raises(FileNotFoundError, match="missing.semg"):
        load_model(tmp_path / "missing.semg")


def test_saving_is_atomic_and_metadata_must_be_json(tmp_path):
    path = save_model(StandardScaler(), tmp_path / "m.semg")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="'metadata' of save_model"):
        save_model(StandardScaler(), path, metadata={"x": object()})
    with pytest.raises(FileExistsError):
        save_model(StandardScaler(), path, overwrite=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.semg"]  # no temp left
