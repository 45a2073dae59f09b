"""A demo dataset made offline: textured aerial-like scenes with imbalanced classes.

Classes: background, field, forest, water, road. Regions are blobs and strokes whose
colours overlap between classes; texture (frequency, orientation) and shape carry the
signal, and sensor noise plus a brightness shift per image keep it from being trivially
separable by colour. Roads are thin and rare (about 2-4% of pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ("background", "field", "forest", "water", "road")
_BASE = {0: (120, 110, 95), 1: (135, 140, 80), 2: (70, 100, 60), 3: (65, 90, 110), 4: (125, 120, 115)}


def _blobs(rng: np.random.Generator, size: int, n: int, scale: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size), np.float32)
    for _ in range(n):
        cy, cx = rng.uniform(0, size, 2)
        r = rng.uniform(0.1, scale) * size
        a = rng.uniform(0.5, 1.5)
        field += np.exp(-(((yy - cy) / r) ** 2 * a + ((xx - cx) / r) ** 2 / a))
    return field


def _texture(rng: np.random.Generator, size: int, cls: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    u = np.cos(theta) * xx + np.sin(theta) * yy
    if cls == 1:  # fields: regular stripes
        return 14 * np.sign(np.sin(u / rng.uniform(1.2, 2.2)))
    if cls == 2:  # forest: coarse speckle
        coarse = rng.normal(0, 18, (size // 4 + 1, size // 4 + 1))
        return np.kron(coarse, np.ones((4, 4)))[:size, :size]
    if cls == 3:  # water: smooth waves
        return 6 * np.sin(u / 6.0)
    if cls == 4:  # road: fine noise
        return rng.normal(0, 4, (size, size))
    return rng.normal(0, 10, (size, size))


def make_scene(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((size, size), np.uint8)
    for cls, n, scale, thr in ((1, 4, 0.35, 0.6), (2, 3, 0.3, 0.7), (3, 2, 0.25, 0.8)):
        if rng.random() < 0.8:
            mask[_blobs(rng, size, n, scale) > thr] = cls
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(rng.integers(0, 3)):  # roads: thin straight strokes
        a, b = rng.uniform(-1, 1, 2)
        c = rng.uniform(0, size)
        dist = np.abs(a * xx + b * yy - c * (abs(a) + abs(b) + 1e-3) / 2) / (np.hypot(a, b) + 1e-6)
        mask[dist < rng.uniform(0.8, 1.6)] = 4
    img = np.zeros((size, size, 3), np.float32)
    for cls in range(len(CLASSES)):
        sel = mask == cls
        if sel.any():
            base = np.array(_BASE[cls], np.float32) + rng.normal(0, 12, 3)
            img[sel] = base + _texture(rng, size, cls)[sel, None]
    img += rng.normal(0, 10, img.shape) + rng.uniform(-20, 20)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def make_demo_dataset(root: str | Path, n_images: int = 120, size: int = 64, seed: int = 0) -> Path:
    """Write ``images/*.png`` and ``masks/*.png`` under ``root`` (skipped when already complete)."""
    import cv2

    root = Path(root)
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{n_images},{size},{seed}":
        return root
    import os

    tmp = root.with_name(f"{root.name}.{os.getpid()}.tmp")  # several launches at once each write their own
    for sub in ("images", "masks"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n_images):
        img, mask = make_scene(rng, size)
        cv2.imwrite(str(tmp / "images" / f"scene_{i:04d}.png"), img[:, :, ::-1])
        cv2.imwrite(str(tmp / "masks" / f"scene_{i:04d}.png"), mask)
    (tmp / ".complete").write_text(f"{n_images},{size},{seed}")
    import shutil

    if marker.exists() and marker.read_text() == f"{n_images},{size},{seed}":  # another process finished first
        shutil.rmtree(tmp)
        return root
    if root.exists():
        shutil.rmtree(root)
    try:
        tmp.rename(root)
    except OSError:  # another process renamed its copy in between: same data, keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return root
