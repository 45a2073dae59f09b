"""The torch Dataset: decode once (cached as stored), map masks to training targets, augment, normalise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import DataConfig
from ._io import DataError, image_max, read_image, read_mask
from ._layouts import Sample


def mask_to_label(raw: np.ndarray, cfg: DataConfig, path: Any = "") -> np.ndarray:
    """Raw stored mask -> HxW class indices (binary, multiclass) or HxWxC 0/1 (multilabel)."""
    ignore = cfg.ignore_index
    if cfg.mode == "multilabel":
        if raw.ndim == 2:
            raise DataError(f"{path}: multilabel masks need one channel per class, got a single-channel mask")
        if raw.shape[2] != cfg.num_classes:
            raise DataError(f"{path}: mask has {raw.shape[2]} channels for {cfg.num_classes} classes")
        return (raw > 0).astype(np.uint8)
    if raw.ndim == 3:
        if cfg.colors is None:
            if np.all(raw == raw[:, :, :1]):
                raw = raw[:, :, 0]
            else:
                raise DataError(f"{path}: colour mask but data.colors (class -> [r, g, b]) is not set")
        else:
            raw = _colors_to_index(raw, cfg, path)
    label = raw.astype(np.int64)
    if cfg.class_map:
        lut = np.arange(max(int(label.max()) + 1, max(cfg.class_map) + 1, 256), dtype=np.int64)
        for src, dst in cfg.class_map.items():
            lut[src] = dst
        label = lut[label]
    if cfg.mode == "binary":
        keep = label == ignore if ignore is not None else np.zeros_like(label, bool)
        label = (label > 0).astype(np.int64)
        label[keep] = ignore
    return label


def _colors_to_index(rgb: np.ndarray, cfg: DataConfig, path: Any) -> np.ndarray:
    out = np.full(rgb.shape[:2], -1, np.int64)
    for i, name in enumerate(cfg.classes):
        color = cfg.colors.get(name)
        if color is not None:
            out[np.all(rgb == np.array(color, rgb.dtype), axis=-1)] = i
    if (out < 0).any():
        if cfg.ignore_index is None:
            bad = tuple(int(v) for v in rgb[out < 0][0])
            raise DataError(f"{path}: colour {bad} is not in data.colors")
        out[out < 0] = cfg.ignore_index
    return out


class SegDataset(Dataset):
    def __init__(self, samples: Sequence[Sample], cfg: DataConfig, transform: Any, mean: Sequence[float],
                 std: Sequence[float], cache: bool = True) -> None:
        self.samples = list(samples)
        self.cfg = cfg
        self.transform = transform
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None
        c = cfg.in_channels
        self.mean = np.array((list(mean) * c)[:c], np.float32)
        self.std = np.array((list(std) * c)[:c], np.float32)

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if self.cache is not None and i in self.cache:
            return self.cache[i]
        s = self.samples[i]
        img = read_image(s.image, self.cfg.in_channels)
        label = mask_to_label(read_mask(s.mask), self.cfg, s.mask)
        if img.shape[:2] != label.shape[:2]:
            raise DataError(f"{s.image}: image is {img.shape[1]}x{img.shape[0]} but its mask {s.mask} is "
                            f"{label.shape[1]}x{label.shape[0]}")
        label = label.astype(np.uint8 if label.max(initial=0) < 256 and label.min(initial=0) >= 0 else np.int32)
        if self.cache is not None:
            self.cache[i] = (img, label)
        return img, label

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img, label = self.load(i)
        out = self.transform(image=img, mask=label)
        return self.to_tensors(out["image"], out["mask"], img.dtype)

    def to_tensors(self, img: np.ndarray, label: np.ndarray, dtype: np.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        x = (img.astype(np.float32) / image_max(dtype) - self.mean) / self.std
        x_t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
        if self.cfg.mode == "multilabel":
            y = torch.from_numpy(np.ascontiguousarray(label.transpose(2, 0, 1))).float()
        elif self.cfg.mode == "binary":
            y = torch.from_numpy(np.ascontiguousarray(label)).long().unsqueeze(0)
        else:
            y = torch.from_numpy(np.ascontiguousarray(label)).long()
        return x_t, y


def class_pixel_counts(ds: SegDataset) -> np.ndarray:
    """Pixels per class over the dataset's raw labels (ignored pixels not counted)."""
    n = ds.cfg.num_classes
    counts = np.zeros(n if ds.cfg.mode != "binary" else 2, np.int64)
    for i in range(len(ds)):
        _, label = ds.load(i)
        if ds.cfg.mode == "multilabel":
            counts[:n] += label.reshape(-1, n).sum(0)
        else:
            v = label.ravel().astype(np.int64)
            v = v[(v >= 0) & (v < len(counts))]
            counts += np.bincount(v, minlength=len(counts))
    return counts


def class_weights_from_counts(counts: Sequence[int]) -> list[float]:
    """Median-frequency balancing: w_c = median(f) / f_c, absent classes get the largest weight."""
    c = np.asarray(counts, np.float64)
    freq = c / max(c.sum(), 1.0)
    present = freq[freq > 0]
    if present.size == 0:
        return [1.0] * len(c)
    med = float(np.median(present))
    w = np.where(freq > 0, med / np.where(freq > 0, freq, 1.0), 0.0)
    w[freq == 0] = w.max() if w.max() > 0 else 1.0
    return [round(float(x), 6) for x in w]
