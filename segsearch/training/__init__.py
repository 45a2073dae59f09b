"""Training and evaluation; no Optuna here. The search and the final retrain both call ``train``."""

from ._checkpoint import save_atomic
from ._device import Runtime, make_runtime, release_memory, resolve_device
from ._loop import (
    EpochResult,
    NonFiniteLoss,
    Reporter,
    RunSpec,
    StopTraining,
    TrainResult,
    build_loaders,
    evaluate,
    seed_everything,
    train,
)
from ._metrics import MetricAccumulator, Scores
from ._reporters import Fanout, MetricsFile

__all__ = [
    "EpochResult",
    "Fanout",
    "MetricsFile",
    "MetricAccumulator",
    "NonFiniteLoss",
    "Reporter",
    "RunSpec",
    "Runtime",
    "Scores",
    "StopTraining",
    "TrainResult",
    "build_loaders",
    "evaluate",
    "make_runtime",
    "release_memory",
    "resolve_device",
    "save_atomic",
    "seed_everything",
    "train",
]
