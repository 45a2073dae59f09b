"""Augmentation presets built with albumentations, and normalisation by the encoder's statistics."""

from __future__ import annotations

from typing import Any

import albumentations as A


def _resize_or_crop(h: int, w: int, crop: bool) -> list[Any]:
    if crop:  # patch training on large images: pad small ones, crop a random window
        return [A.PadIfNeeded(h, w, border_mode=0), A.RandomCrop(h, w)]
    return [A.Resize(h, w)]


def build_transform(preset: str | dict, size_hw: tuple[int, int], train: bool, crop: bool = False,
                    fill_mask: int = 0) -> A.Compose:
    """``none`` / ``light`` / ``full`` (seed 001's pipeline), or an albumentations dict (A.to_dict form)."""
    h, w = size_hw
    if isinstance(preset, dict):
        return A.from_dict(preset)
    if not train or preset == "none":
        return A.Compose([A.Resize(h, w)] if not (train and crop) else _resize_or_crop(h, w, True))
    base = _resize_or_crop(h, w, crop)
    if preset == "light":
        return A.Compose([*base, A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5),
                          A.RandomBrightnessContrast(p=0.3)])
    if preset == "full":
        return A.Compose([
            *base,
            A.Affine(translate_percent=(-0.0625, 0.0625), scale=(0.9, 1.1), rotate=(-45, 45), p=0.5,
                     fill_mask=fill_mask),
            A.HorizontalFlip(p=0.5),
            A.VerticalFlip(p=0.5),
            A.OneOf([
                A.OpticalDistortion(p=1.0),
                A.GridDistortion(p=1.0),
                A.GaussianBlur(p=1.0),
                A.ImageCompression(quality_range=(60, 95), p=1.0),
                A.RandomBrightnessContrast(p=1.0),
            ], p=0.5),
        ])
    raise ValueError(f"unknown augmentation preset {preset!r}; valid: none, light, full, or an albumentations dict")
