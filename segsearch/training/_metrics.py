"""Validation metrics with smp.metrics, accumulated on the device (no per-batch host sync)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Scores:
    miou: float
    mdice: float
    per_class_iou: list[float]
    per_class_dice: list[float]
    confusion: list[list[int]] | None = None


class MetricAccumulator:
    def __init__(self, mode: str, num_classes: int, ignore_index: int | None, threshold: float,
                 reduction: str, include_background: bool) -> None:
        self.mode, self.num_classes, self.ignore_index = mode, num_classes, ignore_index
        self.threshold, self.reduction, self.include_background = threshold, reduction, include_background
        self._stats: list[tuple[torch.Tensor, ...]] = []
        self._confusion: torch.Tensor | None = None

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        import segmentation_models_pytorch as smp

        if self.mode == "multiclass":
            pred = logits.argmax(1)
            stats = smp.metrics.get_stats(pred, target, mode="multiclass", num_classes=self.num_classes,
                                          ignore_index=self.ignore_index)
            self._update_confusion(pred, target)
        else:
            prob = logits.float().sigmoid()
            stats = smp.metrics.get_stats(prob, target.long(), mode=self.mode, threshold=self.threshold,
                                          ignore_index=self.ignore_index)
        self._stats.append(stats)

    def _update_confusion(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        n = self.num_classes
        keep = (target >= 0) & (target < n)
        idx = target[keep] * n + pred[keep]
        cm = torch.bincount(idx, minlength=n * n).view(n, n)
        self._confusion = cm if self._confusion is None else self._confusion + cm

    def compute(self) -> Scores:
        import segmentation_models_pytorch as smp

        tp, fp, fn, tn = (torch.cat(parts) for parts in zip(*self._stats, strict=True))
        if self.mode == "multiclass" and not self.include_background and self.num_classes > 1:
            tp, fp, fn, tn = (t[:, 1:] for t in (tp, fp, fn, tn))
        miou = smp.metrics.iou_score(tp, fp, fn, tn, reduction=self.reduction, zero_division=1.0)
        mdice = smp.metrics.f1_score(tp, fp, fn, tn, reduction=self.reduction, zero_division=1.0)
        sums = [t.sum(0, keepdim=True) for t in (tp, fp, fn, tn)]
        per_iou = smp.metrics.iou_score(*sums, reduction="none", zero_division=float("nan"))[0]
        per_dice = smp.metrics.f1_score(*sums, reduction="none", zero_division=float("nan"))[0]
        cm = self._confusion.tolist() if self._confusion is not None else None
        return Scores(float(miou), float(mdice), [float(v) for v in per_iou], [float(v) for v in per_dice], cm)
