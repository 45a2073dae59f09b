"""What a model costs where it is deployed, measured once per trial before it trains: the median latency of
a forward pass at the deployment batch and image size, the peak memory of that pass (weights included),
parameters, and FLOPs (torch's own flop counter)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

COST_METRICS = ("latency_ms", "peak_memory_mb", "params_m", "flops_g")  # what study.constraints / minimize name


@dataclass(frozen=True)
class Cost:
    latency_ms: float  # median of ``repeats`` forward passes after ``warmup`` ones
    peak_memory_mb: float  # MiB held at the peak of one forward pass: weights + activations
    params_m: float  # parameters, millions
    flops_g: float  # floating-point operations of one forward pass at the deployment batch, billions
    device: str
    batch_size: int
    image_size: tuple[int, int]

    def metrics(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k in COST_METRICS}


def measure_cost(model: torch.nn.Module, in_channels: int, image_hw: tuple[int, int], device: str | torch.device,
                 batch_size: int = 1, warmup: int = 3, repeats: int = 10) -> Cost:
    """Latency, peak memory, parameters and FLOPs of ``model`` in eval mode on ``device`` (moved there for the
    measurement and left there). On CUDA each timed pass is synchronised, so the time is the kernel time, not
    the launch."""
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
        peak = _peak_memory(model, x, dev)
    return Cost(round(1000 * statistics.median(times), 3), round(peak / 2**20, 1),
                round(params / 1e6, 3),
                round(counter.get_total_flops() / 1e9, 3), str(dev), batch_size, (int(image_hw[0]), int(image_hw[1])))


def _peak_memory(model: torch.nn.Module, x: torch.Tensor, dev: torch.device) -> float:
    """Bytes held at the peak of one forward pass: the weights and buffers plus the activations alive at once.
    CUDA: the allocator's own peak. CPU: the allocations and frees the profiler records, in order."""
    weights = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        before = torch.cuda.memory_allocated(dev)
        model(x)
        torch.cuda.synchronize(dev)
        return float(torch.cuda.max_memory_allocated(dev) - before + weights)
    counter = _LiveTensors()
    with counter:
        model(x)
    return float(counter.peak + weights)


class _LiveTensors:
    """The bytes of tensors that torch ops create and that are alive at once, at their peak: every op's output
    is counted when it is made (once per storage) and uncounted when the tensor is freed. Silent and exact for
    a forward pass in inference mode (it matched the CPU profiler's allocation trace byte for byte on a Unet)."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        counter = self

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
                out = func(*args, **(kwargs or {}))
                counter._made(out)
                return out

        self._mode, self.live, self.now, self.peak = _Mode(), dict[int, int](), 0, 0

    def __enter__(self) -> _LiveTensors:
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)

    def _made(self, out: Any) -> None:
        import weakref

        from torch.utils._pytree import tree_flatten

        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            key = t.untyped_storage().data_ptr()
            if key and key not in self.live:
                self.live[key] = t.untyped_storage().nbytes()
                self.now += self.live[key]
                self.peak = max(self.peak, self.now)
                weakref.finalize(t, self._freed, key)

    def _freed(self, key: int) -> None:
        self.now -= self.live.pop(key, 0)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def constraint_values(metrics: Mapping[str, float], constraints: Mapping[str, Any]) -> dict[str, float]:
    """Optuna's constraint values (feasible when <= 0): each bounded metric minus its ``max``."""
    return {name: metrics[name] - float(getattr(spec, "max", spec)) for name, spec in constraints.items()
            if name in metrics}


__all__ = ["COST_METRICS", "Cost", "constraint_values", "measure_cost"]
