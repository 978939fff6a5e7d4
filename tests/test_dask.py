"""The estimators on a Dask cluster: joblib's "dask" backend, unchanged code.

A ``distributed.LocalCluster`` of 2 worker processes (loopback only) is
started once for this module. Every result must equal the local run's: the
random seeds are drawn before the work is split, wherever it runs.
"""

import joblib
import numpy as np
import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

import sklearn  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    cross_validate,
)

from sklearn_semg import (  # noqa: E402
    HHTCNNClassifier,
    HHTFeatures,
    HHTTransformer,
    make_recommended_pipeline,
)
from sklearn_semg.datasets import load_movements  # noqa: E402
from sklearn_semg.hht import build_hht_store  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def movements():
    """30 real MioTracker recordings (central 512 samples) of 6 subjects."""
    bunch = load_movements()
    groups = np.asarray(bunch.groups)
    rows = np.flatnonzero(np.isin(groups, np.unique(groups)[:6]))[::2][:30]
    X = np.stack([bunch.data[i][:, 500:1012] for i in rows])
    return X, np.asarray(bunch.target)[rows], groups[rows], bunch.fs


def test_workers_run_one_thread_each(client):
    """distributed's nanny bounds OpenMP/BLAS threads per worker process, and
    torch reads that bound when the worker imports it: no oversubscription."""

    def threads():
        import os

        import torch

        return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()

    assert set(client.run(threads).values()) == {("1", 1)}


def test_hht_on_the_cluster_equals_the_local_run(client, movements):
    X, _, _, fs = movements
    for estimator in (
        HHTTransformer(fs=fs, n_freq_bins=32, n_time_bins=32),
        HHTTransformer(
            fs=fs,
            n_freq_bins=16,
            n_time_bins=16,
            method="eemd",
            emd_params={"trials": 4},
            random_state=3,
        ),  # fmt: skip
        HHTFeatures(fs=fs, n_bands=8),
    ):
        local = estimator.set_params(n_jobs=1).fit_transform(X)
        with joblib.parallel_config(backend="dask"):
            remote = estimator.set_params(n_jobs=2).fit_transform(X)
        np.testing.assert_array_equal(remote, local)


def test_the_workers_write_the_store_they_build(
    client, movements, tmp_path, monkeypatch
):
    """build_hht_store on the cluster: the store of the local build, one task
    per chunk, and no matrix comes back to this process (it cannot write one
    here)."""
    X, y, _, fs = movements
    hht = HHTTransformer(fs=fs, n_freq_bins=16, n_time_bins=16)
    local = build_hht_store(X, tmp_path / "local.zarr", transformer=hht,
                            labels=y, chunk_size=4)  # fmt: skip
    setitem = zarr.Array.__setitem__

    def no_matrices_here(array, key, value):
        assert array.basename != "hht", "matrices were written by the client"
        return setitem(array, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", no_matrices_here)
    with joblib.parallel_config(backend="dask"), distributed.get_task_stream() as ts:
        assert joblib.effective_n_jobs(None) == 2  # both workers
        remote = build_hht_store(X, tmp_path / "remote.zarr", transformer=hht,
                                 labels=y, chunk_size=4)  # fmt: skip
    assert remote.complete
    # one task per chunk: a chunk's recordings are not sent on as more tasks
    tasks = [task["key"] for task in ts.data]
    assert len(tasks) == 8, tasks
    assert all("compute_and_write_chunk" in key for key in tasks), tasks
    np.testing.assert_array_equal(np.asarray(remote.X[:]), np.asarray(local.X[:]))
    assert remote.y.tolist() == local.y.tolist()


def test_a_grid_search_on_the_cluster_equals_the_local_one(client, movements):
    X, y, groups, fs = movements
    search = GridSearchCV(
        make_recommended_pipeline(fs=fs, n_freq_bins=16, random_state=0),
        {"clf__C": [1.0, 10.0]},
        cv=GroupKFold(3),
    )
    local = search.set_params(n_jobs=1).fit(X, y, groups=groups)
    local_scores = local.cv_results_["mean_test_score"].copy()
    with joblib.parallel_config(backend="dask"):
        remote = search.set_params(n_jobs=2).fit(X, y, groups=groups)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local_scores)
    assert remote.best_params_ == local.best_params_


def test_networks_train_on_the_cluster_with_one_run_folder_each(
    client, movements, tmp_path
):
    """Method 2 cross-validated on the workers: the local scores, and every
    fit writes its checkpoints in a run folder of its own."""
    X, y, _, fs = movements
    M = HHTTransformer(fs=fs, n_freq_bins=16, n_time_bins=16).fit_transform(X)
    net = HHTCNNClassifier(
        module__base_channels=4, module__num_layers=2, max_epochs=2, verbose=0,
        random_state=0, train_split=None,
    )  # fmt: skip
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    local = cross_validate(net, M, y, cv=cv, n_jobs=1)["test_score"]
    with joblib.parallel_config(backend="dask"):
        out = cross_validate(
            net.set_params(checkpoint_dir=tmp_path), M, y, cv=cv, n_jobs=2
        )
    np.testing.assert_array_equal(out["test_score"], local)
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(runs) == 3
    for run in runs:
        assert (run / "final_model.pt").is_file()


def test_metadata_routing_reaches_the_workers(client, movements):
    """Per-subject calibration: groups routed through cross_validate."""
    X, y, groups, fs = movements
    pipe = make_recommended_pipeline(
        fs=fs, n_freq_bins=16, per_subject=True, random_state=0
    )
    with sklearn.config_context(enable_metadata_routing=True):
        params = {"groups": groups}
        local = cross_validate(pipe, X, y, cv=GroupKFold(3), params=params)
        with joblib.parallel_config(backend="dask"):
            remote = cross_validate(
                pipe, X, y, cv=GroupKFold(3), params=params, n_jobs=2
            )
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])
