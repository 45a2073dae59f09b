"""Datasets as users have them: discovery, checks, splits, decoding, augmentation, EDA, the demo set.

The torch datasets and the albumentations pipelines load on first use (``__getattr__``), so that reading
and checking a folder (``segsearch plan``, its error paths) does not pay for importing torch."""

import importlib
from typing import TYPE_CHECKING, Any

from ._build import (
    Splits,
    auto_num_workers,
    load_splits,
    loss_class_weights,
    make_train_dataset,
    preflight,
    resolve_root,
)
from ._demo import CLASSES as DEMO_CLASSES
from ._demo import make_demo_dataset
from ._fingerprint import ClassStats, Fingerprint, fingerprint
from ._flips import flip_axes, flip_symmetry
from ._hierarchy import hierarchy_levels, hierarchy_miou, level_ious, level_miou
from ._inspect import inspect_dataset
from ._io import DataError, read_image, read_mask
from ._labels import read_label
from ._layouts import Sample, discover, find_pairs
from ._prepare import Prepared, prepare_splits
from ._split import split_samples

if TYPE_CHECKING:
    from ._dataset import SegDataset, class_pixel_counts, class_weights_from_counts, mask_to_label
    from ._mosaic import MosaicDataset
    from ._transforms import PRESETS, build_transform, seed_pipeline

_LAZY = {"SegDataset": "_dataset", "class_pixel_counts": "_dataset", "class_weights_from_counts": "_dataset",
         "mask_to_label": "_dataset", "MosaicDataset": "_mosaic", "PRESETS": "_transforms",
         "build_transform": "_transforms", "seed_pipeline": "_transforms"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEMO_CLASSES",
    "ClassStats",
    "Fingerprint",
    "PRESETS",
    "DataError",
    "MosaicDataset",
    "Prepared",
    "Sample",
    "SegDataset",
    "Splits",
    "auto_num_workers",
    "build_transform",
    "class_pixel_counts",
    "class_weights_from_counts",
    "discover",
    "find_pairs",
    "fingerprint",
    "flip_axes",
    "flip_symmetry",
    "hierarchy_levels",
    "hierarchy_miou",
    "inspect_dataset",
    "level_ious",
    "level_miou",
    "load_splits",
    "loss_class_weights",
    "make_demo_dataset",
    "make_train_dataset",
    "mask_to_label",
    "preflight",
    "prepare_splits",
    "read_image",
    "read_label",
    "read_mask",
    "resolve_root",
    "seed_pipeline",
    "split_samples",
]
