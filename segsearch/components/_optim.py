"""Optimizers and LR schedulers by name; unset arguments keep torch's defaults."""

from __future__ import annotations

from typing import Any

import torch

_OPTIMIZERS = {
    "adam": ("Adam", ("betas", "eps", "amsgrad", "fused", "foreach")),
    "adamw": ("AdamW", ("betas", "eps", "amsgrad", "fused", "foreach")),
    "sgd": ("SGD", ("momentum", "nesterov", "dampening", "fused", "foreach")),
    "rmsprop": ("RMSprop", ("momentum", "alpha", "eps", "foreach")),
}


def build_optimizer(name: str, params: Any, lr: float, weight_decay: float, extra: dict[str, Any]) -> torch.optim.Optimizer:
    """The optimizer ``name`` with torch's defaults for what ``extra`` leaves unset, except that Adam, AdamW and
    SGD use torch's fused kernel where the parameters' device has one (CPU and CUDA): the same update in one
    kernel instead of a loop over the parameter tensors (140 for a Unet/ResNet34). On a CPU the loop is torch's
    default: 70-90 ms a step for a Unet/ResNet34 on one thread, fused 20 ms; epochs 1.06-1.17x faster
    (bench/LATEST.md, 'Fused optimizer'). ``fused: false`` in ``optimizer_params`` turns it off."""
    cls_name, allowed = _OPTIMIZERS[name]
    unknown = sorted(set(extra) - set(allowed))
    if unknown:
        raise ValueError(f"optimizer {name!r}: unknown parameter(s) {unknown}; valid: {list(allowed)}")
    kwargs = dict(extra)
    if name == "sgd":
        kwargs.setdefault("momentum", 0.9)
    cls, params = getattr(torch.optim, cls_name), list(params)
    if "fused" in allowed and "fused" not in kwargs and not kwargs.get("foreach"):
        try:
            return cls(params, lr=lr, weight_decay=weight_decay, fused=True, **kwargs)
        except RuntimeError:  # torch: "`fused=True` requires all the params to be ... of supported devices"
            pass
    return cls(params, lr=lr, weight_decay=weight_decay, **kwargs)


WSD_DECAY = 0.2  # scheduler wsd: the share of the epochs that decay, unless scheduler_params.decay says otherwise


def wsd_decay_start(epochs: int, decay: float = WSD_DECAY) -> int:
    """The last epoch (1-based) of a ``wsd`` schedule over ``epochs`` trained at the peak rate: the share
    ``1 - decay`` of the epochs, and at least one epoch of decay when there are two or more epochs."""
    return min(epochs - 1, round(epochs * (1.0 - decay))) if epochs > 1 else 0


class WarmupStableDecay(torch.optim.lr_scheduler.LRScheduler):
    """Warmup-stable-decay (WSD, here without the warm-up): the peak rate for the first ``1 - decay`` of
    ``T_max`` epochs, then falling linearly over the rest, the last epoch at ``1 / (n + 1)`` of the peak for
    ``n`` decay epochs (Hägele et al. 2024, "Scaling laws and compute-optimal training beyond fixed training
    durations"). Unlike cosine, the weights at the decay's start were trained at a constant rate, so a later
    run can continue from them without a warm restart. ``T_max`` may be retimed while training, as cosine's."""

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, decay: float = WSD_DECAY) -> None:
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"scheduler wsd: decay must be in (0, 1], got {decay}")
        self.T_max, self.decay = T_max, decay
        super().__init__(optimizer)

    def decay_start(self) -> int:
        """The last epoch (1-based) trained at the peak rate; its weights are where a continuation starts."""
        return wsd_decay_start(self.T_max, self.decay)

    def factor(self, steps: int) -> float:
        """The rate's share of the peak for epoch ``steps + 1``."""
        start = self.decay_start()
        if steps < start:
            return 1.0
        return max(0.0, (self.T_max - steps) / (self.T_max - start + 1))

    def get_lr(self) -> list[float | torch.Tensor]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


class Scheduler:
    """One step per epoch; ``plateau`` reads the validation objective."""

    def __init__(self, name: str, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int,
                 params: dict[str, Any], maximize: bool) -> None:
        self.name = name
        self.per_step = name == "onecycle"
        S = torch.optim.lr_scheduler
        # Any: the torch schedulers differ (plateau's step takes the metric, cosine's T_max is retimed in training)
        self.impl: Any
        if name == "none":
            self.impl = None
        elif name == "cosine":
            self.impl = S.CosineAnnealingLR(optimizer, T_max=max(1, epochs), eta_min=float(params.get("eta_min", 0.0)))
        elif name == "wsd":
            self.impl = WarmupStableDecay(optimizer, max(1, epochs), float(params.get("decay", WSD_DECAY)))
        elif name == "step":
            self.impl = S.StepLR(optimizer, step_size=int(params.get("step_size", max(1, epochs // 3))),
                                 gamma=float(params.get("gamma", 0.1)))
        elif name == "plateau":
            self.impl = S.ReduceLROnPlateau(optimizer, mode="max" if maximize else "min",
                                            factor=float(params.get("factor", 0.5)),
                                            patience=int(params.get("patience", 2)))
        elif name == "onecycle":
            max_lr = [g["lr"] for g in optimizer.param_groups]
            self.impl = S.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=max(1, steps_per_epoch))
        else:
            raise ValueError(f"unknown scheduler {name!r}")

    def step_batch(self) -> None:
        if self.per_step and self.impl is not None:
            self.impl.step()

    def step_epoch(self, objective: float) -> None:
        if self.impl is None or self.per_step:
            return
        if self.name == "plateau":
            self.impl.step(objective)
        else:
            self.impl.step()

    def stable_ended(self, lr_before: float) -> bool:
        """After ``step_epoch``: ``wsd`` only, the epoch just trained (at ``lr_before``) was the last at the peak
        rate, so its weights are where a continuation of this run can start without a warm restart."""
        if self.name != "wsd":
            return False
        peak = self.impl.base_lrs[0]
        return lr_before >= peak > self.impl.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict[str, Any]:
        return self.impl.state_dict() if self.impl is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.impl is not None and state:
            self.impl.load_state_dict(state)
