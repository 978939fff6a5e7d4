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
from small import SMALL_NET

from sklearn_semg import (
    EMGFeatures,
    is_model_file,
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
        elif isinstance(value, (set, frozenset)):  # (no order to compare)
            assert value == pb[key], key
        else:
            assert repr(value) == repr(pb[key]), key


def test_load_model_returns_the_metadata_from_the_same_read(data, tmp_path):
    X, y = data
    model = make_pipeline(EMGFeatures(fs=1000), StandardScaler(), SVC()).fit(X, y)
    path = save_model(model, tmp_path / "m.semg", metadata={"fs": 1000, "n": 24})
    loaded, metadata = load_model(path, return_metadata=True)
    assert metadata == {"fs": 1000, "n": 24} == model_metadata(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_is_model_file_reads_only_the_zip_directory(tmp_path):
    import joblib

    model = save_model(StandardScaler(), tmp_path / "scaler.semg")
    assert is_model_file(model) and is_model_file(str(model))
    joblib.dump(StandardScaler(), tmp_path / "scaler.joblib")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("estimator.skops", b"not a model header beside it")
    for path in (tmp_path / "scaler.joblib", other_zip, tmp_path, tmp_path / "none"):
        assert not is_model_file(path), path
    # a damaged model file is still one: load_model says what is wrong
    damaged = tmp_path / "damaged.semg"
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(damaged, "w") as dst:
        dst.writestr("sklearn-semg-model.json", src.read("sklearn-semg-model.json"))
    assert is_model_file(damaged)
    with pytest.raises(ValueError, match="damaged.semg"):
        load_model(damaged)


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


# -- forged files (found by a security review of this module) --------------
def _skops_archive(schema, files=()):
    """A skops archive with this schema and these extra members."""
    import io

    import skops
    from skops.io._protocol import PROTOCOL

    schema = dict(schema, protocol=PROTOCOL, _skops_version=skops.__version__)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", json.dumps(schema))
        for name, data in dict(files).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _schema_of(obj):
    """The skops schema of a plain object, and its extra members."""
    import io

    import skops.io

    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(obj))) as archive:
        schema = json.loads(archive.read("schema.json"))
        files = {n: archive.read(n) for n in archive.namelist() if n != "schema.json"}
    for key in ("protocol", "_skops_version"):
        schema.pop(key)
    return schema, files


def _forge(path, graph_bytes):
    """A model file around a hand-made skops archive."""
    save_model(StandardScaler(), path)
    _rewrite(path, "estimator.skops", graph_bytes)
    return path


def test_a_torch_estimator_built_by_skops_from_the_file_is_refused(tmp_path):
    """skorch's NeuralNet.__setstate__ unpickles bytes of its state: a file
    that asks skops to build an HHTCNNClassifier directly would run code."""
    import pickle

    marker = tmp_path / "payload-ran"
    content, files = _schema_of(
        {"device": "cpu", "__cuda_dependent_attributes__": pickle.dumps(
            _TouchOnLoad(marker))}
    )  # fmt: skip
    graph = {"__class__": "HHTCNNClassifier", "__loader__": "ObjectNode",
             "__module__": "sklearn_semg.nn._classifier", "content": content}  # fmt: skip
    path = _forge(tmp_path / "forged.semg", _skops_archive(graph, files))
    with pytest.raises(ValueError, match="asks to build.*HHTCNNClassifier"):
        load_model(path)
    assert not marker.exists()
    name = "sklearn_semg.nn._classifier.HHTCNNClassifier"
    with pytest.raises(ValueError, match="cannot trust"):
        load_model(path, trusted=[name])


def test_a_small_file_cannot_decompress_gigabytes(tmp_path):
    """One member named many times by the schema is read as many times."""
    import io

    npy = io.BytesIO()
    np.save(npy, np.zeros(2**27, np.uint8))  # 128 MiB of zeros, 130 KB packed
    node = {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode",
            "type": "numpy", "file": "a.npy"}  # fmt: skip
    graph = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
             "content": [node] * 8}  # fmt: skip
    path = _forge(
        tmp_path / "bomb.semg", _skops_archive(graph, {"a.npy": npy.getvalue()})
    )
    assert path.stat().st_size < 2**20
    with pytest.raises(ValueError, match="would decompress .* bytes.*refused"):
        load_model(path)


def test_a_forged_architecture_is_refused_before_it_is_allocated(tmp_path):
    X, y = make_semg(12, n_times=300, random_state=0)[:2]
    H = np.random.default_rng(0).random((12, 1, 16, 16), dtype=np.float32)
    net = HHTCNNClassifier(max_epochs=1, random_state=0, **SMALL_NET).fit(H, y)
    path = save_model(net, tmp_path / "net.semg")
    with zipfile.ZipFile(path) as archive:
        graph = archive.read("estimator.skops")
    import io

    with zipfile.ZipFile(io.BytesIO(graph)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    forged = json.loads(members.pop("schema.json"))
    for key in ("protocol", "_skops_version"):
        forged.pop(key)
    # 4 -> 4096 channels in the parameters, the saved weights unchanged
    changed, stack = 0, [forged]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "module__base_channels" in node:
                value = node["module__base_channels"]
                value["content"] = type(value["content"])(4096)
                changed += 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert changed == 1
    _rewrite(path, "estimator.skops", _skops_archive(forged, members))
    with pytest.raises(ValueError, match="does not match its saved weights"):
        load_model(path)


def test_checkpoint_folders_are_not_taken_from_a_model_file(tmp_path):
    H = np.random.default_rng(0).random((12, 1, 16, 16), dtype=np.float32)
    y = np.repeat(["a", "b"], 6)
    net = HHTCNNClassifier(
        max_epochs=1, random_state=0, checkpoint_dir=tmp_path / "runs", **SMALL_NET
    ).fit(H, y)
    path = save_model(net, tmp_path / "net.semg")
    with pytest.warns(UserWarning, match="checkpoint_dir.*not restored"):
        loaded = load_model(path)
    assert loaded.checkpoint_dir is None and loaded.resume_from is None
    assert_same_predictions(loaded, net, H)


def test_a_search_holding_networks_in_its_results_is_not_saved(tmp_path):
    """A network inside an object array (cv_results_) would reach skops as a
    plain object; saving refuses, and the search's best model saves."""
    from sklearn.model_selection import GridSearchCV

    H = np.random.default_rng(0).random((12, 1, 16, 16), dtype=np.float32)
    y = np.repeat(["a", "b"], 6)
    nets = [HHTCNNClassifier(max_epochs=1, lr=lr, random_state=0, **SMALL_NET)
            for lr in (1e-3, 1e-2)]  # fmt: skip
    search = GridSearchCV(make_pipeline(nets[0]), {"hhtcnnclassifier": nets}, cv=2).fit(
        H, y
    )
    with pytest.raises(TypeError, match="a model file cannot hold them"):
        save_model(search, tmp_path / "search.semg")
    assert not (tmp_path / "search.semg").exists()
    best = load_model(save_model(search.best_estimator_, tmp_path / "best.semg"))
    assert_same_predictions(best, search.best_estimator_, H)


def test_a_pipeline_with_a_filter_round_trips(tmp_path):
    """Every estimator of the package that a shipped pipeline can hold is
    trusted: here SEMGFilter, the optional first step of every factory."""
    from sklearn_semg import make_recommended_pipeline
    from sklearn_semg.datasets import load_movements

    bunch = load_movements()
    rows = np.r_[0:6, 300:306]
    X = np.stack([bunch.data[i][:, :512] for i in rows])
    y = np.asarray(bunch.target)[rows]
    model = make_recommended_pipeline(fs=bunch.fs, n_freq_bins=16, filter=True)
    model.fit(X, y)
    save_model(model, tmp_path / "f.semg")
    loaded = load_model(tmp_path / "f.semg")
    assert type(loaded.steps[0][1]).__name__ == "SEMGFilter"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
