"""CNNFeatureExtractor against the reference notebook's feature loop, side by side.

Times, in one run, on the same 256x256 single-channel HHT matrices and with the
same encoder weights:

- the reference: a copy of the notebook's ``sEMGHHTEncoder`` and of
  ``sEMGHHTClassifier.extract_features`` (eager, ``batch_size=32``,
  ``torch.no_grad``), written out below;
- ``CNNFeatureExtractor`` with its default settings (``batch_size=4``,
  ``torch.inference_mode``).

The weights are the extractor's seeded random initialisation, loaded into the
notebook's encoder with ``load_state_dict(strict=True)`` (the key layouts are the
same). Repeats are interleaved, alternating which side goes first, so machine
noise hits both alike; the medians give the throughput (images/s) and the
ratio. The features must agree (``np.allclose``, rtol 1e-5, atol 1e-6).

``--sweep`` also times other batch sizes and a channels-last variant of the
extractor's loop, to tell whether another default would be clearly faster.
``--threads N`` sets the torch threads of both sides: on a machine whose cores
are busy with other work, OpenMP hand-offs between threads dominate and small
batches lose their advantage, so compare with ``--threads 1``.

    python bench/bench_cnn.py [--n-images 96] [--repeats 5] [--data hht]
                              [--sweep] [--threads N]
"""

import argparse
import copy
import os
import platform
import statistics
import time

import numpy as np
import torch
from torch import nn

from sklearn_semg import CNNFeatureExtractor, HHTTransformer
from sklearn_semg.datasets import load_movements

# -- the reference notebook's encoder and feature loop, copied ----------------


class ConvBlock(nn.Module):
    """Convolutional block with Conv2D, InstanceNorm, and LeakyReLU."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=3,
        stride=2,
        padding=1,
        leaky_slope=0.2,
    ):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
        )
        self.instance_norm = nn.InstanceNorm2d(out_channels)
        self.activation = nn.LeakyReLU(negative_slope=leaky_slope)

    def forward(self, x):
        x = self.conv(x)
        x = self.instance_norm(x)
        x = self.activation(x)
        return x


class sEMGHHTEncoder(nn.Module):  # noqa: N801 - the notebook's name
    """The notebook's encoder: ConvBlocks, then AdaptiveAvgPool2d((1, 1))."""

    def __init__(self, in_channels=1, base_channels=64, num_layers=3, leaky_slope=0.2):
        super().__init__()
        layers = []
        current_channels = in_channels
        for i in range(num_layers):
            out_channels = base_channels * (2**i)
            layers.append(
                ConvBlock(
                    current_channels,
                    out_channels,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    leaky_slope=leaky_slope,
                )
            )
            current_channels = out_channels
        self.encoder = nn.Sequential(*layers)
        self.global_avg_pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        x = self.encoder(x)
        x = self.global_avg_pool(x)
        return x.view(x.size(0), -1)


def reference_extract_features(encoder, X, batch_size=32, device="cpu"):
    """``sEMGHHTClassifier.extract_features`` of the notebook."""
    encoder.eval()
    if X.ndim == 3:
        X = X[:, np.newaxis, :, :]
    features_list = []
    n_samples = X.shape[0]
    with torch.no_grad():
        for i in range(0, n_samples, batch_size):
            batch = torch.tensor(X[i : i + batch_size], dtype=torch.float32).to(device)
            batch_features = encoder(batch)
            features_list.append(batch_features.cpu().numpy())
    return np.vstack(features_list)


# -- variants of the extractor's loop, for --sweep ----------------------------


def channels_last_features(encoder, X, batch_size):
    """The extractor's loop with the encoder and batches in channels-last."""
    encoder = copy.deepcopy(encoder).to(memory_format=torch.channels_last)
    X = X[:, np.newaxis] if X.ndim == 3 else X
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            batch = torch.from_numpy(X[start : start + batch_size])
            batch = batch.contiguous(memory_format=torch.channels_last)
            out.append(encoder(batch).numpy())
    return np.concatenate(out)


# -- data ---------------------------------------------------------------------


def hht_matrices(n_images, size, data):
    """``n_images`` single-channel ``size`` x ``size`` float32 matrices."""
    if data == "random":
        rng = np.random.default_rng(0)
        return rng.random((n_images, size, size), dtype=np.float32)
    # Real HHT matrices (the reference's 256x256 default): channel 1 of the
    # bundled MioTracker recordings, as the notebook's .npz files hold them.
    bunch = load_movements()
    signals = [x[0] for x in bunch.data[:n_images]]
    hht = HHTTransformer(fs=bunch.fs, n_freq_bins=size, n_time_bins=size, n_jobs=2)
    return hht.fit_transform(signals)[:, 0]


def interleaved_medians(functions, repeats):
    """Median wall time of each function, the order alternating per repeat."""
    times = {name: [] for name in functions}
    names = list(functions)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=96)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", choices=["hht", "random"], default="hht")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's choice, one per core)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X = hht_matrices(args.n_images, args.size, args.data)
    extractor = CNNFeatureExtractor(random_state=0).fit(X)
    reference = sEMGHHTEncoder()
    reference.load_state_dict(extractor.encoder_.state_dict(), strict=True)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}; "
        f"{args.n_images} {args.data} matrices {X.shape[1]}x{X.shape[2]}, "
        f"{args.repeats} interleaved repeats, medians"
    )
    ours = extractor.transform(X)
    ref = reference_extract_features(reference, X)
    diff = float(np.abs(ours - ref).max())
    agree = np.allclose(ours, ref, rtol=1e-5, atol=1e-6)
    print(f"features {ours.shape}, max |diff| {diff:.1e}, allclose: {agree}")
    if not agree:
        raise SystemExit("CNNFeatureExtractor and the reference loop disagree")

    functions = {
        "reference (notebook loop, batch 32, no_grad)": lambda: (
            reference_extract_features(reference, X)
        ),
        f"CNNFeatureExtractor defaults (batch {extractor.batch_size}, "
        "inference_mode)": lambda: extractor.transform(X),
    }
    if args.sweep:
        for bs in (1, 2, 8, 16, 32):
            variant = copy.deepcopy(extractor).set_params(batch_size=bs)
            functions[f"CNNFeatureExtractor batch_size={bs}"] = lambda variant=variant: (
                variant.transform(X)
            )
        for bs in (2, 4):
            functions[f"channels_last loop, batch {bs}"] = lambda bs=bs: (
                channels_last_features(extractor.encoder_, X, bs)
            )
    for fn in functions.values():  # warm up (oneDNN primitive caches)
        fn()
    medians, _ = interleaved_medians(functions, args.repeats)
    base = next(iter(medians.values()))
    width = max(len(name) for name in medians) + 2
    print(f"{'':<{width}}{'median s':>10}{'images/s':>10}{'vs ref':>8}")
    for name, t in medians.items():
        print(f"{name:<{width}}{t:>10.3f}{args.n_images / t:>10.1f}{base / t:>7.2f}x")
    ratio = base / list(medians.values())[1]
    verdict = "met" if ratio >= 1.5 else "NOT met"
    print(
        f"\nCNNFeatureExtractor defaults / reference: {ratio:.2f}x "
        f"(target >= 1.5x: {verdict} on this machine)"
    )


if __name__ == "__main__":
    main()
