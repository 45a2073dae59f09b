"""Class hierarchies (seed 004: parts -> upper/lower body -> body): mIoU at every level.

``data.hierarchy`` maps a level name to its groups, each a list of class names::

    hierarchy:
      body: {body: [head, torso, arm, leg]}
      halves: {upper: [head, torso, arm], lower: [leg]}

At a level, classes listed in no group (e.g. background) map to -1, the "rest": their pixels
still count against wrong predictions, but the rest is left out of the level's mean IoU.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..config import DataConfig

REST = -1


def hierarchy_levels(cfg: DataConfig) -> dict[str, dict[int, int]]:
    """Per level, class index -> group index (in the order the groups are listed), or -1 for the rest."""
    index = {name: i for i, name in enumerate(cfg.classes)}
    levels: dict[str, dict[int, int]] = {}
    for level, groups in (cfg.hierarchy or {}).items():
        mapping = dict.fromkeys(range(cfg.num_classes), REST)
        for g, members in enumerate(groups.values()):
            for name in members:
                mapping[index[name]] = g
        levels[level] = mapping
    return levels


def group_confusion(confusion: np.ndarray, mapping: Mapping[int, int]) -> np.ndarray:
    """Sum a (true x predicted) class confusion matrix into groups; the rest is the last row/column."""
    cm = np.asarray(confusion, np.float64)
    n_named = max(mapping.values(), default=REST) + 1
    onehot = np.zeros((cm.shape[0], n_named + 1))
    for cls in range(cm.shape[0]):
        g = mapping.get(cls, REST)
        onehot[cls, g if g != REST else n_named] = 1.0
    return onehot.T @ cm @ onehot


def level_ious(confusion: np.ndarray, mapping: Mapping[int, int]) -> list[float]:
    """IoU of each named group; NaN for a group absent from both truth and prediction."""
    gcm = group_confusion(confusion, mapping)
    tp = np.diag(gcm)
    union = gcm.sum(0) + gcm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)
    return [float(v) for v in iou[:-1]]


def level_miou(confusion: np.ndarray, mapping: Mapping[int, int]) -> float:
    """Mean IoU over the named groups of one level (the rest and absent groups excluded)."""
    ious = [v for v in level_ious(confusion, mapping) if not np.isnan(v)]
    return float(np.mean(ious)) if ious else float("nan")


def hierarchy_miou(confusion: np.ndarray, cfg: DataConfig) -> dict[str, float]:
    """mIoU per configured level, e.g. ``{"body": 0.81, "halves": 0.66}``."""
    return {level: level_miou(confusion, m) for level, m in hierarchy_levels(cfg).items()}
