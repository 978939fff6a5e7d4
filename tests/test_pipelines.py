"""make_cnn_svm_pipeline (method 1): steps and defaults, string labels,
calibrated probabilities without warnings, subject-wise cross-validation,
GridSearchCV over the SVM, the CNN and the HHT, parallel use without
oversubscription, clone/set_params and joblib persistence."""

import os
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from small import SMALL_CNN

from sklearn_semg import (
    CalibratedSVC,
    CNNFeatureExtractor,
    HHTTransformer,
    make_cnn_svm_pipeline,
)

LABELS = np.array(["M_full", "M_half", "F_full"])
# Small sizes: 18 one-channel recordings of 200 samples, 32x32 HHT, 4 base
# channels, 2 layers; the EMD is the cost, so max_imf is small too.
HHT_PARAMS = dict(n_freq_bins=32, n_time_bins=32, max_imf=4)


def small_pipeline(**params):
    return make_cnn_svm_pipeline(
        fs=1000,
        hht_params=dict(HHT_PARAMS),
        **{**SMALL_CNN, "random_state": 0, **params},
    )


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def recordings():
    """18 seeded synthetic recordings, 3 string classes; 6 subjects, each with
    one recording of each class."""
    from sklearn_semg.datasets import make_semg

    X, y = make_semg(18, n_times=200, n_classes=3, random_state=0)
    groups = np.empty(len(y), dtype=int)  # subject of each recording
    for k in range(3):
        groups[y == k] = np.arange(6)
    return X, LABELS[y], groups


@pytest.fixture(scope="module")
def fitted(recordings):
    X, y, _ = recordings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return small_pipeline().fit(X, y)


def threads_scorer(estimator, X, y):
    """A 'score' that reports the torch threads of the process scoring."""
    return float(torch.get_num_threads())


def max_threads_per_worker(n_jobs):
    return max(1, joblib.cpu_count() // n_jobs)


# -- construction -----------------------------------------------------------


def test_steps_and_reference_defaults():
    pipe = make_cnn_svm_pipeline()
    assert [name for name, _ in pipe.steps] == ["hht", "cnn", "scale", "clf"]
    hht, cnn, scale, svm = (step for _, step in pipe.steps)
    assert isinstance(hht, HHTTransformer) and hht.fs == 1000.0
    assert (hht.n_freq_bins, hht.n_time_bins, hht.max_imf) == (256, 256, 10)
    assert isinstance(cnn, CNNFeatureExtractor)
    assert (cnn.base_channels, cnn.num_layers, cnn.pooling) == (64, 3, "global")
    assert (cnn.device, cnn.batch_size, cnn.weights) == ("cpu", 4, None)
    assert isinstance(scale, StandardScaler)
    # the reference notebook's SVC(kernel="rbf", C=10, gamma="scale")
    assert isinstance(svm, CalibratedSVC)
    assert (svm.kernel, svm.C, svm.gamma) == ("rbf", 10.0, "scale")


def test_parameters_reach_their_steps():
    pipe = make_cnn_svm_pipeline(
        fs=2000,
        hht_params={"n_freq_bins": 64, "freq_range": (20, 450)},
        base_channels=8,
        num_layers=2,
        pooling="time",
        device="auto",
        batch_size=2,
        C=1.0,
        gamma=0.1,
        n_jobs=2,
        random_state=3,
    )
    params = pipe.get_params()
    assert params["hht__fs"] == 2000 and params["hht__n_freq_bins"] == 64
    assert params["hht__freq_range"] == (20, 450) and params["hht__n_jobs"] == 2
    assert params["cnn__base_channels"] == 8 and params["cnn__num_layers"] == 2
    assert params["cnn__pooling"] == "time" and params["cnn__device"] == "auto"
    assert params["cnn__batch_size"] == 2 and params["cnn__random_state"] == 3
    assert params["clf__C"] == 1.0 and params["clf__gamma"] == 0.1
    assert params["clf__random_state"] == 3
    no_hht = make_cnn_svm_pipeline(hht=False)
    assert [name for name, _ in no_hht.steps] == ["cnn", "scale", "clf"]


# -- fit, predict, predict_proba, score ---------------------------------------


def test_fit_predict_proba_score_with_string_labels(recordings, fitted):
    X, y, _ = recordings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a single warning, of any kind
        pred = fitted.predict(X)
        proba = fitted.predict_proba(X)
        score = fitted.score(X, y)
        decision = fitted.decision_function(X)
    assert_array_equal(fitted.classes_, np.sort(LABELS))
    assert pred.shape == (18,) and set(pred) <= set(LABELS)
    assert proba.shape == (18, 3) and decision.shape == (18, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert score == accuracy_score(y, pred)
    # the classes are separable by their spectra: the fitted model learned them
    assert score >= 0.8
    # the features come from the frozen CNN: (n, 8) for 4 base channels, 2
    # layers; the probabilities from the SVC's calibrator, columns in classes_
    features = fitted[:-1].transform(X)
    assert features.shape == (18, 8) and features.dtype == np.float32
    svm = fitted.named_steps["clf"]
    assert_array_equal(svm.calibrator_.classes_, fitted.classes_)
    assert_array_equal(proba, svm.calibrator_.predict_proba(features))
    assert_array_equal(pred, svm.classes_[decision.argmax(axis=1)])


def test_hht_step_equals_precomputed_matrices(recordings, fitted):
    """hht=False on matrices computed beforehand gives the same model (the
    HHT of each recording does not depend on the others)."""
    X, y, _ = recordings
    H = HHTTransformer(fs=1000, **HHT_PARAMS).fit_transform(X)
    assert H.shape == (18, 1, 32, 32)
    pipe = make_cnn_svm_pipeline(hht=False, **SMALL_CNN, random_state=0).fit(H, y)
    assert_array_equal(pipe.predict(H), fitted.predict(X))
    assert_array_equal(pipe.predict_proba(H), fitted.predict_proba(X))


# -- cross-validation and search ----------------------------------------------


def test_subject_wise_cross_val_score_same_for_any_n_jobs(recordings):
    X, y, groups = recordings
    cv = GroupKFold(n_splits=3)
    for train, test in cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    one = cross_val_score(small_pipeline(), X, y, groups=groups, cv=cv, n_jobs=1)
    two = cross_validate(
        small_pipeline(),
        X,
        y,
        groups=groups,
        cv=cv,
        n_jobs=2,
        scoring={"accuracy": "accuracy", "threads": threads_scorer},
        return_estimator=True,
        error_score="raise",
    )
    assert one.shape == (3,) and np.all((one >= 0) & (one <= 1))
    assert_array_equal(two["test_accuracy"], one)
    # each worker of the pool had at most its share of the cores
    assert np.all(two["test_threads"] <= max_threads_per_worker(2))
    # the models came back from the workers fitted, on the CPU
    for estimator in two["estimator"]:
        assert estimator.named_steps["cnn"].device_ == torch.device("cpu")


def test_grid_search_over_svm_cnn_and_hht(recordings):
    X, y, groups = recordings
    grid = {
        "clf__C": [1.0, 10.0],
        "cnn__base_channels": [4, 8],
        "hht__n_freq_bins": [32, 48],
    }
    search = GridSearchCV(
        small_pipeline(),
        grid,
        cv=GroupKFold(n_splits=2),
        scoring={"accuracy": "accuracy", "threads": threads_scorer},
        refit="accuracy",
        n_jobs=2,
        error_score="raise",
    ).fit(X, y, groups=groups)
    results = search.cv_results_
    assert len(results["params"]) == 8
    assert np.all(results["mean_test_threads"] <= max_threads_per_worker(2))
    assert set(search.best_params_) == set(grid)
    # the refitted model carries the best parameters, HHT included
    best = search.best_estimator_
    assert (
        best.named_steps["hht"].n_freq_bins == search.best_params_["hht__n_freq_bins"]
    )
    n_freq = search.best_params_["hht__n_freq_bins"]
    assert best.named_steps["cnn"].input_shape_ == (1, n_freq, 32)
    base = search.best_params_["cnn__base_channels"]
    assert best.named_steps["cnn"].n_features_out_ == 2 * base
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert search.predict_proba(X[:3]).shape == (3, 3)
    # n_jobs=1 gives the same scores: check two candidates, each on both folds
    for index in (0, search.best_index_):
        params = results["params"][index]
        sequential = cross_val_score(
            small_pipeline().set_params(**params),
            X,
            y,
            groups=groups,
            cv=GroupKFold(n_splits=2),
            n_jobs=1,
        )
        parallel = [results[f"split{k}_test_accuracy"][index] for k in range(2)]
        assert_array_equal(sequential, parallel)


# -- clone, set_params, persistence -------------------------------------------


def test_clone_and_set_params(recordings, fitted):
    X, y, _ = recordings
    fresh = clone(fitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh.named_steps["cnn"])
    assert fresh.get_params(deep=False)["steps"][1][0] == "cnn"
    for key, value in fitted.get_params().items():
        if not hasattr(value, "get_params") and key != "steps":
            assert fresh.get_params()[key] == value, key
    fresh.set_params(cnn__base_channels=8, hht__n_freq_bins=48, clf__C=1.0)
    assert fresh.named_steps["cnn"].base_channels == 8
    assert fresh.named_steps["hht"].n_freq_bins == 48
    assert fresh.named_steps["clf"].C == 1.0
    # the original is untouched by changes to its clone
    assert fitted.named_steps["cnn"].base_channels == 4
    fresh.fit(X, y)
    assert fresh.named_steps["cnn"].n_features_out_ == 16
    assert fresh.named_steps["cnn"].input_shape_ == (1, 48, 32)
    # same parameters, same random_state: a clone refits to the same model
    assert_array_equal(
        clone(fitted).fit(X, y).predict_proba(X), fitted.predict_proba(X)
    )


def test_joblib_round_trip(tmp_path, recordings, fitted):
    X, _, _ = recordings
    path = tmp_path / "method1.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    assert [name for name, _ in loaded.steps] == ["hht", "cnn", "scale", "clf"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(loaded.predict(X), fitted.predict(X))
        assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
        assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))


def test_pipeline_fitted_on_cuda_loads_on_cpu(monkeypatch, tmp_path, recordings):
    """A pipeline whose extractor ran on a GPU (device_ set by hand, the
    weights on the CPU, so this runs anywhere) loads and predicts without one."""
    X, y, _ = recordings
    pipe = small_pipeline().fit(X, y)
    expected = pipe.predict_proba(X)
    pipe.named_steps["cnn"].device_ = torch.device("cuda")
    joblib.dump(pipe, tmp_path / "gpu.joblib")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on cuda.*runs on the CPU"):
        loaded = joblib.load(tmp_path / "gpu.joblib")
    assert loaded.named_steps["cnn"].device_ == torch.device("cpu")
    assert_array_equal(loaded.predict_proba(X), expected)


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False)",
)
def test_pipeline_on_cuda_scores_like_cpu(recordings):
    X, y, _ = recordings
    cpu = small_pipeline().fit(X, y)
    gpu = small_pipeline(device="cuda").fit(X, y)
    assert gpu.named_steps["cnn"].device_.type == "cuda"
    agreement = np.mean(gpu.predict(X) == cpu.predict(X))
    assert agreement >= 0.9


def test_no_thread_oversubscription_in_worker_function():
    """A function run through joblib sees at most its share of the cores."""
    threads = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_threads_and_pid)() for _ in range(4)
    )
    for n_threads, pid in threads:
        assert pid != os.getpid()
        assert n_threads <= max_threads_per_worker(2)


def _threads_and_pid():
    return torch.get_num_threads(), os.getpid()


def _shipped_pipelines(fs):
    from sklearn_semg import make_end_to_end_pipeline, make_recommended_pipeline

    hht = dict(HHT_PARAMS)
    return {
        "recommended": make_recommended_pipeline(fs=fs, n_freq_bins=16, random_state=0),
        "recommended+filter": make_recommended_pipeline(
            fs=fs, n_freq_bins=16, filter=True, random_state=0
        ),
        "cnn-svm": make_cnn_svm_pipeline(
            fs=fs, hht_params=hht, **SMALL_CNN, random_state=0
        ),
        "end-to-end": make_end_to_end_pipeline(
            fs=fs,
            hht_params=hht,
            max_epochs=1,
            verbose=0,
            random_state=0,
            module__base_channels=4,
            module__num_layers=2,
            train_split=None,
        ),
    }


@pytest.mark.parametrize(
    "name", ["recommended", "recommended+filter", "cnn-svm", "end-to-end"]
)
def test_feature_names_and_pandas_output_end_to_end(name):
    """Every shipped pipeline names what its classifier sees (the columns of
    a feature table, or the channels of the matrices), and
    set_output(transform="pandas") gives a table as a DataFrame with the same
    values and predictions (real bundled MioTracker recordings)."""
    from sklearn_semg.datasets import load_movements

    bunch = load_movements()
    rows = np.r_[0:8, 200:208]
    X = np.stack([bunch.data[i][:, :600] for i in rows])
    y = np.asarray(bunch.target)[rows]
    pipe = _shipped_pipelines(bunch.fs)[name].fit(X, y)
    names = pipe[:-1].get_feature_names_out()
    table = pipe[:-1].transform(X)
    assert names.dtype == object and len(names) == table.shape[1]
    assert len(set(names)) == len(names)
    assert any("ch1" in n for n in names) or name in ("cnn-svm", "end-to-end")

    framed = clone(pipe).set_output(transform="pandas").fit(X, y)
    frame = framed[:-1].transform(X)
    if table.ndim > 2:
        # the network reads matrices: named by channel, never made a table
        assert names.tolist() == ["ch0", "ch1"]
        assert isinstance(frame, np.ndarray)
        np.testing.assert_array_equal(frame, table)
    else:
        assert isinstance(frame, pd.DataFrame)
        assert frame.columns.tolist() == names.tolist()
        np.testing.assert_allclose(frame.to_numpy(), table, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(framed.predict(X), pipe.predict(X))
