"""The torch Dataset: decode once (cached as stored), map masks to training targets, augment, normalise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import DataConfig
from ._io import DataError, image_max, read_image
from ._labels import mask_to_label, read_label
from ._layouts import Sample

__all__ = ["SegDataset", "class_pixel_counts", "class_weights_from_counts", "mask_to_label"]


class SegDataset(Dataset):
    """Samples -> (normalised CxHxW float tensor, target). Decoded arrays are cached up to ``cfg.cache_mb``.

    ``pre`` is an optional transform run before ``transform`` (the random crop of patch training).
    """

    def __init__(self, samples: Sequence[Sample], cfg: DataConfig, transform: Any, mean: Sequence[float],
                 std: Sequence[float], cache: bool = True, pre: Any = None) -> None:
        self.samples = list(samples)
        self.cfg = cfg
        self.transform = transform
        self.pre = pre
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None
        self.cache_budget = cfg.cache_mb * 2**20
        c = cfg.in_channels
        self.mean = np.array((list(mean) * c)[:c], np.float32)
        self.std = np.array((list(std) * c)[:c], np.float32)

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The decoded image (stored dtype) and training target of sample ``i``."""
        if self.cache is not None and i in self.cache:
            return self.cache[i]
        s = self.samples[i]
        img = read_image(s.image, self.cfg.in_channels, self.cfg.bands)
        label = read_label(s, self.cfg)
        if img.shape[:2] != label.shape[:2]:
            raise DataError(f"{s.image}: image is {img.shape[1]}x{img.shape[0]} but its mask {s.mask} is "
                            f"{label.shape[1]}x{label.shape[0]}")
        label = _compact(label)
        self._remember(i, img, label)
        return img, label

    def preload(self) -> int:
        """Decode every sample into the cache (within ``cache_mb``) before DataLoader workers fork,
        so they share the decoded arrays instead of each decoding its own copy. Returns how many fit."""
        if self.cache is None:
            return 0
        for i in range(len(self)):
            if self.cache_budget <= 0:
                break
            self.load(i)
        return len(self.cache)

    def _remember(self, i: int, img: np.ndarray, label: np.ndarray) -> None:
        if self.cache is None:
            return
        size = img.nbytes + label.nbytes
        if size <= self.cache_budget:
            self.cache[i] = (img, label)
            self.cache_budget -= size

    def augmented(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image (uint8, or float32 in [0, 1] for other depths) and target after the transforms."""
        img, label = self.load(i)
        if img.dtype != np.uint8:
            img = img.astype(np.float32) / image_max(img.dtype)
        for tf in (self.pre, self.transform):
            if tf is not None:
                out = tf(image=img, mask=label)
                img, label = out["image"], out["mask"]
        return img, label

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img, label = self.augmented(i)
        return self.to_tensors(img, label, img.dtype)

    def to_tensors(self, img: np.ndarray, label: np.ndarray, dtype: np.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        if img.ndim == 2:
            img = img[:, :, None]
        x = (img.astype(np.float32) / image_max(dtype) - self.mean) / self.std
        x_t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
        if self.cfg.mode == "multilabel":
            y = torch.from_numpy(np.ascontiguousarray(label.transpose(2, 0, 1))).float()
        elif self.cfg.mode == "binary":
            y = torch.from_numpy(np.ascontiguousarray(label)).long().unsqueeze(0)
        else:
            y = torch.from_numpy(np.ascontiguousarray(label)).long()
        return x_t, y


def _compact(label: np.ndarray) -> np.ndarray:
    small = label.max(initial=0) < 256 and label.min(initial=0) >= 0
    return label.astype(np.uint8 if small else np.int32)


def class_pixel_counts(ds: SegDataset) -> np.ndarray:
    """Pixels per class over the dataset's targets (ignored pixels not counted); binary: [bg, fg].

    Reads only the masks unless the dataset already holds the decoded pair.
    """
    n = ds.cfg.num_classes
    counts = np.zeros(n if ds.cfg.mode != "binary" else 2, np.int64)
    for i, s in enumerate(ds.samples):
        label = ds.cache[i][1] if ds.cache is not None and i in ds.cache else read_label(s, ds.cfg)
        counts += label_pixel_counts(label, ds.cfg)
    return counts


def label_pixel_counts(label: np.ndarray, cfg: DataConfig) -> np.ndarray:
    n = cfg.num_classes
    if cfg.mode == "multilabel":
        return label.reshape(-1, n).sum(0).astype(np.int64)
    top = 2 if cfg.mode == "binary" else n
    v = label.ravel().astype(np.int64)
    return np.bincount(v[(v >= 0) & (v < top)], minlength=top)


def class_weights_from_counts(counts: Sequence[int] | np.ndarray) -> list[float]:
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
