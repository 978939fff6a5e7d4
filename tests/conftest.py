"""Shared fixtures: small seeded data and the real recordings of ../shared/data."""

import os
from pathlib import Path

import pytest

from sklearn_semg.datasets import make_semg

#: Real recordings shipped beside the repository (see ../shared/data/README.md).
SHARED_DATA = Path(
    os.environ.get(
        "SKLEARN_SEMG_SHARED_DATA",
        Path(__file__).resolve().parents[2] / "shared" / "data",
    )
)
MUSCLETRACKER = SHARED_DATA / "muscletracker"
BICEPS_FATIGUE = SHARED_DATA / "biceps_fatigue"


def require(path):
    """Skip the calling test, with a reason, when a real-data folder is absent."""
    if not Path(path).exists():
        pytest.skip(
            f"real data not found at {path}; set SKLEARN_SEMG_SHARED_DATA to the "
            "shared/data folder to run this test"
        )
    return Path(path)


@pytest.fixture
def muscletracker_dir():
    return require(MUSCLETRACKER)


@pytest.fixture
def biceps_fatigue_dir():
    return require(BICEPS_FATIGUE)


@pytest.fixture
def semg_factory():
    """Factory of seeded synthetic sEMG (band-limited bursts), see make_semg."""

    def make(n_recordings=6, *, seed=0, **kwargs):
        return make_semg(n_recordings, random_state=seed, **kwargs)

    return make


@pytest.fixture
def one_torch_thread():
    """Run the test with torch on one thread; restore the count after.

    Tiny convolutions last microseconds, so OpenMP hand-offs between threads
    dominate: on a busy 2-core machine two threads made the same fit or
    transform up to 100 times slower than one. Results do not depend on the
    number of threads (test_extractor checks bit equality with joblib workers
    limited to one thread). Test modules that train or encode small networks
    use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
