"""Seed 001's mosaic: one training sample made of the four quadrants of four random samples."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import Dataset

from ._dataset import SegDataset


class MosaicDataset(Dataset):
    """With probability ``p``, sample ``i`` becomes a mosaic of ``i`` and three random others.

    Each sample is augmented on its own first (so every one is ``size_hw``); a random centre then
    cuts the canvas into four quadrants, each filled with the same region of one sample, image
    and target alike.
    """

    def __init__(self, base: SegDataset, p: float, size_hw: tuple[int, int]) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"mosaic probability must be in [0, 1], got {p}")
        self.base = base
        self.p = p
        self.size_hw = size_hw

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if random.random() >= self.p or len(self.base) < 2:
            return self.base[i]
        img, label = self.mosaic([i, *random.choices(range(len(self.base)), k=3)])
        return self.base.to_tensors(img, label, img.dtype)

    def mosaic(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.size_hw
        parts = [_fit(*self.base.augmented(j), h, w) for j in indices]
        cy = random.randint(h // 4, h - h // 4)
        cx = random.randint(w // 4, w - w // 4)
        img = np.empty_like(parts[0][0])
        label = np.empty_like(parts[0][1])
        boxes = ((slice(0, cy), slice(0, cx)), (slice(0, cy), slice(cx, w)),
                 (slice(cy, h), slice(0, cx)), (slice(cy, h), slice(cx, w)))
        for (pi, pl), (ys, xs) in zip(parts, boxes, strict=True):
            img[ys, xs] = pi[ys, xs].astype(img.dtype)
            label[ys, xs] = pl[ys, xs].astype(label.dtype)
        return img, label


def _fit(img: np.ndarray, label: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize a pair that a custom pipeline left at another size (nearest for the target)."""
    if img.shape[:2] == (h, w):
        return img, label
    import cv2

    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    label = cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST)
    return img, label
