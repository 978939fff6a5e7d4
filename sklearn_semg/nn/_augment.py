"""Training-time augmentation of HHT matrices for the end-to-end CNN.

Small-data CNNs overfit the subjects they see; these label-preserving
perturbations of the matrices model what changes between recordings of the
same movement: when the contraction happens (time shift), how strong it is
(amplitude scale) and how well each electrode couples (channel gain).
"""

import torch
from torch.utils.data import Dataset, get_worker_info

__all__ = ["AUGMENT_DEFAULTS", "AugmentedDataset", "augment_params"]

#: Default strengths of ``augment=True``.
AUGMENT_DEFAULTS = {"time_shift": 0.1, "amplitude_scale": 0.2, "channel_gain": 0.1}


def augment_params(augment):
    """Normalise the ``augment`` parameter to a dict of strengths (or None)."""
    if augment is None or augment is False:
        return None
    if augment is True:
        return dict(AUGMENT_DEFAULTS)
    if isinstance(augment, dict):
        unknown = set(augment) - set(AUGMENT_DEFAULTS)
        if unknown:
            raise ValueError(
                f"Unknown augmentation(s) {sorted(unknown)} in the 'augment' "
                f"parameter; expected keys among {sorted(AUGMENT_DEFAULTS)}."
            )
        params = {key: 0.0 for key in AUGMENT_DEFAULTS}
        params.update({k: float(v) for k, v in augment.items()})
        if any(v < 0 for v in params.values()):
            raise ValueError(f"Augmentation strengths must be >= 0; got {augment!r}.")
        return params
    raise ValueError(
        "The 'augment' parameter must be None, a bool or a dict with keys "
        f"{sorted(AUGMENT_DEFAULTS)}; got {augment!r}."
    )


class AugmentedDataset(Dataset):
    """Wrap a (X, y) dataset; perturb each matrix when it is drawn.

    Parameters
    ----------
    dataset : torch Dataset
        Yields ``(X_i, y_i)`` with ``X_i`` a float tensor ``(C, F, T)``.
    time_shift : float
        Largest circular shift along time, as a fraction of the time bins.
    amplitude_scale : float
        Standard deviation of the log of a factor multiplying the matrix.
    channel_gain : float
        Standard deviation of the log of a factor per channel.
    generator : torch.Generator or None, default=None
        Source of the random draws in the process that reads the dataset
        (:class:`HHTCNNClassifier` passes one seeded from its
        ``random_state``); None draws from torch's default generator. In a
        ``DataLoader`` worker (``num_workers > 0``) each worker draws from a
        generator of its own, seeded with the seed the ``DataLoader`` gives
        that worker (``get_worker_info().seed``, drawn from the loader's own
        ``generator``), so the draws repeat from run to run (for a given
        number of workers) and no global random state is read.
    """

    def __init__(
        self,
        dataset,
        time_shift=0.1,
        amplitude_scale=0.2,
        channel_gain=0.1,
        generator=None,
    ):
        self.dataset = dataset
        self.time_shift = time_shift
        self.amplitude_scale = amplitude_scale
        self.channel_gain = channel_gain
        self.generator = generator
        self._worker = None  # (seed, generator) inside a DataLoader worker

    def __len__(self):
        return len(self.dataset)

    def _generator(self):
        info = get_worker_info()
        if info is None:
            return self.generator
        if self._worker is None or self._worker[0] != info.seed:
            self._worker = (info.seed, torch.Generator().manual_seed(info.seed))
        return self._worker[1]

    def __getitem__(self, index):
        X, y = self.dataset[index]
        X = torch.as_tensor(X)
        generator = self._generator()
        n_times = X.shape[-1]
        max_shift = int(round(self.time_shift * n_times))
        if max_shift > 0:
            shift = int(
                torch.randint(-max_shift, max_shift + 1, (), generator=generator).item()
            )
            X = torch.roll(X, shifts=shift, dims=-1)
        if self.amplitude_scale > 0:
            X = X * torch.exp(
                torch.randn((), generator=generator) * self.amplitude_scale
            )
        if self.channel_gain > 0:
            gains = torch.exp(
                torch.randn(X.shape[0], generator=generator) * self.channel_gain
            )
            X = X * gains.view(-1, *([1] * (X.dim() - 1)))
        return X, y
