"""Evidence on real recordings: the end-to-end CNN (method 2) learns hand
movements of subjects it has never seen.

Data: the MioTracker recordings bundled with the package
(:func:`sklearn_semg.datasets.load_movements`: 19 subjects x 5 movements x 4
repetitions, 2 channels, 1001 Hz). Each recording is cut to its central 1024
samples (the shortest has 1158) and turned into 2 x 32 x 32 HHT matrices
inside the pipeline. Split by subject: 15 subjects train (300 recordings), 4
other subjects test (80 recordings).

The bound. Chance is 1/5. With 80 test recordings, a classifier at chance has
P(at least 26 correct) = 0.006 (one-sided binomial, Bin(80, 0.2)), so
accuracy >= 0.325 is a significant gain over chance at the 1 % level.
Measured before fixing the bound (torch 2.13 CPU, 20 epochs, 16 base
channels, time pooling): 12 runs (4 random choices of the 4 test subjects x
3 seeds) gave test accuracies from 0.35 to 0.49, median 0.43; the seeded run
below gives 0.438 (35/80) on this platform (deterministic on a given platform; the
spread over seeds shows what another platform's rounding may change). A
linear model on the same matrices reaches 0.45-0.49, so the bound is not
loose either.

What did not learn: the reference architecture as is (global average pooling
after the last block) stays at chance (0.15-0.27 after 10-60 epochs, several
learning rates): InstanceNorm followed by a global mean leaves almost nothing
of *where* in frequency the energy is, which is what separates these
movements. ``module__pooling="time"`` keeps the frequency rows.

Run time on 2 busy CPU cores: about 40 s (the HHT of 380 two-channel
recordings dominates; training takes 3-5 s).
"""

import time

import numpy as np
import pytest
from scipy.stats import binom

from sklearn_semg import make_end_to_end_pipeline
from sklearn_semg.datasets import load_movements

N_TIMES = 1024
N_TEST_SUBJECTS = 4
BOUND = 0.325


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def central(recording, n_times=N_TIMES):
    start = (recording.shape[1] - n_times) // 2
    return recording[:, start : start + n_times]


def test_the_bound_is_significant_against_chance():
    n_test = 5 * 4 * N_TEST_SUBJECTS
    k = int(np.ceil(BOUND * n_test))
    assert k == 26
    assert binom.sf(k - 1, n_test, 0.2) < 0.01


@pytest.mark.slow
def test_end_to_end_cnn_recognises_movements_of_unseen_subjects():
    start = time.perf_counter()
    bunch = load_movements()
    assert min(r.shape[1] for r in bunch.data) >= N_TIMES
    X = np.stack([central(r) for r in bunch.data])  # (380, 2, 1024)
    y, groups = bunch.target, bunch.groups
    subjects = np.unique(groups)
    assert len(subjects) == 19
    test_subjects = np.random.RandomState(0).choice(
        subjects, N_TEST_SUBJECTS, replace=False
    )
    test = np.isin(groups, test_subjects)
    train = ~test
    assert test.sum() == 80 and train.sum() == 300
    assert not set(groups[train]) & set(groups[test])
    assert set(y[test]) == set(y[train]) and len(set(y)) == 5

    pipe = make_end_to_end_pipeline(
        hht=True,
        fs=bunch.fs,
        hht_params={"n_freq_bins": 32, "n_time_bins": 32},
        max_epochs=20,
        module__base_channels=16,
        module__pooling="time",
        random_state=0,
        verbose=0,
    )
    pipe.fit(X[train], y[train])
    accuracy = pipe.score(X[test], y[test])
    elapsed = time.perf_counter() - start
    print(f"test accuracy on 4 unseen subjects: {accuracy:.3f} ({elapsed:.0f} s)")
    net = pipe.named_steps["clf"]
    assert net.input_shape_ == (2, 32, 32)
    assert net.history[-1, "train_acc"] > 0.5  # it fits its training subjects
    assert accuracy >= BOUND, f"{accuracy:.3f} is not significantly above chance"
