"""Training engine: configs, the Lightning module, checkpoints and the run directory.

``train(data, out, model="particlenet", epochs=10)`` is the common case; the pieces
(:func:`build_inputs`, :func:`train_on_arrays`, :func:`load_tagger`, :func:`predict`)
are there for studies that share inputs between many models.
"""

from __future__ import annotations

from heplearn.training.config import InvalidConfigError, TrainConfig
from heplearn.training.engine import (
    TrainResult,
    load_jets,
    load_tagger,
    predict,
    split_indices,
    train,
    train_on_arrays,
)
from heplearn.training.inputs import build_inputs, model_dimensions, required_inputs
from heplearn.training.losses import weighted_cross_entropy

__all__ = [
    "InvalidConfigError",
    "TrainConfig",
    "TrainResult",
    "build_inputs",
    "load_jets",
    "load_tagger",
    "model_dimensions",
    "predict",
    "required_inputs",
    "split_indices",
    "train",
    "train_on_arrays",
    "weighted_cross_entropy",
]
