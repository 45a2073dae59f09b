"""Test-split metrics of a model or ensemble folder (``evaluate_model``)."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import yaml

from .. import rundir
from ..config import DataConfig, TrainConfig, metric_label
from ..data import SegDataset, Splits, build_transform
from ..training import MetricAccumulator, evaluate, make_runtime
from ._folder import splits_from_folder
from ._model import Ensemble, SegModel, load_model

log = logging.getLogger(__name__)
INTERVAL_LEVEL = 0.95  # of the class-mean IoU's bootstrap interval over the split's images

# --------------------------------------------------------------------------- evaluation


class _Both:
    """The class-mean metrics (the headline) and seed 001's micro-imagewise ones from one pass."""

    def __init__(self, *args: Any) -> None:
        mode, n, ignore, thr, include_bg = args
        self.imagewise = MetricAccumulator(mode, n, ignore, thr, "micro-imagewise", include_bg)
        self.dataset = MetricAccumulator(mode, n, ignore, thr, "class-mean", include_bg)
        self.n_images = 0

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        self.imagewise.update(logits, target)
        self.dataset.update(logits, target)
        self.n_images += int(logits.shape[0])

    def compute(self) -> tuple[Any, Any]:
        return self.imagewise.compute(), self.dataset.compute()


def evaluate_model(path: str | Path, split: str = "test", splits: Splits | None = None, combine: str | None = None,
                   device: str = "cpu", write: bool = True, tta: bool | None = None) -> dict[str, Any]:
    """Test-split metrics of a model or ensemble folder: mIoU and mDice as class means (binary: the
    foreground's) with a 95% bootstrap interval of the mIoU over the split's images (how much it would move on
    another split of as many images: two models closer than that are not told apart by it), seed 001's
    micro-imagewise figures (labelled), per class, the confusion matrix, whether the model collapsed to one
    class, and per-level mIoU of a class hierarchy.

    Written to ``<folder>/metrics.json`` when ``write``. Images are resized to the training size,
    as in validation. The test split falls back to validation when it is empty (recorded).
    """
    path = Path(path)
    model = load_model(path, combine=combine, device=device, tta=tta)
    data, tcfg = _folder_configs(model)
    splits = splits or splits_from_folder(cast(Path, model.members[0].path) if isinstance(model, Ensemble) else path)
    samples = getattr(splits, split)
    used = split
    if not samples and split == "test":
        log.warning("%s: the test split is empty; evaluating on validation instead", path)
        samples, used = splits.val, "val"
    acc = _Both(data.mode, data.num_classes, data.ignore_index, model.meta.get("threshold", tcfg.threshold),
                tcfg.include_background)
    imagewise, dataset = evaluate(model, _loader(samples, data, tcfg), make_runtime(device, "off", False), acc)
    metrics = _metrics_doc(model, data, imagewise, dataset, used, acc.n_images)
    interval = acc.dataset.interval(INTERVAL_LEVEL)
    metrics["miou_interval"] = None if interval is None else {
        "level": INTERVAL_LEVEL, "low": interval[0], "high": interval[1],
        "how": f"bootstrap over the split's {acc.n_images} images (1000 resamples)"}
    if write:  # an ensemble's file also holds the comparison with its members: keep it
        old = path / rundir.TEST_METRICS
        kept = json.loads(old.read_text()) if isinstance(model, Ensemble) and old.is_file() else {}
        old.write_text(json.dumps({**kept, **metrics}, indent=2))
    return metrics


def sweep_thresholds(path: Path, splits: Splits, candidates: list[float], device: str = "cpu") -> dict[float, float]:
    """Validation IoU (class mean; binary: foreground) of a binary or multilabel model folder at each candidate
    threshold, from one pass with the folder's test-time augmentation."""
    from ._threshold import ThresholdSweep

    model = load_model(path, device=device)
    data, tcfg = _folder_configs(model)
    sweep = ThresholdSweep(data.ignore_index)
    evaluate(model, _loader(splits.val, data, tcfg), make_runtime(device, "off", False), sweep)
    return sweep.compute(candidates)


def _loader(samples: list[Any], data: DataConfig, tcfg: TrainConfig) -> torch.utils.data.DataLoader:
    ds = SegDataset(samples, data, build_transform("none", data.size_hw, train=False), [0.0], [1.0], cache=False)
    return torch.utils.data.DataLoader(ds, batch_size=tcfg.batch_size, shuffle=False)


def _folder_configs(model: SegModel) -> tuple[DataConfig, TrainConfig]:
    folder = cast(Path, model.members[0].path if isinstance(model, Ensemble) else model.path)  # loaded: set
    doc = yaml.safe_load((folder / rundir.CONFIG).read_text())
    return DataConfig.model_validate(doc["data"]), TrainConfig.model_validate(doc["train"])


def _metrics_doc(model: SegModel, data: DataConfig, imagewise: Any, dataset: Any, split: str, n: int
                 ) -> dict[str, Any]:
    names = list(data.classes)[-len(dataset.per_class_iou):]  # without background when it is excluded
    doc: dict[str, Any] = {
        "split": split, "n_images": n, "trial": model.meta.get("trial"),
        "miou": dataset.miou, "mdice": dataset.mdice, "metric": metric_label("class-mean", data.mode),
        "collapsed": dataset.collapsed,
        "micro_imagewise": {"miou": imagewise.miou, "mdice": imagewise.mdice},
        "per_class": {c: {"iou": _num(i), "dice": _num(d)}
                      for c, i, d in zip(names, dataset.per_class_iou, dataset.per_class_dice, strict=True)},
        "confusion": {"classes": list(data.classes), "matrix": dataset.confusion,
                      "rows": "true class", "columns": "predicted class"} if dataset.confusion else None,
    }
    if isinstance(model, Ensemble):
        doc["trials"], doc["combine_method"] = model.meta.get("trials"), model.combine
    if data.hierarchy and dataset.confusion:
        doc["hierarchy"] = _hierarchy(np.asarray(dataset.confusion), data)
    return doc


def _hierarchy(confusion: np.ndarray, data: DataConfig) -> dict[str, Any]:
    from ..data import hierarchy_levels, level_ious, level_miou

    out = {}
    for level, mapping in hierarchy_levels(data).items():
        groups = list((data.hierarchy or {})[level])
        ious = level_ious(confusion, mapping)
        out[level] = {"miou": _num(level_miou(confusion, mapping)),
                      "groups": {g: _num(v) for g, v in zip(groups, ious, strict=False)}}
    return out


def _num(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


