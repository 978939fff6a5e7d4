"""The on-disk HHT store (Zarr) and the estimators that read it batch by batch."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sklearn_semg import CNNFeatureExtractor, HHTTransformer, MarginalSpectrum
from sklearn_semg.datasets import load_movements
from sklearn_semg.hht import build_hht_store, open_hht_store

zarr = pytest.importorskip("zarr")

#: Small matrices: the store's behaviour does not depend on their size.
HHT = dict(n_freq_bins=16, n_time_bins=16, max_imf=6)


@pytest.fixture(scope="module")
def movements():
    """25 real MioTracker recordings (central 512 samples), 5 per movement."""
    bunch = load_movements()
    target = np.asarray(bunch.target)
    rows = np.concatenate([np.flatnonzero(target == c)[:5] for c in np.unique(target)])
    X = np.stack([bunch.data[i][:, 500:1012] for i in rows])
    return X, target[rows], np.asarray(bunch.groups)[rows], bunch.fs


@pytest.fixture(scope="module")
def reference(movements):
    X, _, _, fs = movements
    return HHTTransformer(fs=fs, **HHT).fit_transform(X)


class Recorded:
    """An on-disk array that records the rows of every read in ``reads``."""

    def __init__(self, array, reads):
        self.array, self.reads = array, reads
        self.shape, self.dtype, self.chunks = array.shape, array.dtype, array.chunks

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        self.reads.append((key.start, key.stop))
        return self.array[key]


def _hht(fs):
    return HHTTransformer(fs=fs, **HHT)


def test_build_and_open(tmp_path, movements, reference):
    X, y, groups, fs = movements
    store = build_hht_store(
        X, tmp_path / "s.zarr", transformer=_hht(fs), labels=y, groups=groups,
        chunk_size=7,
    )  # fmt: skip
    assert store.complete and store.missing_chunks == []
    assert store.X.shape == reference.shape and store.X.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)
    assert store.y.tolist() == y.tolist()
    assert store.groups.tolist() == [str(g) for g in groups]
    assert store.names[:2].tolist() == ["recording_0", "recording_1"]
    assert store.settings["n_freq_bins"] == 16 and store.chunk_size == 7
    again = open_hht_store(tmp_path / "s.zarr")
    np.testing.assert_array_equal(np.asarray(again.X[10:12]), reference[10:12])


def test_a_stream_of_unknown_length(tmp_path, movements, reference):
    X, _, _, fs = movements
    store = build_hht_store(
        (x for x in X), tmp_path / "s.zarr", transformer=_hht(fs), chunk_size=8
    )
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)
    assert store.names[-1] == f"recording_{len(X) - 1}"


def test_a_killed_build_resumes_without_recomputing(tmp_path, movements, reference):
    """A build killed (SIGKILL) in its third chunk is finished by a second
    run, which computes only the chunks that the first did not mark done."""
    X, y, _, fs = movements
    np.save(tmp_path / "X.npy", X)
    path = tmp_path / "s.zarr"
    script = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        from sklearn_semg import HHTTransformer
        from sklearn_semg.hht import build_hht_store

        X = np.load({str(tmp_path / "X.npy")!r})

        class Killer(HHTTransformer):
            calls = 0

            def transform(self, X):
                Killer.calls += 1
                if Killer.calls == 3:  # in the third chunk, before its write
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().transform(X)

        build_hht_store(X, {str(path)!r}, transformer=Killer(fs={fs}, **{HHT!r}),
                        chunk_size=5, labels={y.tolist()!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    with pytest.raises(ValueError, match=r"is incomplete: chunks \[2, 3, 4\]"):
        open_hht_store(path)
    partial = open_hht_store(path, allow_incomplete=True)
    assert partial.missing_chunks == [2, 3, 4]

    computed = []

    class Counting(HHTTransformer):
        def transform(self, X):
            computed.append(len(X))
            return super().transform(X)

    store = build_hht_store(
        X, path, transformer=Counting(fs=fs, **HHT), chunk_size=5, labels=y
    )
    assert computed == [5, 5, 5]  # chunks 2, 3 and 4 only
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)
    assert store.y.tolist() == y.tolist()


def test_a_half_written_chunk_never_reads_as_valid(tmp_path, movements, reference):
    X, _, _, fs = movements
    path = tmp_path / "s.zarr"
    build_hht_store(X, path, transformer=_hht(fs), chunk_size=5)
    # what a kill in the middle of writing chunk 1 leaves: some rows written,
    # the done flag not set
    group = zarr.open_group(os.fspath(path), mode="r+")
    group["hht"][5:7] = -1.0
    group["done"][1] = False
    group.attrs["complete"] = False
    with pytest.raises(ValueError, match=r"incomplete: chunks \[1\]"):
        open_hht_store(path)
    store = build_hht_store(X, path, transformer=_hht(fs), chunk_size=5)
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)


@pytest.mark.parametrize("stream", [False, True], ids=["array", "stream"])
def test_chunks_built_in_parallel_give_the_same_store(
    tmp_path, movements, reference, stream
):
    """n_jobs=2 (joblib's processes): the matrices, labels and names of the
    one-job build, also when resuming a store with chunks missing."""
    X, y, groups, fs = movements
    path = tmp_path / "s.zarr"

    def build():
        return build_hht_store(
            (x for x in X) if stream else X, path, transformer=_hht(fs), labels=y,
            groups=groups, chunk_size=4, n_jobs=2,
        )  # fmt: skip

    store = build()
    assert store.complete
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)
    assert store.y.tolist() == y.tolist()
    assert store.groups.tolist() == [str(g) for g in groups]
    assert store.names.tolist() == [f"recording_{i}" for i in range(len(X))]
    group = zarr.open_group(os.fspath(path), mode="r+")
    for k in (1, 4, 6):  # what kills mid-chunk leave behind
        group["hht"][4 * k : 4 * k + 2] = -1.0
        group["done"][k] = False
    group.attrs["complete"] = False
    store = build()
    assert store.complete
    np.testing.assert_array_equal(np.asarray(store.X[:]), reference)


def test_a_resumed_build_refuses_recordings_with_other_channels(tmp_path, movements):
    X, _, _, fs = movements
    path = tmp_path / "s.zarr"
    build_hht_store(X, path, transformer=_hht(fs), chunk_size=5)
    group = zarr.open_group(os.fspath(path), mode="r+")
    group["done"][2] = False
    with pytest.raises(ValueError, match=r"shape \(1, 16, 16\); the store holds "
                       r"\(2, 16, 16\) \(a different number of channels\?\)"):  # fmt: skip
        build_hht_store(X[:, :1], path, transformer=_hht(fs), chunk_size=5)
    assert not np.asarray(group["done"][:])[2]


def test_clear_errors(tmp_path, movements):
    X, y, _, fs = movements
    path = tmp_path / "s.zarr"
    store = build_hht_store(X, path, transformer=_hht(fs), chunk_size=8)
    with pytest.raises(ValueError, match=r"has no labels; build it with .*labels=y"):
        store.y  # noqa: B018
    # other settings at the same path: refused, nothing changed
    with pytest.raises(ValueError, match="built with other settings"):
        build_hht_store(X, path, transformer=HHTTransformer(fs=fs, n_freq_bins=8))
    assert open_hht_store(path).X.shape[2] == 16
    with pytest.raises(ValueError, match=r"labels must be 1-D with one value .*\(25\)"):
        build_hht_store(X, tmp_path / "t.zarr", transformer=_hht(fs), labels=y[:3])
    with pytest.raises(ValueError, match="normalize='global' learns a scale"):
        build_hht_store(X, tmp_path / "u.zarr", transformer=_hht(fs).set_params(
            normalize="global"))  # fmt: skip
    # a store whose matrices have the wrong shape, or labels of the wrong length
    group = zarr.open_group(os.fspath(path), mode="r+")
    group.create_array("labels", shape=(3,), dtype=str)
    with pytest.raises(ValueError, match=r"has 3 labels for 25 matrices"):
        open_hht_store(path)
    flat = zarr.open_group(os.fspath(tmp_path / "flat.zarr"), mode="w")
    flat.attrs.update(
        {"format": "sklearn-semg-hht-store", "version": 1, "chunk_size": 4}
    )
    flat.create_array("hht", shape=(4, 16), dtype="float32")
    with pytest.raises(ValueError, match=r"no matrices of shape \(n, C, F, T\)"):
        open_hht_store(tmp_path / "flat.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="'.*plain' is not an HHT store"):
        open_hht_store(tmp_path / "plain")
    with pytest.raises(FileNotFoundError, match="HHT store not found"):
        open_hht_store(tmp_path / "nowhere.zarr")


def test_transformers_read_the_store_batch_by_batch(tmp_path, movements, reference):
    """CNNFeatureExtractor and MarginalSpectrum give the same output on the
    store as on the matrices in memory, reading one chunk at a time."""
    X, _, _, fs = movements
    store = build_hht_store(X, tmp_path / "s.zarr", transformer=_hht(fs), chunk_size=5)

    reads = []

    cnn = CNNFeatureExtractor(base_channels=4, num_layers=2, random_state=0)
    expected = cnn.fit(reference).transform(reference)
    np.testing.assert_allclose(
        cnn.transform(Recorded(store.X, reads)), expected, rtol=1e-6
    )
    assert max(stop - start for start, stop in reads) == 5  # one chunk at a time
    assert (
        CNNFeatureExtractor(base_channels=4, num_layers=2, random_state=0)
        .fit(store.X)
        .input_shape_
        == reference.shape[1:]
    )

    reads.clear()
    marginal = MarginalSpectrum(n_bands=4).fit(reference)
    lazy = MarginalSpectrum(n_bands=4).fit(Recorded(store.X, reads))
    assert lazy.scale_ == pytest.approx(marginal.scale_, rel=1e-6)
    np.testing.assert_allclose(
        lazy.transform(store.X), marginal.transform(reference), rtol=1e-6
    )
    assert max(stop - start for start, stop in reads) == 5


def test_method_1_and_method_2_train_and_predict_from_the_store(
    tmp_path, movements, reference
):
    from sklearn_semg import HHTCNNClassifier, make_cnn_svm_pipeline

    X, y, _, fs = movements
    store = build_hht_store(
        X, tmp_path / "s.zarr", transformer=_hht(fs), chunk_size=6, labels=y
    )
    method1 = make_cnn_svm_pipeline(hht=False, base_channels=4, num_layers=2,
                                    random_state=0)  # fmt: skip
    on_store = method1.fit(store.X, store.y).predict_proba(store.X)
    in_memory = method1.fit(reference, y).predict_proba(reference)
    np.testing.assert_allclose(on_store, in_memory, rtol=1e-5, atol=1e-6)

    net = dict(module__base_channels=4, module__num_layers=2, max_epochs=2,
               verbose=0, random_state=0)  # fmt: skip
    from_store = HHTCNNClassifier(**net).fit(store.X, store.y)
    from_memory = HHTCNNClassifier(**net).fit(reference, y)
    np.testing.assert_allclose(
        from_store.predict_proba(store.X), from_memory.predict_proba(reference),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    assert (
        from_store.predict(store.X).tolist() == from_memory.predict(reference).tolist()
    )
    assert len(from_store.history) == 2

    # training reads the store one chunk of rows at a time, each chunk once
    # per epoch: bounded memory
    reads = []

    HHTCNNClassifier(**{**net, "train_split": None}).fit(
        Recorded(store.X, reads), store.y
    )
    assert max(stop - start for start, stop in reads) == 6
    n_chunks = -(-len(y) // 6)
    assert len(reads) <= 2 * n_chunks + 1  # + the first row, read for its shape


def test_every_shipped_pipeline_predicts_on_disk_arrays_in_order(tmp_path, movements):
    """predict_in_batches gives each pipeline's own predictions, in order,
    from a Zarr array of raw recordings (the recommended pipeline and the
    methods with their HHT step) or from a store of matrices (the methods
    without it)."""
    from sklearn_semg import (
        make_cnn_svm_pipeline,
        make_end_to_end_pipeline,
        make_recommended_pipeline,
    )
    from sklearn_semg.utils import predict_in_batches

    X, y, _, fs = movements
    raw = zarr.open_array(
        tmp_path / "raw.zarr", mode="w", shape=X.shape, chunks=(4, *X.shape[1:]),
        dtype="float64",
    )  # fmt: skip
    raw[:] = X
    store = build_hht_store(X, tmp_path / "s.zarr", transformer=_hht(fs), chunk_size=4)
    net = dict(module__base_channels=4, module__num_layers=2, max_epochs=1,
               verbose=0, random_state=0, train_split=None)  # fmt: skip
    cnn = dict(base_channels=4, num_layers=2, random_state=0)
    cases = [
        (make_recommended_pipeline(fs=fs, n_freq_bins=16, random_state=0), X, raw),
        (make_cnn_svm_pipeline(fs=fs, hht_params=HHT, **cnn), X, raw),
        (make_cnn_svm_pipeline(hht=False, **cnn), store.X[:], store.X),
        (make_end_to_end_pipeline(hht=False, **net), store.X[:], store.X),
        (make_end_to_end_pipeline(fs=fs, hht_params=HHT, **net), X, raw),
    ]
    for pipe, in_memory, on_disk in cases:
        pipe.fit(in_memory, y)
        np.testing.assert_array_equal(
            predict_in_batches(pipe, on_disk), pipe.predict(in_memory)
        )
        np.testing.assert_allclose(
            predict_in_batches(pipe, on_disk, method="predict_proba"),
            pipe.predict_proba(in_memory),
            rtol=1e-5,
            atol=1e-6,
        )


def test_training_from_the_store_lets_go_of_a_chunk_before_reading_the_next(
    tmp_path, movements, monkeypatch
):
    """One chunk is held at a time: the previous one is dropped, and its
    memory handed back to the system (glibc's malloc_trim), before the next
    is read. Without that, resident memory grew with the size of the store
    over one epoch (bench/bench_scale.py, method 2)."""
    from sklearn_semg import HHTCNNClassifier
    from sklearn_semg.nn import _classifier
    from sklearn_semg.utils._batches import release_memory

    X, y, _, fs = movements
    store = build_hht_store(
        X, tmp_path / "s.zarr", transformer=_hht(fs), chunk_size=6, labels=y
    )
    held, lazy = [], []  # rows of chunks held at each release (before a read)

    class Tracked(_classifier._LazyMatrices):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            lazy.append(self)

    def watched_release():
        held.append(sum(len(o._chunk) for o in lazy))
        return release_memory()

    monkeypatch.setattr(_classifier, "_LazyMatrices", Tracked)
    monkeypatch.setattr(_classifier, "release_memory", watched_release)
    HHTCNNClassifier(module__base_channels=4, module__num_layers=2, max_epochs=2,
                     train_split=None, verbose=0, random_state=0).fit(
        store.X, store.y
    )  # fmt: skip
    n_chunks = -(-len(y) // 6)
    assert len(held) >= 2 * n_chunks  # every chunk, every epoch
    assert set(held) == {0}
    if sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION"):
        assert release_memory()  # glibc: trimmed
