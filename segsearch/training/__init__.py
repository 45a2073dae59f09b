"""Training and evaluation; no Optuna here. The search and the final retrain both call ``train``."""

from ..config import REDUCTIONS, metric_label
from ._checkpoint import save_atomic
from ._device import Runtime, make_runtime, release_memory, resolve_device
from ._estimate import epoch_seconds
from ._loop import (
    EpochResult,
    NonFiniteLoss,
    Reporter,
    RunSpec,
    StopTraining,
    TrainResult,
    build_loaders,
    evaluate,
    keeps_last,
    seed_everything,
    train,
    wants_auto_class_weights,
    warm_epoch_seconds,
)
from ._metrics import MetricAccumulator, Scores, class_mean
from ._reporters import Fanout, MetricsFile
from ._versions import versions

__all__ = [
    "versions",
    "warm_epoch_seconds",
    "EpochResult",
    "Fanout",
    "MetricsFile",
    "REDUCTIONS",
    "MetricAccumulator",
    "NonFiniteLoss",
    "Reporter",
    "RunSpec",
    "Runtime",
    "Scores",
    "StopTraining",
    "TrainResult",
    "build_loaders",
    "class_mean",
    "epoch_seconds",
    "evaluate",
    "keeps_last",
    "make_runtime",
    "metric_label",
    "release_memory",
    "resolve_device",
    "save_atomic",
    "seed_everything",
    "train",
    "wants_auto_class_weights",
]
