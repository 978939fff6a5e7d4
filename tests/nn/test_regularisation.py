"""Method 2 regularisation for small data: augmentation and early stopping."""

import numpy as np
import pytest
import torch

from sklearn_semg import HHTCNNClassifier
from sklearn_semg.nn._augment import AugmentedDataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2, 16, 16), dtype=np.float32)
    y = np.array(["a", "b"] * (n // 2))
    X[y == "a", :, :4] += 1.0  # class a: energy in the low rows
    return X, y


def test_augmented_dataset_perturbs_as_documented():
    X = torch.arange(2 * 4 * 10, dtype=torch.float32).reshape(1, 2, 4, 10) + 1
    base = [(X[0], 0)]
    shifts = set()
    for seed in range(20):
        torch.manual_seed(seed)
        shifted, _ = AugmentedDataset(
            base, time_shift=0.3, amplitude_scale=0, channel_gain=0
        )[0]
        # a circular shift along time by at most 3 of the 10 bins
        matches = [
            k for k in range(-3, 4) if torch.equal(shifted, torch.roll(X[0], k, -1))
        ]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 3
    torch.manual_seed(1)
    gained, _ = AugmentedDataset(
        base, time_shift=0, amplitude_scale=0, channel_gain=0.5
    )[0]
    ratio = gained / X[0]
    # one gain per channel, constant over frequency and time
    for c in range(2):
        torch.testing.assert_close(ratio[c], torch.full_like(ratio[c], ratio[c, 0, 0]))
    assert not torch.isclose(ratio[0, 0, 0], ratio[1, 0, 0])
    same, _ = AugmentedDataset(base, 0, 0, 0)[0]
    torch.testing.assert_close(same, X[0])


def test_augmentation_changes_training_but_not_prediction():
    X, y = _data()
    kw = dict(max_epochs=3, module__base_channels=4, random_state=0, verbose=0)
    plain = HHTCNNClassifier(**kw).fit(X, y)
    augmented = HHTCNNClassifier(augment=True, **kw).fit(X, y)
    again = HHTCNNClassifier(augment=True, **kw).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), augmented.predict_proba(X))
    # seeded: augmentation is reproducible
    np.testing.assert_array_equal(augmented.predict_proba(X), again.predict_proba(X))
    # prediction is deterministic (no augmentation outside training)
    np.testing.assert_array_equal(
        augmented.predict_proba(X), augmented.predict_proba(X)
    )


def test_augment_and_early_stopping_validation():
    X, y = _data()
    with pytest.raises(ValueError, match="Unknown augmentation.*'jitter'"):
        HHTCNNClassifier(augment={"jitter": 1}, verbose=0).fit(X, y)
    with pytest.raises(
        ValueError, match="'early_stopping' parameter of HHTCNNClassifier must be"
    ):
        HHTCNNClassifier(early_stopping=0, verbose=0).fit(X, y)


def test_early_stopping_stops_and_keeps_the_best_epoch():
    X, y = _data()
    net = HHTCNNClassifier(
        max_epochs=60,
        early_stopping=3,
        lr=0.01,
        module__base_channels=4,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    epochs = len(net.history)
    assert epochs < 60
    scores = net.history[:, "valid_acc"]
    best = int(np.argmax(scores))
    # stopped `patience` epochs after the last improvement
    assert epochs - 1 - best >= 3
    assert max(scores[best + 1 :], default=-1) <= scores[best]


def test_weight_decay_is_passed_to_the_optimizer():
    X, y = _data()
    net = HHTCNNClassifier(
        max_epochs=1,
        optimizer__weight_decay=1e-3,
        module__base_channels=4,
        verbose=0,
        random_state=0,
    ).fit(X, y)
    assert net.optimizer_.param_groups[0]["weight_decay"] == 1e-3
