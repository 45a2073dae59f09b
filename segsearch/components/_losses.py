"""Losses by name, built from smp.losses and torch; sums such as ``ce+dice`` with a weight."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..config._registry import LOSS_PARAMS, parse_loss

_COMBO_KEYS = ("weight", "weights")


class WeightedSum(nn.Module):
    def __init__(self, parts: Sequence[nn.Module], weights: Sequence[float]) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)
        self.weights = [float(w) for w in weights]

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(w * part(logits, target) for w, part in zip(self.weights, self.parts, strict=True))


class _BCE(nn.Module):
    """BCE on logits for binary/multilabel targets, honouring an ignore index."""

    pos_weight: torch.Tensor | None  # a buffer

    def __init__(self, ignore_index: int | None, pos_weight: torch.Tensor | None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.register_buffer("pos_weight", pos_weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.to(logits.dtype)
        if self.pos_weight is not None:
            pw = self.pos_weight.view(1, -1, *([1] * (logits.dim() - 2)))
        else:
            pw = None
        loss = nn.functional.binary_cross_entropy_with_logits(logits, target.clamp(0, 1), pos_weight=pw, reduction="none")
        if self.ignore_index is None:
            return loss.mean()
        keep = (target != self.ignore_index).to(loss.dtype)
        return (loss * keep).sum() / keep.sum().clamp_min(1.0)


def _stable_focal(output: torch.Tensor, target: torch.Tensor, alpha: float | None, gamma: float) -> torch.Tensor:
    """smp's focal loss on logits, with (1 - pt) kept above 1e-6: for gamma < 1 the derivative of
    (1 - pt) ** gamma is infinite at pt == 1, and a confidently right pixel made the gradient NaN."""
    target = target.to(dtype=output.dtype, device=output.device)
    logpt = nn.functional.binary_cross_entropy_with_logits(output, target, reduction="none")
    pt = torch.exp(-logpt)
    loss = (1.0 - pt).clamp_min(1e-6).pow(gamma) * logpt
    if alpha is not None:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return loss.mean()


def build_loss(
    name: str,
    params: dict[str, Any],
    mode: str,
    num_classes: int,
    ignore_index: int | None = None,
    class_weights: Sequence[float] | None = None,
) -> nn.Module:
    """Build a loss; ``class_weights`` are the computed weights used when a loss asks for ``auto``."""
    parts = parse_loss(name)
    accepted = {k for p in parts for k in LOSS_PARAMS[p]} | (set(_COMBO_KEYS) if len(parts) > 1 else set())
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"loss {name!r}: unknown parameter(s) {unknown}; valid: {sorted(accepted)}")
    modules = [
        _one(p, {k: v for k, v in params.items() if k in LOSS_PARAMS[p]}, mode, num_classes, ignore_index, class_weights)
        for p in parts
    ]
    if len(modules) == 1:
        return modules[0]
    if "weights" in params:
        weights = [float(w) for w in params["weights"]]
        if len(weights) != len(parts):
            raise ValueError(f"loss {name!r}: 'weights' needs {len(parts)} numbers, got {weights}")
    elif "weight" in params:
        w = float(params["weight"])
        if len(parts) != 2 or not 0.0 <= w <= 1.0:
            raise ValueError(f"loss {name!r}: 'weight' is the share of the first of two losses, in [0, 1]; got {w}")
        weights = [w, 1.0 - w]
    else:
        weights = [1.0 / len(parts)] * len(parts)
    return WeightedSum(modules, weights)


def _weights(value: Any, num_classes: int, computed: Sequence[float] | None, loss: str) -> torch.Tensor | None:
    if value is None:
        return None
    if value == "auto":
        if computed is None:
            raise ValueError(f"loss {loss!r}: class_weights 'auto' needs the training masks' pixel counts")
        value = computed
    weights = [float(w) for w in value]
    if len(weights) != num_classes:
        raise ValueError(f"loss {loss!r}: class_weights has {len(weights)} values for {num_classes} classes")
    return torch.tensor(weights, dtype=torch.float32)


def _one(
    part: str,
    p: dict[str, Any],
    mode: str,
    num_classes: int,
    ignore_index: int | None,
    computed: Sequence[float] | None,
) -> nn.Module:
    import segmentation_models_pytorch as smp

    if part in ("ce", "wce"):
        cw = p.get("class_weights", "auto" if part == "wce" else None)
        weight = _weights(cw, num_classes, computed, part)
        if mode == "multiclass":
            return nn.CrossEntropyLoss(
                weight=weight,
                ignore_index=-100 if ignore_index is None else ignore_index,
                label_smoothing=float(p.get("label_smoothing", 0.0)),
            )
        # binary / multilabel: a class weight acts as the positive weight of that channel
        return _BCE(ignore_index, weight)
    if part == "bce":
        if mode == "multiclass":
            raise ValueError("loss 'bce' is for binary or multilabel data; use 'ce' for multiclass")
        pw = p.get("pos_weight")
        pos = None if pw is None else torch.tensor([float(pw)] * num_classes)
        return _BCE(ignore_index, pos)
    if part == "dice":
        return smp.losses.DiceLoss(mode, ignore_index=ignore_index, smooth=float(p.get("smooth", 0.0)),
                                   log_loss=bool(p.get("log_loss", False)))
    if part == "jaccard":
        return smp.losses.JaccardLoss(mode, ignore_index=ignore_index, smooth=float(p.get("smooth", 0.0)),
                                      log_loss=bool(p.get("log_loss", False)))
    if part == "focal":
        alpha = None if p.get("alpha") is None else float(p["alpha"])
        gamma = float(p.get("gamma", 2.0))
        loss = smp.losses.FocalLoss(mode, alpha=alpha, gamma=gamma, ignore_index=ignore_index)
        loss.focal_loss_fn = functools.partial(_stable_focal, alpha=alpha, gamma=gamma)
        return loss
    if part == "lovasz":
        return smp.losses.LovaszLoss(mode, per_image=bool(p.get("per_image", False)), ignore_index=ignore_index)
    if part == "tversky":
        alpha = float(p.get("alpha", 0.5))
        return smp.losses.TverskyLoss(mode, ignore_index=ignore_index, alpha=alpha,
                                      beta=float(p.get("beta", 1.0 - alpha)), gamma=float(p.get("gamma", 1.0)))
    raise ValueError(f"unknown loss {part!r}")  # parse_loss already rejected it; kept for safety
