"""The first trial of every new study: a strong, known-good default, so the search starts at least
as well as the hand-written recipe it replaces.

``recipe`` is seed 001's: Unet / ResNet34, 0.7 CE + 0.3 Dice, Adam, cosine, lr 1e-3 (batch 8 where the
batch size is searched), expressed in
the study's space: each searched key takes the recipe's value where the space has it, the nearest
choice that trains well from scratch otherwise, numbers clipped into their range. Keys the YAML
fixes stay as the YAML fixes them. A YAML's ``study.baseline`` dict replaces the recipe.
"""

from __future__ import annotations

import math
from typing import Any, cast

from ..config import ParamSpec, SearchSpaceFile

# preferences, best first: the recipe's value, then the closest choices that train well from scratch
_CHOICES: dict[str, list[Any]] = {
    "architecture": ["unet", "fpn", "linknet", "unetplusplus", "manet"],
    "encoder": ["resnet34", "resnet18", "resnet50", "efficientnet-b0", "mobilenet_v2"],
    "loss": ["ce+dice", "ce", "wce", "dice+ce", "focal", "dice"],
    "optimizer": ["adam", "adamw"],
    "scheduler": ["cosine"],
    "augmentation": ["light", "full"],
}
_VALUES: dict[str, float] = {"batch_size": 8, "lr": 1e-3, "weight_decay": 1e-4, "loss.ce+dice.weight": 0.7, "loss.dice+ce.weight": 0.3}


def baseline_params(cfg: SearchSpaceFile) -> dict[str, Any] | None:
    """Optuna params (searched keys, children as ``loss.ce+dice.weight``) and fixed settings of the baseline."""
    from ._space import settings_to_params, validate_settings

    b = cfg.study.baseline
    if b == "none" or cfg.study.sampler.name == "grid":
        return None
    if isinstance(b, dict):
        return settings_to_params(validate_settings(cfg, b), cfg.search)
    params: dict[str, Any] = {}
    for key, spec in cfg.search.items():
        value = _pick(key, spec, getattr(cfg.train, key, None))
        if value is None:
            continue
        params[key] = value
        for child, sub in spec.children.get(str(value), {}).items():
            v = _pick(f"{key}.{value}.{child}", sub, None)
            if v is not None:
                params[f"{key}.{value}.{child}"] = v
    return params


def _pick(name: str, spec: ParamSpec, fixed: Any) -> Any:
    if spec.type == "categorical":
        choices = list(spec.choices or [])
        for want in [*_CHOICES.get(name, []), fixed]:
            if want in choices:
                return want
        return choices[0] if name.count(".") == 2 else None  # a child (e.g. class_weights: [auto]) needs one
    low, high = float(cast(float, spec.low)), float(cast(float, spec.high))  # numeric: set (ParamSpec checks)
    want = _VALUES.get(name, fixed if isinstance(fixed, int | float) and not isinstance(fixed, bool) else None)
    if want is None:
        want = math.sqrt(low * high) if spec.log else (low + high) / 2
    return clip(spec, want)


def clip(spec: ParamSpec, want: float) -> float | int:
    """``want`` clipped into a numeric parameter's range, on its step, as its type."""
    low, high = float(cast(float, spec.low)), float(cast(float, spec.high))
    v = min(max(float(want), low), high)
    if spec.step:
        v = low + round((v - low) / spec.step) * spec.step
    return int(round(v)) if spec.type == "int" else v
