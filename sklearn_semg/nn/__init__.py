"""Torch-based estimators; the only sub-package that imports torch and skorch.

- :class:`CNNFeatureExtractor`: frozen CNN encoder as a transformer (method 1).
- :class:`HHTCNNClassifier`: end-to-end CNN as a skorch classifier (method 2).
- :class:`HHTEncoder`, :class:`HHTCNN`: the torch modules.
- :class:`TrainingCheckpoint`, :class:`ResumeCheckpoint`: the callbacks that
  write atomic checkpoints of a training and resume from one.
"""

from ._callbacks import (
    ResumeCheckpoint,
    TrainingCheckpoint,
    find_checkpoint,
    load_checkpoint,
)
from ._classifier import HHTCNNClassifier
from ._device import resolve_device
from ._extractor import CNNFeatureExtractor, encoder_state_dict
from ._modules import HHTCNN, POOLINGS, HHTEncoder

__all__ = [
    "CNNFeatureExtractor",
    "HHTCNN",
    "HHTCNNClassifier",
    "HHTEncoder",
    "POOLINGS",
    "ResumeCheckpoint",
    "TrainingCheckpoint",
    "encoder_state_dict",
    "find_checkpoint",
    "load_checkpoint",
    "resolve_device",
]
