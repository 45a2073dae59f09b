"""From a DataConfig to DataLoaders: the one entry point training uses."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import DataConfig
from ._demo import make_demo_dataset
from ._io import DataError
from ._layouts import Sample, find_pairs
from ._split import split_samples


@dataclass(frozen=True)
class Splits:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)  # images without a mask
    lonely_masks: list[Path] = field(default_factory=list)


def resolve_root(cfg: DataConfig, studies_dir: Path | str = "studies") -> Path:
    if cfg.root is not None:
        return Path(cfg.root)
    d = cfg.demo
    return make_demo_dataset(Path(studies_dir) / "_data" / f"demo_{d.n_images}x{d.size}_s{d.seed}",
                             d.n_images, d.size, d.seed)


def load_splits(cfg: DataConfig, studies_dir: Path | str = "studies") -> Splits:
    root = resolve_root(cfg, studies_dir)
    if not root.is_dir():
        raise DataError(f"data.root {root}: folder not found")
    samples, orphans, lonely = find_pairs(root, cfg.images_dir, cfg.masks_dir, cfg.mask_suffix, cfg.group_pattern)
    if not samples:
        raise DataError(f"{root}: no image/mask pairs found under {cfg.images_dir}/ and {cfg.masks_dir}/")
    parts = split_samples(samples, cfg.val_fraction, cfg.test_fraction, cfg.split_seed)
    if not parts["train"] or not parts["val"]:
        raise DataError(f"{root}: {len(samples)} samples are too few for a train and a validation split")
    return Splits(parts["train"], parts["val"], parts["test"], orphans, lonely)


def auto_num_workers(setting: int | str, device: str) -> int:
    if setting != "auto":
        return int(setting)
    if not device.startswith("cuda"):
        return 0  # on CPU the model needs every core; cached decoded images are cheap to augment
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def loss_class_weights(counts: np.ndarray, cfg: DataConfig) -> list[float]:
    """Weights for ``class_weights: auto``: median-frequency for multiclass, neg/pos for binary."""
    from ._dataset import class_weights_from_counts

    if cfg.mode == "binary":
        return [float(counts[0] / max(counts[1], 1))]
    return class_weights_from_counts(counts)


def make_train_dataset(samples, cfg: DataConfig, transform, mean, std):
    """The training dataset (with mosaic when ``cfg.mosaic`` > 0)."""
    from ._dataset import SegDataset

    return SegDataset(samples, cfg, transform, mean, std, cache=cfg.cache)
