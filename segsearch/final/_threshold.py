"""The foreground threshold of a binary or multilabel model, chosen on validation (``final.threshold: auto``;
off by default: on the benchmark's data it did not pay, bench/LATEST.md).

A network trained with Dice, Lovasz or class weights on small foreground is rarely calibrated at 0.5: the
IoU-best cut of its sigmoid often lies elsewhere. ``ThresholdSweep`` histograms the validation pixels'
foreground probabilities, split by the true label, in one pass; the IoU of every candidate threshold then
follows from cumulative sums. The threshold moves off the training one only when validation gains at least
``MIN_GAIN`` (one scalar fitted on tens of images: small gains are noise), and to the candidate nearest the
training threshold among those within ``MIN_GAIN`` of the best.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from .. import rundir
from ..data import Splits

log = logging.getLogger(__name__)

BINS = 100  # probability resolution of the histogram: candidates are multiples of 1 / BINS
CANDIDATES = [k / 100 for k in range(5, 100, 5)]  # 0.05 ... 0.95
MIN_GAIN = 0.01  # validation IoU a threshold other than the training one must gain (0.007 did not carry to test)


class ThresholdSweep:
    """Per channel, histograms of the foreground probability of positive and of negative pixels; ``compute``
    gives the class-mean IoU (binary: the foreground IoU) at each of ``CANDIDATES``."""

    def __init__(self, ignore_index: int | None = None) -> None:
        self.ignore_index = ignore_index
        self.pos: torch.Tensor | None = None  # channels x BINS
        self.neg: torch.Tensor | None = None

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        prob = logits.float().sigmoid()
        if target.dim() == prob.dim() - 1:  # binary: N x H x W against N x 1 x H x W
            target = target.unsqueeze(1)
        target = target.expand_as(prob)
        keep = target != self.ignore_index if self.ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
        bins = (prob * BINS).long().clamp(0, BINS - 1)
        channels = prob.shape[1]
        chan = torch.arange(channels, device=prob.device).view(1, -1, 1, 1).expand_as(prob)
        idx = chan * BINS + bins
        pos = torch.bincount(idx[keep & (target == 1)], minlength=channels * BINS).view(channels, BINS)
        neg = torch.bincount(idx[keep & (target != 1)], minlength=channels * BINS).view(channels, BINS)
        self.pos = pos if self.pos is None else self.pos + pos
        self.neg = neg if self.neg is None else self.neg + neg

    def compute(self, candidates: list[float] | None = None) -> dict[float, float]:
        if self.pos is None or self.neg is None:
            return {}
        # above[c, k]: pixels with probability bin >= k, i.e. predicted positive at threshold k / BINS
        tp_above = self.pos.flip(1).cumsum(1).flip(1).double()
        fp_above = self.neg.flip(1).cumsum(1).flip(1).double()
        n_pos = self.pos.sum(1, keepdim=True).double()
        out = {}
        for t in candidates or CANDIDATES:
            k = min(max(round(t * BINS), 0), BINS - 1)
            tp, fp = tp_above[:, k], fp_above[:, k]
            union = n_pos[:, 0] + fp
            present = union > 0  # a channel absent from truth and prediction is left out of the mean
            iou = tp[present] / union[present]
            out[t] = float(iou.mean()) if present.any() else float("nan")
        return out


def pick_threshold(ious: dict[float, float], current: float) -> float:
    """The candidate nearest ``current`` among those within ``MIN_GAIN`` of the best; ``current`` itself
    unless a candidate beats its IoU by at least ``MIN_GAIN``."""
    valid = {t: v for t, v in ious.items() if v == v}
    if not valid:
        return current
    best = max(valid.values())
    here = valid.get(current)
    if here is not None and here > best - MIN_GAIN:
        return current
    near = [t for t, v in valid.items() if v >= best - MIN_GAIN]
    return min(near, key=lambda t: (abs(t - current), t))


def choose_threshold(run_dir: Path, splits: Splits, setting: str = "auto", device: str = "cpu") -> float | None:
    """Decide a binary or multilabel model folder's threshold (``model.json``: ``threshold``, and with
    ``auto`` ``threshold_val``: validation IoU by candidate); multiclass models (argmax) are left alone.
    Run after ``choose_tta``: the sweep sees the probabilities ``predict`` will see."""
    from ._evaluate import sweep_thresholds

    meta_file = run_dir / rundir.MODEL
    meta: dict[str, Any] = json.loads(meta_file.read_text())
    if meta.get("mode") == "multiclass":
        return None
    current = float(meta.get("train_threshold", meta.get("threshold", 0.5)))
    meta["train_threshold"] = current
    if setting == "auto" and splits.val:
        near = round(current, 2)  # the sweep's resolution
        ious = sweep_thresholds(run_dir, splits, sorted({*CANDIDATES, near}), device)
        chosen = pick_threshold(ious, near)
        meta["threshold"] = current if chosen == near else chosen
        meta["threshold_val"] = {f"{t:.2f}": round(v, 5) for t, v in ious.items()}
        log.info("final: threshold %.2f (validation IoU %.4f; %.4f at the training threshold %.2f)",
                 meta["threshold"], ious.get(chosen, float("nan")), ious.get(near, float("nan")), current)
    else:
        meta["threshold"] = current
        meta.pop("threshold_val", None)
    meta_file.write_text(json.dumps(meta, indent=2))
    return float(meta["threshold"])
