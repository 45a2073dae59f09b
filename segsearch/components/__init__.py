"""Models, losses, optimizers and schedulers built by name."""

from ._cost import COST_METRICS, Cost, constraint_values, measure_cost
from ._losses import build_loss
from ._models import (
    WeightsUnavailable,
    build_model,
    check_architecture,
    check_encoder,
    ensure_weights,
    preprocessing,
)
from ._optim import Scheduler, build_optimizer

__all__ = [
    "COST_METRICS",
    "Cost",
    "constraint_values",
    "measure_cost",
    "Scheduler",
    "WeightsUnavailable",
    "build_loss",
    "build_model",
    "build_optimizer",
    "check_architecture",
    "check_encoder",
    "ensure_weights",
    "preprocessing",
]
