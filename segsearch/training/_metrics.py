"""Validation metrics, accumulated on the device (no per-batch host sync).

The default reduction, ``class-mean``, is what mmseg, torchmetrics and nnU-Net users read as mIoU:
per class, TP/FP/FN summed over the whole split, IoU per class, then the mean over classes. A class
absent from both the split's ground truth and its predictions is left out of the mean (never 1.0).
In binary mode the one class is the foreground, so the figure is the foreground IoU.

The other reductions (smp's ``micro-imagewise``, ``micro``, ``macro``, ...) stay available when a
user asks for them; ``metric_label`` names them wherever a figure is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import REDUCTIONS

COLLAPSE_SHARE = 0.995  # one class predicted for at least this share of pixels


@dataclass(frozen=True)
class Scores:
    miou: float
    mdice: float
    per_class_iou: list[float]
    per_class_dice: list[float]
    confusion: list[list[int]] | None = None
    collapsed: bool = False  # the model predicts one class (nearly) everywhere while the truth has more


def class_mean(tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor, dice: bool = False) -> tuple[float, list[float]]:
    """Per-class IoU (or Dice) from per-class sums, and their mean over classes that appear in the
    ground truth or the predictions (NaN per class otherwise). All absent: 1.0 (nothing to find, nothing found)."""
    tp, fp, fn = (t.double() for t in (tp, fp, fn))
    num, den = (2 * tp, 2 * tp + fp + fn) if dice else (tp, tp + fp + fn)
    per = torch.where(den > 0, num / den.clamp(min=1), torch.full_like(den, float("nan")))
    values = [float(v) for v in per]
    kept = [v for v in values if not math.isnan(v)]
    return (sum(kept) / len(kept) if kept else 1.0), values


def bootstrap_interval(tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor, level: float = 0.95,
                       resamples: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """A percentile bootstrap interval of the class-mean IoU over images: ``tp``/``fp``/``fn`` are per image
    and class (N x C); each resample draws N images with replacement and sums them as ``class_mean`` does.
    How far the figure would move on another draw of as many images like these (None below 2 images)."""
    n = tp.shape[0]
    if n < 2:
        return None
    tp, fp, fn = (t.detach().cpu() for t in (tp, fp, fn))  # N x C counts; a model evaluated on a GPU gives CUDA ones
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, n, (resamples, n), generator=g)
    step = max(1, 4_000_000 // (n * tp.shape[1]))  # resamples at once: a few million sums in memory
    tp, fp, fn = (torch.cat([t.double()[idx[i:i + step]].sum(1) for i in range(0, resamples, step)])
                  for t in (tp, fp, fn))  # resamples x C
    den = tp + fp + fn
    per = torch.where(den > 0, tp / den.clamp(min=1), torch.full_like(den, float("nan")))
    present = ~per.isnan()
    means = torch.where(present.any(1), per.nan_to_num(0).sum(1) / present.sum(1).clamp(min=1),
                        torch.ones(resamples, dtype=torch.float64))
    lo, hi = torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    return float(lo), float(hi)


class MetricAccumulator:
    def __init__(self, mode: str, num_classes: int, ignore_index: int | None, threshold: float,
                 reduction: str, include_background: bool) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown metric_reduction {reduction!r}; valid: {', '.join(REDUCTIONS)}")
        self.mode, self.num_classes, self.ignore_index = mode, num_classes, ignore_index
        self.threshold, self.reduction, self.include_background = threshold, reduction, include_background
        self._stats: list[tuple[torch.Tensor, ...]] = []
        self._confusion: torch.Tensor | None = None
        self._pred_hist: torch.Tensor | None = None  # pixels predicted per class (binary: bg, fg)
        self._true_hist: torch.Tensor | None = None

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
            self._update_binary_hist(prob > self.threshold, target)
        self._stats.append(stats)

    def _update_confusion(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        n = self.num_classes
        keep = (target >= 0) & (target < n)
        idx = target[keep] * n + pred[keep]
        cm = torch.bincount(idx, minlength=n * n).view(n, n)
        self._confusion = cm if self._confusion is None else self._confusion + cm

    def _update_binary_hist(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Per channel: [predicted negative, predicted positive] and the same for the truth."""
        keep = target != self.ignore_index if self.ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
        dims = (0, 2, 3) if pred.dim() == 4 else tuple(range(pred.dim()))
        pos = (pred & keep).sum(dims).reshape(-1)
        true_pos = ((target == 1) & keep).sum(dims).reshape(-1)
        total = keep.sum(dims).reshape(-1)
        ph, th = torch.stack([total - pos, pos], 1), torch.stack([total - true_pos, true_pos], 1)
        self._pred_hist = ph if self._pred_hist is None else self._pred_hist + ph
        self._true_hist = th if self._true_hist is None else self._true_hist + th

    def collapsed(self) -> bool:
        """One class predicted for >= 99.5% of the pixels while the truth is not that one-sided."""
        if self._confusion is not None:
            cm = self._confusion.double()
            pred, true = cm.sum(0)[None], cm.sum(1)[None]
        elif self._pred_hist is not None and self._true_hist is not None:
            pred, true = self._pred_hist.double(), self._true_hist.double()
        else:
            return False
        pred_share = pred.max(1).values / pred.sum(1).clamp(min=1)
        true_share = true.max(1).values / true.sum(1).clamp(min=1)
        return bool(((pred_share >= COLLAPSE_SHARE) & (true_share < COLLAPSE_SHARE)).all())

    def _per_image(self) -> tuple[torch.Tensor, ...]:
        if len(self._stats) > 1:  # joined once: compute() and interval() both read it
            self._stats = [tuple(torch.cat(parts) for parts in zip(*self._stats, strict=True))]
        tp, fp, fn, tn = self._stats[0]
        if self.mode == "multiclass" and not self.include_background and self.num_classes > 1:
            tp, fp, fn, tn = (t[:, 1:] for t in (tp, fp, fn, tn))
        return tp, fp, fn, tn

    def interval(self, level: float = 0.95) -> tuple[float, float] | None:
        """The class-mean IoU's bootstrap interval over the images seen (``bootstrap_interval``)."""
        tp, fp, fn, _ = self._per_image()
        return bootstrap_interval(tp, fp, fn, level)

    def compute(self) -> Scores:
        import segmentation_models_pytorch as smp

        tp, fp, fn, tn = self._per_image()
        s_tp, s_fp, s_fn = [t.sum(0) for t in (tp, fp, fn)]
        cm_iou, per_iou = class_mean(s_tp, s_fp, s_fn)
        cm_dice, per_dice = class_mean(s_tp, s_fp, s_fn, dice=True)
        if self.reduction == "class-mean":
            miou, mdice = cm_iou, cm_dice
        else:
            miou = float(smp.metrics.iou_score(tp, fp, fn, tn, reduction=self.reduction, zero_division=1.0))
            mdice = float(smp.metrics.f1_score(tp, fp, fn, tn, reduction=self.reduction, zero_division=1.0))
        cm = self._confusion.tolist() if self._confusion is not None else None
        return Scores(miou, mdice, per_iou, per_dice, cm, self.collapsed())
