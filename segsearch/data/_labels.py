"""Raw stored masks -> training targets: palettes, colour tables, class maps, ignore index, multilabel."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import DataConfig
from ._io import DataError, read_mask
from ._layouts import Sample


def read_label(sample: Sample, cfg: DataConfig) -> np.ndarray:
    """The training target of a sample (one mask file, or one file per class with ``mask_per_class``)."""
    if sample.class_masks:
        planes = [_plane(read_mask(p), p) for p in sample.class_masks]
        shapes = {p.shape for p in planes}
        if len(shapes) > 1:
            raise DataError(f"{sample.mask}: the per-class mask files differ in size ({sorted(shapes)})")
        return mask_to_label(np.stack(planes, axis=-1), cfg, sample.mask)
    return mask_to_label(read_mask(sample.mask), cfg, sample.mask)


def _plane(raw: np.ndarray, path: Any) -> np.ndarray:
    if raw.ndim == 3:
        if not np.all(raw == raw[:, :, :1]):
            raise DataError(f"{path}: a per-class mask file must be single-channel, got {raw.shape[2]} channels")
        raw = raw[:, :, 0]
    return raw


def mask_to_label(raw: np.ndarray, cfg: DataConfig, path: Any = "") -> np.ndarray:
    """Raw stored mask -> HxW class indices (binary, multiclass) or HxWxC 0/1 (multilabel)."""
    if cfg.mode == "multilabel":
        return _multilabel(raw, cfg, path)
    index = _to_index(raw, cfg, path)
    label = _apply_class_map(index, cfg)
    if cfg.mode == "binary":
        binary = (label > 0).astype(np.int64)
        if cfg.ignore_index is not None:
            binary[label == cfg.ignore_index] = cfg.ignore_index
        return binary
    _check_range(index, label, cfg, path)
    return label


def _multilabel(raw: np.ndarray, cfg: DataConfig, path: Any) -> np.ndarray:
    if raw.ndim == 2:
        raise DataError(f"{path}: multilabel masks need one channel (or one file) per class, got a single-channel "
                        "mask")
    if raw.shape[2] != cfg.num_classes:
        raise DataError(f"{path}: mask has {raw.shape[2]} channels for {cfg.num_classes} classes")
    return (raw > 0).astype(np.uint8)


def _to_index(raw: np.ndarray, cfg: DataConfig, path: Any) -> np.ndarray:
    if raw.ndim == 3 and cfg.colors is not None:
        return _colors_to_index(raw, cfg, path)
    if raw.ndim == 3:
        if not np.all(raw == raw[:, :, :1]):
            raise DataError(f"{path}: colour mask but data.colors (class -> [r, g, b]) is not set")
        raw = raw[:, :, 0]
    return raw.astype(np.int64)


def _apply_class_map(label: np.ndarray, cfg: DataConfig) -> np.ndarray:
    if not cfg.class_map:
        return label
    top = max(int(label.max(initial=0)) + 1, max(cfg.class_map) + 1, 256)
    lut = np.arange(top, dtype=np.int64)
    for src, dst in cfg.class_map.items():
        lut[src] = dst
    return lut[label]


def _check_range(raw_index: np.ndarray, label: np.ndarray, cfg: DataConfig, path: Any) -> None:
    bad = (label < 0) | (label >= cfg.num_classes)
    if cfg.ignore_index is not None:
        bad &= label != cfg.ignore_index
    if bad.any():
        values = sorted(int(v) for v in np.unique(raw_index[bad])[:10])
        raise DataError(f"{path}: mask values {values} are outside the classes 0..{cfg.num_classes - 1}"
                        f" (ignore_index {cfg.ignore_index}); map them with data.class_map",
                        "out_of_range")


def _colors_to_index(rgb: np.ndarray, cfg: DataConfig, path: Any) -> np.ndarray:
    out = np.full(rgb.shape[:2], -1, np.int64)
    for i, name in enumerate(cfg.classes):
        color = (cfg.colors or {}).get(name)
        if color is not None:
            out[np.all(rgb[:, :, :3] == np.array(color, rgb.dtype), axis=-1)] = i
    if (out < 0).any():
        if cfg.ignore_index is None:
            bad = tuple(int(v) for v in rgb[out < 0][0][:3])
            raise DataError(f"{path}: colour {bad} is not in data.colors", "out_of_range")
        out[out < 0] = cfg.ignore_index
    return out


def present_classes(label: np.ndarray, cfg: DataConfig) -> list[int]:
    """Indices of the classes with at least one pixel in a training target."""
    n = cfg.num_classes
    if cfg.mode == "multilabel":
        return [int(c) for c in np.flatnonzero(label.reshape(-1, n).any(axis=0))]
    values = np.unique(label)
    top = 2 if cfg.mode == "binary" else n
    return [int(v) for v in values if 0 <= v < top]
