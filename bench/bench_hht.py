"""HHTTransformer against the reference notebook's loop, side by side.

Times, in one run and on the same signals, the reference ``compute_hht_matrix``
(tests/reference_hht.py: PyEMD EMD, then a per-sample Python loop) and
``HHTTransformer`` (the same EMD, then one vectorised ``np.bincount``), checks
that they agree to 1e-6, and prints the speed-up ratios. Then times
``n_jobs=2`` against ``n_jobs=1`` on a batch of recordings.

    python bench/bench_hht.py [--repeats 5] [--batch 64]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_hht import reference_hht_matrix  # noqa: E402

from sklearn_semg import HHTTransformer  # noqa: E402
from sklearn_semg.datasets import make_semg  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()

    print(
        f"{'signal':<14}{'reference s':>12}{'package s':>12}{'speed-up':>10}"
        f"{'max |diff|':>12}"
    )
    for fs, seconds in [(2000, 2), (1000, 10)]:
        X, _ = make_semg(1, n_times=fs * seconds, fs=fs, random_state=0)
        signal = X[0, 0]
        hht = HHTTransformer(fs=fs).fit(signal[np.newaxis])
        ref = reference_hht_matrix(signal, fs)
        ours = hht.transform(signal[np.newaxis])[0, 0]
        diff = float(np.abs(ref - ours).max())
        # interleave the two so that machine noise hits both alike
        t_ref, t_ours = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            reference_hht_matrix(signal, fs)
            t_ref.append(time.perf_counter() - start)
            start = time.perf_counter()
            hht.transform(signal[np.newaxis])
            t_ours.append(time.perf_counter() - start)
        r, o = statistics.median(t_ref), statistics.median(t_ours)
        print(
            f"{f'{seconds} s @ {fs} Hz':<14}{r:>12.3f}{o:>12.3f}{r / o:>9.1f}x"
            f"{diff:>12.1e}"
        )
        if diff > 1e-6:
            raise SystemExit(f"package and reference disagree: {diff:g} > 1e-6")

    X, _ = make_semg(args.batch, n_times=4000, fs=2000, random_state=1)
    X = X[:, 0]
    one = HHTTransformer(fs=2000, n_jobs=1).fit(X)
    two = HHTTransformer(fs=2000, n_jobs=2).fit(X)
    two.transform(X[:2])  # start the worker pool outside the timing
    t1 = median_time(lambda: one.transform(X), max(1, args.repeats // 2))
    t2 = median_time(lambda: two.transform(X), max(1, args.repeats // 2))
    print(
        f"\nbatch of {args.batch} x 2 s @ 2000 Hz: n_jobs=1 {t1:.2f} s, "
        f"n_jobs=2 {t2:.2f} s, ratio {t1 / t2:.2f}x"
    )


if __name__ == "__main__":
    main()
