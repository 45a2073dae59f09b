"""What a model costs where it is deployed, measured once per trial before it trains: the median latency of
a forward pass at the deployment batch and image size, parameters, and FLOPs (torch's own flop counter)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

COST_METRICS = ("latency_ms", "params_m", "flops_g")  # what a constraint may bound (study.constraints)


@dataclass(frozen=True)
class Cost:
    latency_ms: float  # median of ``repeats`` forward passes after ``warmup`` ones
    params_m: float  # parameters, millions
    flops_g: float  # floating-point operations of one forward pass at the deployment batch, billions
    device: str
    batch_size: int
    image_size: tuple[int, int]

    def metrics(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k in COST_METRICS}


def measure_cost(model: torch.nn.Module, in_channels: int, image_hw: tuple[int, int], device: str | torch.device,
                 batch_size: int = 1, warmup: int = 3, repeats: int = 10) -> Cost:
    """Latency, parameters and FLOPs of ``model`` in eval mode on ``device`` (moved there for the measurement
    and left there). On CUDA each timed pass is synchronised, so the time is the kernel time, not the launch."""
    from torch.utils.flop_counter import FlopCounterMode

    dev = torch.device(device)
    model = model.to(dev).eval()
    x = torch.rand(batch_size, in_channels, *image_hw, device=dev)
    params = sum(p.numel() for p in model.parameters())
    with torch.inference_mode():
        counter = FlopCounterMode(display=False)
        with counter:
            model(x)
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(max(1, repeats)):
            _sync(dev)
            t0 = time.perf_counter()
            model(x)
            _sync(dev)
            times.append(time.perf_counter() - t0)
    return Cost(round(1000 * statistics.median(times), 3), round(params / 1e6, 3),
                round(counter.get_total_flops() / 1e9, 3), str(dev), batch_size, (int(image_hw[0]), int(image_hw[1])))


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def constraint_values(metrics: Mapping[str, float], constraints: Mapping[str, Any]) -> dict[str, float]:
    """Optuna's constraint values (feasible when <= 0): each bounded metric minus its ``max``."""
    return {name: metrics[name] - float(getattr(spec, "max", spec)) for name, spec in constraints.items()
            if name in metrics}


__all__ = ["COST_METRICS", "Cost", "constraint_values", "measure_cost"]
