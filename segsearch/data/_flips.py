"""Which flips keep a mask's meaning: the axes flip augmentation and flip test-time augmentation may use.

A flip is a symmetry of the data only when each class is as likely on either side of the image. In
satellite tiles, cells or skin tiles it is; in brain slices whose classes are named anterior / posterior
or superior / inferior, in street scenes (sky above road) or in people (head above feet) a vertical flip
makes images the data never holds, and teaching the model that invariance costs accuracy (measured in
bench/LATEST.md). ``data.flips: auto`` decides it per axis from the training masks: the share of each
class's pixels that its mirror-image position profile overlaps; an axis whose least symmetric class falls
below ``SYMMETRY_MIN`` is not flipped. The user can also name the axes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..config import DataConfig
from ._labels import read_label
from ._layouts import Sample

log = logging.getLogger(__name__)

AXES = ("horizontal", "vertical")
CHOICES = ("auto", "both", "horizontal", "vertical", "none")
SYMMETRY_MIN = 0.5  # below: a class's pixels sit mostly on one side, where its mirror image rarely has them
BINS = 8  # position profile: the image's height (or width) in eighths
MAX_MASKS = 256  # auto reads at most this many training masks, spread evenly over the split
MIN_MASKS = 10  # a class seen in fewer masks has a profile too noisy to forbid a flip


def flip_axes(cfg: DataConfig, train: Sequence[Sample]) -> tuple[str, ...]:
    """The flips training and test-time augmentation may use: ``data.flips`` resolved for these samples."""
    if cfg.flips != "auto":
        return AXES if cfg.flips == "both" else () if cfg.flips == "none" else (cfg.flips,)
    if not train:
        return ()
    sym = _symmetry(cfg, train)
    return tuple(a for a in AXES if sym[a][0] >= SYMMETRY_MIN)


def flips_report(cfg: DataConfig, train: Sequence[Sample]) -> dict[str, Any]:
    """What ``inspect`` shows: the setting, the flips training will use and each axis's least symmetric class."""
    sym = _symmetry(cfg, train) if train else {}
    return {"setting": cfg.flips, "axes": list(flip_axes(cfg, train)) if train else [],
            "least_symmetric": {a: {"class": c, "mirror_overlap": round(v, 3)} for a, (v, c) in sym.items()},
            "needed": SYMMETRY_MIN}


def _symmetry(cfg: DataConfig, train: Sequence[Sample]) -> dict[str, tuple[float, str]]:
    """``flip_symmetry`` of up to ``MAX_MASKS`` training masks, read once per process for a split and the
    fields that decide how a mask reads (every trial of a worker, and the final stage, train on the same)."""
    picked = tuple(train[i] for i in np.linspace(0, len(train) - 1, min(len(train), MAX_MASKS)).astype(int))
    labels = {k: getattr(cfg, k) for k in ("mode", "classes", "class_map", "colors", "ignore_index")}
    key = (json.dumps(labels, sort_keys=True, default=str), picked)
    if key not in _MEASURED:
        _MEASURED[key] = sym = flip_symmetry([read_label(s, cfg) for s in picked], cfg)
        for a in AXES:
            value, worst = sym[a]
            log.info("data: %s flips %s (data.flips: auto; least symmetric class %r: mirror overlap %.2f, "
                     "flipped when >= %.2f)", a, "on" if value >= SYMMETRY_MIN else "OFF", worst, value,
                     SYMMETRY_MIN)
    return _MEASURED[key]


_MEASURED: dict[tuple[str, tuple[Sample, ...]], dict[str, tuple[float, str]]] = {}


def flip_symmetry(labels: Sequence[np.ndarray], cfg: DataConfig) -> dict[str, tuple[float, str]]:
    """Per axis: the lowest mirror overlap over the classes seen in at least ``MIN_MASKS`` masks (1.0 when
    none is) and that class's name. A class's overlap is sum_i min(p(i), p(mirror i)) over its pixels'
    position profile p (in ``BINS`` parts of the image): 1 for a class as likely on either side, 0 for one
    always on one side."""
    names = _class_names(cfg)
    out: dict[str, tuple[float, str]] = {}
    for axis, name in ((1, "horizontal"), (0, "vertical")):  # a horizontal flip mirrors columns
        profiles: dict[int, np.ndarray] = {}
        seen: dict[int, int] = {}
        for lab in labels:
            for c, plane in _planes(lab, len(names), cfg):
                counts = plane.sum(axis=1 - axis).astype(np.float64)
                if counts.sum() == 0:
                    continue
                where = np.minimum(np.arange(len(counts)) * BINS // len(counts), BINS - 1)
                profiles[c] = profiles.get(c, np.zeros(BINS)) + np.bincount(where, counts, BINS)
                seen[c] = seen.get(c, 0) + 1
        worst = (1.0, "-")
        for c, prof in profiles.items():
            if seen[c] >= MIN_MASKS:
                p = prof / prof.sum()
                worst = min(worst, (float(np.minimum(p, p[::-1]).sum()), names[c]))
        out[name] = worst
    return out


def _class_names(cfg: DataConfig) -> list[str]:
    return ["background", *cfg.classes] if cfg.mode == "binary" else list(cfg.classes)


def _planes(label: np.ndarray, n: int, cfg: DataConfig) -> Iterator[tuple[int, np.ndarray]]:
    """(class index, HxW boolean plane) for each class of a label (multilabel: one channel per class)."""
    if label.ndim == 3:
        for c in range(label.shape[-1]):
            yield c, label[..., c] > 0
        return
    for c in range(n):
        if c != cfg.ignore_index:
            yield c, label == c
