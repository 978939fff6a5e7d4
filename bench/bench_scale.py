"""Memory and throughput against the number of recordings: in memory vs the
on-disk HHT store, and local joblib vs a 2-worker Dask LocalCluster.

Synthetic 2-channel recordings of 2 s at 1 kHz (``make_semg``, generated one
chunk at a time from a per-chunk seed), HHT matrices of ``--grid`` x
``--grid`` (default 256, the reference's size: 512 KiB per recording).

1. For each N in ``--sizes``, each mode in a fresh process (so that its peak
   resident memory, ``ru_maxrss``, is its own):

   - ``memory``: all recordings, then ``HHTTransformer.fit_transform`` of all
     of them, then method 1 (frozen CNN features, scaler, SVC) on the
     matrices in memory; only for N up to ``--max-in-memory``;
   - ``store``: ``build_hht_store`` from a generator (one chunk of recordings
     and matrices in memory at a time), then method 1 reading the store a
     chunk at a time (CNN features batch by batch; the features are small).

   - ``store-m2`` (sizes ``--method2-sizes``): the store, then one epoch of
     method 2 (``HHTCNNClassifier`` with ``--base-channels``; 64 is the
     reference network) trained from it.

   Prints the peak resident memory of the whole process tree (the process
   and its 2 joblib workers, sampled every 0.1 s), wall and CPU time of the
   HHT and of method 1 (user + sys of the main process; the workers' CPU
   time is not in it), and the slope of peak memory with N per mode (least
   squares, MiB per 1,000 recordings).

2. The HHT of ``--cluster-n`` recordings with ``n_jobs=1`` against the same
   with joblib's ``dask`` backend on a ``LocalCluster`` of 2 single-threaded
   worker processes, with distributed's default worker environment and with
   ``MALLOC_MMAP_THRESHOLD_`` added to it: identical output, and the
   throughput ratios (cluster start-up not included; repeats interleaved,
   medians). Then the same HHT built into a store with ``build_hht_store``
   (chunks of ``--cluster-chunk``): ``n_jobs=1`` against the cluster, where
   each worker writes the chunks it computes and no matrix travels back.

    python bench/bench_scale.py [--sizes 1000 5000 20000] [--max-in-memory 5000]
                                [--grid 256] [--base-channels 64] [--skip ...]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

CHUNK = 256
FS = 1000.0
N_TIMES = 2000


def recordings(n, start=0):
    """Recordings ``start .. n-1``, a chunk of CHUNK at a time (seed: its index)."""
    from sklearn_semg.datasets import make_semg

    for first in range(start - start % CHUNK, n, CHUNK):
        size = min(CHUNK, n - first)
        X, y = make_semg(size, n_channels=2, n_times=N_TIMES, fs=FS,
                         n_classes=2, random_state=first // CHUNK)  # fmt: skip
        for i in range(max(start - first, 0), size):
            yield X[i], y[i]


def _method1(base_channels):
    from sklearn_semg import make_cnn_svm_pipeline

    return make_cnn_svm_pipeline(hht=False, base_channels=base_channels,
                                 batch_size=16, random_state=0)  # fmt: skip


def _times():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


class TreeMemory:
    """Peak resident memory of this process and all its children (the joblib
    workers), sampled every 0.1 s in a thread (psutil, a dependency of
    distributed)."""

    def __init__(self):
        import threading

        import psutil

        self.peak, self._stop = 0, threading.Event()
        self._me = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.1):
            total = 0
            for proc in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except Exception:  # a worker that just ended
                    pass
            self.peak = max(self.peak, total)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def run_mode(mode, n, grid, base_channels, folder):
    """One measurement, in this (fresh) process; prints one JSON line."""
    from sklearn_semg import HHTTransformer
    from sklearn_semg.hht import build_hht_store

    memory = TreeMemory()

    hht = HHTTransformer(fs=FS, n_freq_bins=grid, n_time_bins=grid, n_jobs=2)
    wall0, cpu0 = _times()
    if mode == "memory":
        pairs = list(recordings(n))
        X = np.stack([x for x, _ in pairs])
        y = np.array([label for _, label in pairs])
        M = hht.fit_transform(X)
        wall1, cpu1 = _times()
        _method1(base_channels).fit(M, y)
    elif mode == "store-m2":
        labels = np.array([label for _, label in recordings(n)])
        store = build_hht_store(
            (x for x, _ in recordings(n)), os.path.join(folder, f"m2_{n}.zarr"),
            transformer=hht, labels=labels, chunk_size=CHUNK, progress=False,
        )  # fmt: skip
        wall1, cpu1 = _times()
        from sklearn_semg import HHTCNNClassifier

        HHTCNNClassifier(max_epochs=1, train_split=None, verbose=0,
                         module__base_channels=base_channels,
                         random_state=0).fit(store.X, store.y)  # fmt: skip
    else:
        labels = np.array([label for _, label in recordings(n)])  # cheap: synthetic
        store = build_hht_store(
            (x for x, _ in recordings(n)), os.path.join(folder, f"s{n}.zarr"),
            transformer=hht, labels=labels, chunk_size=CHUNK, progress=False,
        )  # fmt: skip
        wall1, cpu1 = _times()
        _method1(base_channels).fit(store.X, store.y)
    wall2, cpu2 = _times()
    print(json.dumps({
        "mode": mode, "n": n, "peak_mib": memory.stop(),
        "hht_wall": wall1 - wall0, "hht_cpu": cpu1 - cpu0,
        "m1_wall": wall2 - wall1, "m1_cpu": cpu2 - cpu1,
    }))  # fmt: skip


def memory_table(sizes, max_in_memory, grid, base_channels, modes=("memory", "store")):
    print(f"\n## Peak RSS against N ({grid}x{grid} matrices, 2 channels, 2 s)")
    print(f"{'mode':<8}{'N':>7}{'peak RSS MiB':>14}{'HHT rec/s':>11}"
          f"{'HHT wall/CPU s':>18}{'method wall/CPU s':>22}")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            for mode in modes:
                if mode == "memory" and n > max_in_memory:
                    continue
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(n), str(grid),
                     str(base_channels), folder],
                    capture_output=True, text=True,
                )  # fmt: skip
                if proc.returncode != 0:
                    print(f"{mode:<8}{n:>7}  failed: {proc.stderr.strip()[-300:]}")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(r)
                print(f"{mode:<8}{n:>7}{r['peak_mib']:>14.0f}"
                      f"{n / r['hht_wall']:>11.1f}"
                      f"{r['hht_wall']:>10.0f} /{r['hht_cpu']:>6.0f}"
                      f"{r['m1_wall']:>14.0f} /{r['m1_cpu']:>6.0f}", flush=True)  # fmt: skip
    for mode in modes:
        points = [(r["n"], r["peak_mib"]) for r in rows if r["mode"] == mode]
        if len(points) >= 2:
            slope = np.polyfit(*np.array(points).T, 1)[0] * 1000
            print(f"slope of peak RSS with N, {mode}: {slope:.1f} MiB per 1,000 "
                  "recordings")  # fmt: skip


#: The environment a worker needs for the HHT (docs/user_guide/scaling.rst):
#: distributed's nanny sets MALLOC_TRIM_THRESHOLD_, which also fixes glibc's
#: mmap threshold at 128 KiB, so every matrix is a fresh mmap; 32 MiB (the
#: top of glibc's own dynamic threshold) gives that back.
HHT_WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": 2**25}


def _cluster(env):
    import dask
    from distributed import LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    with dask.config.set({key: {**dask.config.get(key), **env}}):
        return LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                            dashboard_address=None)  # fmt: skip


def cluster_table(n, grid, repeats, chunk_size):
    import shutil

    import joblib
    from distributed import Client

    from sklearn_semg import HHTTransformer
    from sklearn_semg.hht import build_hht_store

    print(f"\n## 2. HHT of {n} recordings: n_jobs=1 against a 2-worker LocalCluster")
    print("cluster: distributed's default worker environment; cluster+mmap: with "
          f"{HHT_WORKER_ENV} added to it; store: build_hht_store into a Zarr "
          f"store (chunks of {chunk_size}; on the cluster every worker writes the "
          "chunks it computes)")  # fmt: skip
    X = np.stack([x for x, _ in recordings(n)])
    local = HHTTransformer(fs=FS, n_freq_bins=grid, n_time_bins=grid, n_jobs=1)
    remote = HHTTransformer(fs=FS, n_freq_bins=grid, n_time_bins=grid, n_jobs=2)
    clusters = {"cluster": _cluster({}), "cluster+mmap": _cluster(HHT_WORKER_ENV)}
    clients = {k: Client(c, set_as_default=False) for k, c in clusters.items()}
    folder = tempfile.mkdtemp()

    def in_memory(name):
        if name == "n_jobs=1":
            return local.fit_transform(X)
        with joblib.parallel_config(backend="dask", client=clients[name]):
            return remote.fit_transform(X)

    def store(name):
        path = os.path.join(folder, "s.zarr")
        shutil.rmtree(path, ignore_errors=True)
        if name == "store n_jobs=1":
            built = build_hht_store(X, path, transformer=local, n_jobs=1,
                                    chunk_size=chunk_size, progress=False)  # fmt: skip
        else:
            client = clients["cluster+mmap"]
            with joblib.parallel_config(backend="dask", client=client):
                built = build_hht_store(X, path, transformer=local,
                                        chunk_size=chunk_size, progress=False)  # fmt: skip
        return built.X

    runs = {"n_jobs=1": in_memory, "cluster": in_memory, "cluster+mmap": in_memory,
            "store n_jobs=1": store, "store cluster+mmap": store}  # fmt: skip
    walls, cpus = {k: [] for k in runs}, {k: [] for k in runs}
    try:
        local.fit_transform(X[:8])
        for client in clients.values():
            with joblib.parallel_config(backend="dask", client=client):
                remote.fit_transform(X[:8])  # workers import and load the engine
        same = True
        for _ in range(repeats):  # interleaved
            reference = None
            for name, run in runs.items():
                t, c = _times()
                out = run(name)
                t2, c2 = _times()
                walls[name].append(t2 - t)
                cpus[name].append(c2 - c)
                if reference is None:
                    reference = out
                else:
                    same = same and np.array_equal(reference, np.asarray(out[:]))
                del out
            del reference
    finally:
        for k in clients:
            clients[k].close()
            clusters[k].close()
        shutil.rmtree(folder, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in walls.items()}
    for k in runs:
        print(f"{k:<19} median wall {med[k]:7.1f} s  ({n / med[k]:6.1f} recordings/s)"
              f"  main-process CPU {statistics.median(cpus[k]):6.1f} s")  # fmt: skip
    print(f"identical output: {same}; throughput ratio to n_jobs=1: " + ", ".join(
        f"{k} {med['n_jobs=1'] / med[k]:.2f}" for k in ("cluster", "cluster+mmap")
    ) + "; store: cluster+mmap to n_jobs=1 "
        f"{med['store n_jobs=1'] / med['store cluster+mmap']:.2f}")  # fmt: skip


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, n, grid, base, folder = sys.argv[2:7]
        run_mode(mode, int(n), int(grid), int(base), folder)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--max-in-memory", type=int, default=5000)
    parser.add_argument("--grid", type=int, default=256)
    parser.add_argument("--base-channels", type=int, default=64)
    parser.add_argument("--cluster-n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cluster-chunk", type=int, default=125)
    parser.add_argument("--method2-sizes", type=int, nargs="*", default=[1000, 2000])
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["memory", "method2", "cluster"]
    )
    args = parser.parse_args()
    if "memory" not in args.skip:
        memory_table(args.sizes, args.max_in_memory, args.grid, args.base_channels)
    if "method2" not in args.skip and args.method2_sizes:
        print(f"\nmethod 2: one epoch of HHTCNNClassifier (base_channels="
              f"{args.base_channels}) trained from the store")  # fmt: skip
        memory_table(args.method2_sizes, 0, args.grid, args.base_channels,
                     modes=("store-m2",))  # fmt: skip
    if "cluster" not in args.skip:
        cluster_table(args.cluster_n, args.grid, args.repeats, args.cluster_chunk)


if __name__ == "__main__":
    main()
