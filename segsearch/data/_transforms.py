"""Augmentation presets built with albumentations; normalisation happens in the dataset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import albumentations as A
import numpy as np

PRESETS = ("none", "light", "full")


def crop_transform(size_hw: tuple[int, int], fill_mask: int = 0) -> A.Compose:
    """Patch training: pad images smaller than ``size_hw``, then take a random window."""
    h, w = size_hw
    return A.Compose([A.PadIfNeeded(h, w, border_mode=0, fill=0, fill_mask=fill_mask), A.RandomCrop(h, w)])


def _resize_or_crop(h: int, w: int, crop: bool, fill_mask: int) -> list[Any]:
    if crop:
        return [A.PadIfNeeded(h, w, border_mode=0, fill=0, fill_mask=fill_mask), A.RandomCrop(h, w)]
    return [A.Resize(h, w)]


def _flips(axes: Sequence[str]) -> list[Any]:
    return [*([A.HorizontalFlip(p=0.5)] if "horizontal" in axes else []),
            *([A.VerticalFlip(p=0.5)] if "vertical" in axes else [])]


def _full(h: int, w: int, crop: bool, fill_mask: int, flips: Sequence[str]) -> list[Any]:
    """Seed 001's train pipeline: resize, shift-scale-rotate, flips, one of five photometric/warp ops."""
    return [
        *_resize_or_crop(h, w, crop, fill_mask),
        A.Affine(translate_percent=(-0.0625, 0.0625), scale=(0.9, 1.1), rotate=(-45, 45), p=0.5,
                 border_mode=0, fill=0, fill_mask=fill_mask),
        *_flips(flips),
        A.OneOf([
            A.OpticalDistortion(p=1.0, border_mode=0, fill=0, fill_mask=fill_mask),
            A.GridDistortion(p=1.0, border_mode=0, fill=0, fill_mask=fill_mask),
            A.GaussianBlur(p=1.0),
            A.ImageCompression(quality_range=(60, 95), p=1.0),
            A.RandomBrightnessContrast(p=1.0),
        ], p=0.5),
    ]


def seed_pipeline(transform: Any, seed: int) -> None:
    """Seed an albumentations pipeline so that each of its transforms draws from its own stream.

    albumentations 2's ``Compose(seed=...)`` and ``set_random_seed`` hand every transform the same seed, so
    transforms with the same draws decide alike: ``HorizontalFlip(p=0.5)`` then ``VerticalFlip(p=0.5)`` flip
    both or neither, and a training set never shows a mirror image (only 180-degree turns). Here the pipeline
    and each transform in it (nested ``OneOf`` too) get seeds spawned from ``seed``: reproducible, and
    independent of each other as unseeded transforms are."""
    if hasattr(transform, "set_random_seed"):
        transform.set_random_seed(seed)  # the pipeline's own draws (OneOf's choice); children are re-seeded below
    children = [t for t in getattr(transform, "transforms", []) if hasattr(t, "set_random_seed")]
    for child, seq in zip(children, np.random.SeedSequence(seed).spawn(len(children)), strict=True):
        seed_pipeline(child, int(seq.generate_state(1)[0]))


def build_transform(preset: str | dict, size_hw: tuple[int, int], train: bool, crop: bool = False,
                    fill_mask: int = 0, flips: Sequence[str] = ("horizontal", "vertical")) -> A.Compose:
    """``none`` / ``light`` / ``full`` (seed 001's pipeline), or an albumentations dict (A.to_dict form).

    Evaluation (``train=False``) always just resizes; ``crop`` swaps the resize for a random crop. The
    presets flip along ``flips`` only (``flip_axes``); an albumentations dict is used as written.
    """
    h, w = size_hw
    if isinstance(preset, dict):
        return A.from_dict(preset) if train else A.Compose([A.Resize(h, w)])
    if preset not in PRESETS:
        raise ValueError(f"unknown augmentation preset {preset!r}; valid: {', '.join(PRESETS)}, "
                         "or an albumentations dict")
    if not train or preset == "none":
        return A.Compose(_resize_or_crop(h, w, train and crop, fill_mask))
    base = _resize_or_crop(h, w, crop, fill_mask)
    if preset == "light":
        return A.Compose([*base, *_flips(flips), A.RandomBrightnessContrast(p=0.3)])
    return A.Compose(_full(h, w, crop, fill_mask, flips))
