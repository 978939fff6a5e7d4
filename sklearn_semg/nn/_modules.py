"""The CNN encoder and the end-to-end network (torch modules).

Attribute names follow the reference notebook (``encoder.N.conv``,
``classifier.1``...), so state dicts saved by the notebook load unchanged.
"""

import math

import torch
from torch import nn

__all__ = ["ConvBlock", "HHTEncoder", "HHTCNN", "POOLINGS", "init_parameters"]

#: Pooling of the last feature map: ``"global"`` averages over frequency and
#: time (the reference); ``"time"`` averages over time only and keeps one
#: value per channel and frequency row, so the position of the energy on the
#: frequency axis survives (a ``n_channels * n_freq_rows`` vector).
POOLINGS = ("global", "time")


class ConvBlock(nn.Module):
    """Conv2d(k3, s2, p1) -> InstanceNorm2d -> LeakyReLU.

    InstanceNorm2d normalises each channel over the positions of the map; on
    a map of a single position (a 1x2 input, say: a pair of features read as
    one row) it is undefined (it would subtract the only value and leave 0),
    so the block skips it there. Maps of two or more positions, every HHT
    matrix, go through the reference block unchanged.
    """

    def __init__(self, in_channels, out_channels, leaky_slope=0.2):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.instance_norm = nn.InstanceNorm2d(out_channels)
        self.activation = nn.LeakyReLU(negative_slope=leaky_slope)

    def forward(self, x):
        """(batch, C_in, H, W) -> (batch, C_out, ceil(H/2), ceil(W/2))."""
        x = self.conv(x)
        if x.shape[-2] * x.shape[-1] > 1:
            x = self.instance_norm(x)
        return self.activation(x)


def encoded_size(size, num_layers):
    """Spatial size after ``num_layers`` stride-2 blocks: ceil(size / 2**L)."""
    for _ in range(num_layers):
        size = (size - 1) // 2 + 1
    return size


class HHTEncoder(nn.Module):
    """CNN encoder: ``num_layers`` ConvBlocks, then average pooling.

    Parameters
    ----------
    in_channels : int, default=1
        Input planes (sEMG channels).
    base_channels : int, default=64
        Channels of the first block; block ``i`` has ``base_channels * 2**i``.
    num_layers : int, default=3
        Number of blocks.
    leaky_slope : float, default=0.2
        Negative slope of the LeakyReLU.
    pooling : {"global", "time"}, default="global"
        See :data:`POOLINGS`.
    """

    def __init__(
        self,
        in_channels=1,
        base_channels=64,
        num_layers=3,
        leaky_slope=0.2,
        pooling="global",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_layers = num_layers
        self.pooling = pooling
        blocks, channels = [], in_channels
        for i in range(num_layers):
            blocks.append(ConvBlock(channels, base_channels * 2**i, leaky_slope))
            channels = base_channels * 2**i
        self.encoder = nn.Sequential(*blocks)
        self.out_channels = channels

    def feature_dim(self, height=None):
        """Length of the feature vector (``height``: input rows, for "time")."""
        if self.pooling == "global":
            return self.out_channels
        if height is None:
            raise ValueError("pooling='time' needs the input height.")
        return self.out_channels * encoded_size(height, self.num_layers)

    def forward(self, x):
        """(batch, C, H, W) -> (batch, feature_dim(H)) feature vectors."""
        x = self.encoder(x)
        if self.pooling == "global":
            return x.mean(dim=(2, 3))
        return x.mean(dim=3).flatten(1)


class HHTCNN(nn.Module):
    """Encoder followed by the reference classification head.

    ``Dropout(p) -> Linear(n_features, 128) -> ReLU -> Dropout(p) ->
    Linear(128, n_classes)``.

    Parameters
    ----------
    n_classes : int
        Number of classes (inferred from ``y`` by the classifier).
    in_channels : int, default=1
        Input planes (inferred from ``X``).
    input_height : int or None, default=None
        Input rows, needed when ``pooling="time"`` (inferred from ``X``).
    base_channels, num_layers, pooling : see :class:`HHTEncoder`
    dropout : float, default=0.5
        Dropout probability of the head.
    hidden_units : int, default=128
        Width of the hidden layer of the head.
    """

    def __init__(
        self,
        n_classes,
        in_channels=1,
        input_height=None,
        base_channels=64,
        num_layers=3,
        pooling="global",
        dropout=0.5,
        hidden_units=128,
    ):
        super().__init__()
        self.encoder = HHTEncoder(
            in_channels=in_channels,
            base_channels=base_channels,
            num_layers=num_layers,
            pooling=pooling,
        )
        n_features = self.encoder.feature_dim(input_height)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(n_features, hidden_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_units, n_classes),
        )

    def forward(self, x):
        """(batch, C, H, W) -> (batch, n_classes) logits."""
        return self.classifier(self.encoder(x))


def init_parameters(module, generator):
    """Re-initialise Conv2d and Linear layers from an explicit generator.

    Same distributions as PyTorch's defaults (Kaiming-uniform weights with
    ``a = sqrt(5)``, uniform biases in ``+-1/sqrt(fan_in)``), drawn from
    ``generator`` so that no global random state is read or changed.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in = layer.weight[0].numel()
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def torch_generator(random_state):
    """A CPU torch.Generator seeded from a scikit-learn ``random_state``."""
    from sklearn.utils import check_random_state

    seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
    return torch.Generator().manual_seed(seed)
