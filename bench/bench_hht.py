"""The Hilbert-Huang engine against PyEMD and the reference loop, side by side.

Every comparison runs both sides in one process on the same signals, with the
repeats interleaved so that machine noise hits both alike, and prints medians
(wall and CPU time, user + sys of this process) and their ratios:

1. EMD of 2 s real sEMG windows at 1 kHz: PyEMD's ``EMD()`` against the
   compiled engine (``backend="numba"``) and, if it is installed (it is never
   a dependency), the compiled peer ``pyemd-rs``; with the largest difference
   to PyEMD relative to the signal's peak.
2. EEMD (100 trials) and CEEMDAN (100 trials), PyEMD with ``parallel=False``
   against the engine, same seed (same noise).
3. ``HHTTransformer`` with default parameters against the reference
   notebook's loop (``tests/reference_hht.py``): ``backend="pyemd"`` and the
   default back-end, 2 s at 2 kHz and 10 s at 1 kHz, checked to 1e-6.
4. ``make_recommended_pipeline(...).fit`` against one ``HHTTransformer``
   pass (the pipeline's own HHT settings) over the bundled recordings.
5. A ``GridSearchCV`` over ``clf__C`` of the recommended pipeline with
   ``memory=``: on an empty cache, then again on the warm cache (from disk,
   and from this process's memory).
6. ``HHTTransformer`` of one 10-minute single-channel recording at 2 kHz:
   wall and CPU time, and the peak resident memory of the process that ran it.
7. ``sklearn-semg demo`` and the README's quick start, each in a process of
   its own: wall time and CPU time (user + sys, children included).

Real windows come from ../shared/data (or SKLEARN_SEMG_SHARED_DATA) when it is
there, else from make_semg.

    python bench/bench_hht.py [--repeats 5] [--n-signals 20] [--skip ...]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_hht import reference_hht_matrix  # noqa: E402

from sklearn_semg import HHTTransformer, make_recommended_pipeline  # noqa: E402
from sklearn_semg.datasets import load_movements, make_semg  # noqa: E402
from sklearn_semg.hht import decompose  # noqa: E402

SHARED = Path(
    os.environ.get(
        "SKLEARN_SEMG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data"
    )
)


def cpu():
    """CPU time (user + sys) of this process, at ns resolution."""
    return time.process_time()


def timed(fn):
    """(result, wall s, cpu s) of one call."""
    w, c = time.perf_counter(), cpu()
    out = fn()
    return out, time.perf_counter() - w, cpu() - c


def interleaved(fns, repeats):
    """Median wall and CPU time of each function, repeats interleaved."""
    wall = [[] for _ in fns]
    cpus = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            _, w, c = timed(fn)
            wall[k].append(w)
            cpus[k].append(c)
    return [
        (statistics.median(w), statistics.median(c))
        for w, c in zip(wall, cpus, strict=True)
    ]


def peer():
    """pyemd-rs, if installed: (emd, ceemdan, version) or None."""
    try:
        import pyemd_rs
    except ImportError:
        return None
    return pyemd_rs.emd, pyemd_rs.ceemdan, pyemd_rs.__version__


def real_windows(n, seconds=2.0):
    """``n`` 2 s windows at 1 kHz: biceps recording, else synthetic."""
    path = SHARED / "biceps_fatigue" / "emg_fatigue_biceps_1000hz.txt"
    length = int(seconds * 1000)
    if path.exists():
        x = np.loadtxt(path) - 2048.0
        starts = np.linspace(0, len(x) - length, n).astype(int)
        return [x[s : s + length] for s in starts], "biceps recording, 1000 Hz"
    X, _ = make_semg(n, n_times=length, fs=1000, random_state=0)
    return list(X[:, 0]), "make_semg (shared data not found), 1000 Hz"


def rel_diff(a, b, x):
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max() / np.abs(x).max()) if a.size else 0.0


def bench_emd(args):
    from PyEMD import EMD

    signals, source = real_windows(args.n_signals)
    rs = peer()
    print(f"\n## 1. EMD, {len(signals)} windows of 2 s ({source}), max_imf=10")
    print("per signal: median over signals of the median over repeats")
    decompose(signals[0])  # compile / load the engine outside the timing
    rows = {"PyEMD EMD()": [], "engine (numba)": []}
    diffs = []
    if rs is not None:
        rows[f"pyemd-rs {rs[2]}"] = []
        rs_diffs = []
    for x in signals:
        fns = [
            lambda x=x: EMD()(x, max_imf=10),
            lambda x=x: decompose(x, backend="numba"),
        ]
        if rs is not None:
            # PyEMD's thresholds (pyemd-rs's own default total power is 0.05);
            # its max_imf counts the residual
            fns.append(lambda x=x: rs[0](x, max_imf=11, total_power_thresh=0.005))
        for key, t in zip(rows, interleaved(fns, args.repeats), strict=True):
            rows[key].append(t)
        ref = EMD()(x, max_imf=10)
        diffs.append(rel_diff(ref, decompose(x, backend="numba"), x))
        if rs is not None:
            imfs, residue = rs[0](x, max_imf=11, total_power_thresh=0.005)
            rs_diffs.append(rel_diff(ref, np.vstack([imfs, residue]), x))
    base = rows["PyEMD EMD()"]
    print(f"{'':<22}{'wall ms':>9}{'cpu ms':>9}{'ratio (cpu)':>13}{'median ratio':>14}")
    for key, times in rows.items():
        w = statistics.median(t[0] for t in times) * 1e3
        c = statistics.median(t[1] for t in times) * 1e3
        ratios = [b[1] / t[1] for b, t in zip(base, times, strict=True) if t[1] > 0]
        print(
            f"{key:<22}{w:>9.2f}{c:>9.2f}"
            f"{statistics.median(base_t[1] for base_t in base) * 1e3 / c:>12.1f}x"
            f"{statistics.median(ratios) if ratios else float('nan'):>13.1f}x"
        )
    print(f"engine vs PyEMD: max |diff| / max|x| = {max(diffs):.1e} (all signals)")
    if rs is not None:
        print(f"pyemd-rs vs PyEMD: max |diff| / max|x| = {max(rs_diffs):.1e}")
    else:
        print("pyemd-rs not installed: `pip install pyemd-rs` to compare (optional)")


def bench_ensembles(args):
    from PyEMD import CEEMDAN, EEMD

    signals, source = real_windows(args.n_ensemble, seconds=1.0)
    rs = peer()
    print(
        f"\n## 2. EEMD and CEEMDAN (100 trials), {len(signals)} window(s) of 1 s "
        f"({source}), seed 0, max_imf=10"
    )
    decompose(signals[0], method="eemd", emd_params={"trials": 2}, seed=0)

    def pyemd(cls, x):
        d = cls(trials=100, parallel=False)
        d.noise_seed(0)
        return d(x, max_imf=10)

    print(
        f"{'':<10}{'PyEMD s':>9}{'engine s':>10}{'ratio':>8}{'cpu ratio':>10}{'diff':>9}"
    )
    for name, cls in (("EEMD", EEMD), ("CEEMDAN", CEEMDAN)):
        method = name.lower()
        for x in signals:
            (p_w, p_c), (e_w, e_c) = interleaved(
                [
                    lambda x=x, cls=cls: pyemd(cls, x),
                    lambda x=x, method=method: decompose(
                        x, method=method, seed=0, backend="numba"
                    ),
                ],
                args.ensemble_repeats,
            )
            d = rel_diff(
                pyemd(cls, x), decompose(x, method=method, seed=0, backend="numba"), x
            )
            print(
                f"{name:<10}{p_w:>9.2f}{e_w:>10.3f}{p_w / e_w:>7.1f}x"
                f"{p_c / e_c:>9.1f}x{d:>9.0e}"
            )
        if name == "CEEMDAN" and rs is not None:
            x = signals[0]
            _, w, c = timed(lambda x=x: rs[1](x, trials=100, seed=0, parallel=False))
            print(f"{'  pyemd-rs ceemdan (its own noise, 1 thread)':<44}{w:.3f} s")


def bench_transformer(args):
    print("\n## 3. HHTTransformer (defaults: 256x256, max_imf=10) vs reference loop")
    print(
        f"{'signal':<16}{'reference s':>12}{'pyemd s':>9}{'engine s':>10}"
        f"{'ref/pyemd':>10}{'ref/engine':>11}{'max |diff|':>11}"
    )
    for fs, seconds in [(2000, 2), (1000, 10)]:
        X, _ = make_semg(1, n_times=fs * seconds, fs=fs, random_state=0)
        x = X[0, 0]
        slow = HHTTransformer(fs=fs, backend="pyemd").fit(x[np.newaxis])
        fast = HHTTransformer(fs=fs).fit(x[np.newaxis])
        ref = reference_hht_matrix(x, fs)
        diff = max(
            float(np.abs(ref - est.transform(x[np.newaxis])[0, 0]).max())
            for est in (slow, fast)
        )
        (r, _), (p, _), (e, _) = interleaved(
            [
                lambda x=x, fs=fs: reference_hht_matrix(x, fs),
                lambda x=x, est=slow: est.transform(x[np.newaxis]),
                lambda x=x, est=fast: est.transform(x[np.newaxis]),
            ],
            args.repeats,
        )
        print(
            f"{f'{seconds} s @ {fs} Hz':<16}{r:>12.3f}{p:>9.3f}{e:>10.4f}"
            f"{r / p:>9.1f}x{r / e:>10.1f}x{diff:>11.1e}"
        )
        if diff > 1e-6:
            raise SystemExit(f"HHTTransformer and the reference disagree: {diff:g}")


def bundled():
    data = load_movements()
    return list(data.data), data.target, data.groups, float(data.fs)


def bench_pipeline(args):
    X, y, _, fs = bundled()
    pipe = make_recommended_pipeline(fs=fs, random_state=0)
    view = pipe.named_steps["features"].transformer_list[1][1].named_steps["hht"]
    print(
        f"\n## 4. Recommended pipeline fit vs one HHTTransformer pass: {len(X)} "
        "bundled MioTracker recordings (full length, 2 channels), n_jobs=1"
    )
    from sklearn.base import clone

    (h_w, h_c), (p_w, p_c) = interleaved(
        [
            lambda: clone(view).fit_transform(X),
            lambda: clone(pipe).fit(X, y),
        ],
        max(1, args.repeats // 2),
    )
    print(f"one HHTTransformer pass : {h_w:6.2f} s wall, {h_c:6.2f} s cpu")
    print(f"recommended fit         : {p_w:6.2f} s wall, {p_c:6.2f} s cpu")
    print(f"ratio fit / pass        : {p_w / h_w:6.2f} (wall), {p_c / h_c:.2f} (cpu)")


def bench_search(args):
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from sklearn_semg.hht import _cache

    X, y, groups, fs = bundled()
    print(
        f"\n## 5. GridSearchCV(clf__C in 1, 10, 100; GroupKFold(5)) of the "
        f"recommended pipeline with memory=, {len(X)} bundled recordings, n_jobs=1"
    )
    with tempfile.TemporaryDirectory() as folder:

        def search():
            pipe = make_recommended_pipeline(fs=fs, memory=folder, random_state=0)
            gs = GridSearchCV(pipe, {"clf__C": [1.0, 10.0, 100.0]}, cv=GroupKFold(5))
            return gs.fit(X, y, groups=groups).best_score_

        cold, cw, cc = timed(search)
        _cache._memo.clear()
        warm_disk, dw, dc = timed(search)
        warm, ww, wc = timed(search)
    assert cold == warm == warm_disk
    print(f"cold cache                 : {cw:6.2f} s wall, {cc:6.2f} s cpu")
    print(
        f"warm, from disk            : {dw:6.2f} s wall, {dc:6.2f} s cpu, "
        f"{cw / dw:5.1f}x faster"
    )
    print(
        f"warm, in this process      : {ww:6.2f} s wall, {wc:6.2f} s cpu, "
        f"{cw / ww:5.1f}x faster"
    )
    pipe = make_recommended_pipeline(fs=fs, random_state=0)
    _, nw, nc = timed(
        lambda: GridSearchCV(
            pipe, {"clf__C": [1.0, 10.0, 100.0]}, cv=GroupKFold(5)
        ).fit(X, y, groups=groups)
    )
    print(
        f"no cache (for reference)   : {nw:6.2f} s wall, {nc:6.2f} s cpu "
        f"(best score {cold:.3f} in all four)"
    )


_LONG = """
import os, time, numpy as np
from sklearn_semg import HHTTransformer
fs, n = 2000, 2000 * 600
t = np.arange(n) / fs
rng = np.random.default_rng(0)
x = rng.standard_normal(n) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
def status(key):
    line = [l for l in open("/proc/self/status") if l.startswith(key)][0]
    return int(line.split()[1]) / 1024

hht = HHTTransformer(fs=fs).fit(x[np.newaxis, :1000])
hht.transform(x[np.newaxis, :4000])  # load the engine first
base = status("VmRSS")
w, c0 = time.perf_counter(), os.times()
out = hht.transform(x[np.newaxis])
c1 = os.times()
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec
print(time.perf_counter() - w, c1.user + c1.system - c0.user - c0.system,
      status("VmHWM"), base, out.shape)
"""


def bench_long(args):
    print(
        "\n## 6. HHTTransformer (defaults) of one 10-minute recording at 2 kHz "
        "(1.2 M samples of amplitude-modulated noise), own process"
    )
    out = subprocess.run(
        [sys.executable, "-c", _LONG], capture_output=True, text=True, check=True
    ).stdout.split()
    wall, cpu_s, peak, base = (float(v) for v in out[:4])
    signal_mb = 1.2e6 * 8 / 2**20
    print(
        f"{wall:.1f} s wall, {cpu_s:.1f} s cpu; peak RSS {peak:.0f} MiB, "
        f"{peak - base:.0f} MiB above the process before the call ("
        f"{(peak - base) / signal_mb:.0f} arrays of the signal's "
        f"{signal_mb:.1f} MiB)"
    )


_QUICK_START = """
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn_semg import make_recommended_pipeline
from sklearn_semg.datasets import load_movements
data = load_movements()
X = [rec[:, :1024] for rec in data.data]
pipe = make_recommended_pipeline(fs=data.fs, n_jobs=2)
scores = cross_val_score(pipe, X, data.target, groups=data.groups, cv=GroupKFold(5))
print(scores.mean())
"""


def _child(command, env=None):
    """Wall time and CPU time (user + sys of the process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench_jobs(args):
    print(
        "\n## 7. The README's jobs, in their own processes (the EMD engine "
        "already compiled)"
    )
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = _child(["sklearn-semg", "demo", "--output", folder, "--force"])
        print(f"sklearn-semg demo : {wall:6.1f} s wall, {cpu:6.1f} s cpu")
    wall, cpu = _child([sys.executable, "-c", _QUICK_START])
    print(f"README quick start: {wall:6.1f} s wall, {cpu:6.1f} s cpu")
    # the engine's first use on a machine compiles it (numba's cache)
    first_use = (
        "import numpy as np; from sklearn_semg.hht import decompose; "
        "decompose(np.random.default_rng(0).standard_normal(500))"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for state in ("empty", "warm"):
            wall, cpu = _child([sys.executable, "-c", first_use], env=env)
            print(
                f"import + first EMD, {state} compile cache: {wall:6.1f} s wall, "
                f"{cpu:6.1f} s cpu"
            )


SECTIONS = {
    "emd": bench_emd,
    "ensembles": bench_ensembles,
    "transformer": bench_transformer,
    "pipeline": bench_pipeline,
    "search": bench_search,
    "long": bench_long,
    "jobs": bench_jobs,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-signals", type=int, default=20)
    parser.add_argument("--n-ensemble", type=int, default=2)
    parser.add_argument("--ensemble-repeats", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=None)
    parser.add_argument("--skip", nargs="+", choices=list(SECTIONS), default=[])
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # PyEMD's own divisions
    load = os.getloadavg()[0]
    print(f"# bench_hht: {os.cpu_count()} CPUs, load average {load:.2f} at start")
    for name, fn in SECTIONS.items():
        if (args.only is None or name in args.only) and name not in args.skip:
            fn(args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(peak RSS of this process: {peak:.0f} MiB)")


if __name__ == "__main__":
    main()
