"""Tiny datasets written to disk for the data tests: every layout and mask format, real files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from segsearch.config import DataConfig

SHADE = 40  # images built from their mask: pixel = class * SHADE in every channel


def data_cfg(root: Path | None = None, **kw: Any) -> DataConfig:
    base: dict[str, Any] = {"root": root, "classes": ["background", "a", "b"], "image_size": 32,
                            "augmentation": "none"}
    return DataConfig(**{**base, **kw})


def random_mask(rng: np.random.Generator, size: int, classes: list[int]) -> np.ndarray:
    """A mask of rectangles, one per listed class, on background 0."""
    mask = np.zeros((size, size), np.uint8)
    for c in classes:
        y, x = rng.integers(0, size // 2, 2)
        h, w = rng.integers(size // 4, size // 2, 2)
        mask[y:y + h, x:x + w] = c
    return mask


def image_from_mask(mask: np.ndarray, channels: int = 3) -> np.ndarray:
    return np.repeat((mask.astype(np.uint16) * SHADE).clip(0, 255).astype(np.uint8)[:, :, None], channels, 2)


def write_png(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR if arr.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    assert cv2.imwrite(str(path), arr), path
    return path


def write_tiff(path: Path, arr: np.ndarray) -> Path:
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(str(path), arr)
    return path


def write_palette_png(path: Path, mask: np.ndarray) -> Path:
    from PIL import Image

    im = Image.fromarray(mask, mode="P")
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


def make_folder_dataset(root: Path, n: int = 12, size: int = 32, seed: int = 0, n_classes: int = 3,
                        images: str = "images", masks: str = "masks", mask_name: str = "{stem}") -> list[np.ndarray]:
    """``root/images/img_XX.png`` built from ``root/masks/<mask_name>.png``; returns the masks."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        present = [c for c in range(1, n_classes) if rng.random() < 0.7]
        mask = random_mask(rng, size, present)
        stem = f"img_{i:02d}"
        write_png(root / images / f"{stem}.png", image_from_mask(mask))
        write_png(root / masks / f"{mask_name.format(stem=stem)}.png", mask)
        out.append(mask)
    return out


def make_dated_dataset(root: Path, n_masks: int = 10, dates: int = 3, size: int = 32, seed: int = 0) -> None:
    """Seed 001: ``images/tile_XX_tK.png`` (K dates) share ``masks/tile_XX.png``."""
    rng = np.random.default_rng(seed)
    for i in range(n_masks):
        mask = random_mask(rng, size, [c for c in (1, 2) if rng.random() < 0.6])
        write_png(root / "masks" / f"tile_{i:02d}.png", mask)
        for k in range(dates):
            write_png(root / "images" / f"tile_{i:02d}_t{k}.png", image_from_mask(mask))


def make_presence_dataset(root: Path, presence: list[list[int]], size: int = 16) -> None:
    """One image/mask pair per row, each mask holding exactly the listed classes (plus background)."""
    for i, classes in enumerate(presence):
        mask = np.zeros((size, size), np.uint8)
        for k, c in enumerate(classes):
            mask[k * 3:(k + 1) * 3, :] = c
        write_png(root / "masks" / f"s_{i:03d}.png", mask)
        write_png(root / "images" / f"s_{i:03d}.png", image_from_mask(mask))


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    return path
