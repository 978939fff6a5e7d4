"""Training throughput: HHTCNNClassifier (skorch) against the reference loop.

Trains the same network class (:class:`sklearn_semg.nn.HHTCNN`) on the same
matrices for the same number of epochs in two ways, side by side in one run:

- ``skorch``: :class:`~sklearn_semg.HHTCNNClassifier` with its defaults (Adam,
  ``lr=1e-3``, batch 16, stratified 20 % validation split, ``train_acc`` and
  ``valid_acc`` scoring, ``ReduceLROnPlateau`` on ``valid_acc``, per-epoch
  history), ``verbose=0`` and no checkpoints;
- ``plain``: the reference notebook's ``train_end_to_end_with_checkpointing``
  loop copied below (same optimizer, loss, scheduler, batch size, a
  validation pass every epoch, running train loss/accuracy and history),
  without its ``torch.save`` calls and prints.

Both train on the same number of matrices and validate on the same number
(80 % / 20 % of ``--n``), so both do the same forward, backward and optimizer
steps. Repeats are interleaved (the order alternates) so that machine noise
hits both alike; the medians and their ratio are printed. Throughput is
training matrices per second over the whole fit (validation included in both).
``--breakdown`` also times the skorch classifier without its ``train_acc``
scoring callback, to show what that callback costs.

    python bench/bench_train.py [--size 64] [--n 320] [--epochs 3]
        [--repeats 5] [--base-channels 64] [--threads 1] [--breakdown]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.model_selection import StratifiedShuffleSplit
from torch import nn

from sklearn_semg.nn import HHTCNN, HHTCNNClassifier

LR_SCHEDULER_FACTOR = 0.5
LR_SCHEDULER_PATIENCE = 5


def reference_train(
    model,
    X_train,
    y_train,
    X_val,
    y_val,
    epochs,
    batch_size=16,
    learning_rate=0.001,
    device=None,
):
    """The notebook's train_end_to_end_with_checkpointing loop, no saves/prints."""
    if device is None:
        device = torch.device("cpu")
    model = model.to(device)
    if X_train.ndim == 3:
        X_train = X_train[:, np.newaxis, :, :]
        X_val = X_val[:, np.newaxis, :, :]
    train_dataset = torch.utils.data.TensorDataset(
        torch.tensor(X_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.long),
    )
    train_loader = torch.utils.data.DataLoader(
        train_dataset, batch_size=batch_size, shuffle=True
    )
    val_dataset = torch.utils.data.TensorDataset(
        torch.tensor(X_val, dtype=torch.float32),
        torch.tensor(y_val, dtype=torch.long),
    )
    val_loader = torch.utils.data.DataLoader(
        val_dataset, batch_size=batch_size, shuffle=False
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="max",
        factor=LR_SCHEDULER_FACTOR,
        patience=LR_SCHEDULER_PATIENCE,
    )
    history = {
        "train_loss": [],
        "train_acc": [],
        "val_loss": [],
        "val_acc": [],
        "learning_rate": [],
    }
    best_val_acc = 0.0
    for _epoch in range(epochs):
        model.train()
        train_loss = 0.0
        train_correct = 0
        train_total = 0
        for batch_X, batch_y in train_loader:
            batch_X, batch_y = batch_X.to(device), batch_y.to(device)
            optimizer.zero_grad()
            outputs = model(batch_X)
            loss = criterion(outputs, batch_y)
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * batch_X.size(0)
            _, predicted = outputs.max(1)
            train_total += batch_y.size(0)
            train_correct += predicted.eq(batch_y).sum().item()
        train_loss /= train_total
        train_acc = train_correct / train_total
        model.eval()
        val_loss = 0.0
        val_correct = 0
        val_total = 0
        with torch.no_grad():
            for batch_X, batch_y in val_loader:
                batch_X, batch_y = batch_X.to(device), batch_y.to(device)
                outputs = model(batch_X)
                loss = criterion(outputs, batch_y)
                val_loss += loss.item() * batch_X.size(0)
                _, predicted = outputs.max(1)
                val_total += batch_y.size(0)
                val_correct += predicted.eq(batch_y).sum().item()
        val_loss /= val_total
        val_acc = val_correct / val_total
        scheduler.step(val_acc)
        current_lr = optimizer.param_groups[0]["lr"]
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["learning_rate"].append(current_lr)
        if val_acc > best_val_acc:
            best_val_acc = val_acc
    return history


def make_data(n, size, n_classes, seed=0):
    """Class-dependent random matrices (the content does not matter here)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.random((n, 1, size, size), dtype=np.float32)
    X[:, :, : size // 4] += (y[:, None, None, None] / n_classes).astype(np.float32)
    return X, y


def stratified_split(y, valid_fraction, seed):
    """Boolean train/valid masks, split as skorch's ValidSplit does."""
    split = StratifiedShuffleSplit(1, test_size=valid_fraction, random_state=seed)
    train_idx, _ = next(split.split(np.zeros(len(y)), y))
    train = np.zeros(len(y), dtype=bool)
    train[train_idx] = True
    return train, ~train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="matrix side")
    parser.add_argument("--n", type=int, default=320, help="matrices (80%% train)")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--base-channels", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = make_data(args.n, args.size, args.classes)
    train, valid = stratified_split(y, 0.2, seed=0)
    module_params = {"base_channels": args.base_channels, "num_layers": 3}

    def run_plain():
        torch.manual_seed(0)
        model = HHTCNN(n_classes=args.classes, in_channels=1, **module_params)
        reference_train(model, X[train], y[train], X[valid], y[valid], args.epochs)

    def run_skorch(**extra):
        net = HHTCNNClassifier(
            max_epochs=args.epochs,
            verbose=0,
            random_state=0,
            **{f"module__{k}": v for k, v in module_params.items()},
            **extra,
        )
        net.fit(X, y)
        seen = sum(b.get("train_batch_size", 0) for b in net.history[-1, "batches"])
        assert seen == int(train.sum()), "skorch must train on as many matrices"

    runners = {"plain": run_plain, "skorch": run_skorch}
    if args.breakdown:
        runners["skorch, no train_acc"] = lambda: run_skorch(callbacks__train_acc=None)
    n_train, n_valid = int(train.sum()), int(valid.sum())
    print(
        f"HHTCNN base_channels={args.base_channels}, {args.size}x{args.size}, "
        f"{n_train} train + {n_valid} valid matrices, batch 16, {args.epochs} "
        f"epochs, {args.repeats} interleaved repeats, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}"
    )
    for fn in runners.values():  # warm-up: allocator, kernels, imports
        fn()
    times = {name: [] for name in runners}
    names = list(runners)
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - start)

    images = n_train * args.epochs
    print(f"{'loop':<22}{'median s':>10}{'min s':>8}{'images/s':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<22}{med:>10.3f}{min(ts):>8.3f}{images / med:>10.1f}")
    ratio = statistics.median(times["skorch"]) / statistics.median(times["plain"])
    paired = statistics.median(
        s / p for s, p in zip(times["skorch"], times["plain"], strict=True)
    )
    print(
        f"skorch / plain time: {ratio:.3f} (median of paired ratios {paired:.3f}); "
        f"overhead {100 * (ratio - 1):+.1f} % (target <= +10 %)"
    )


if __name__ == "__main__":
    main()
