"""Datasets as users have them: discovery, checks, splits, decoding, augmentation, EDA, the demo set."""

from ._build import (
    Splits,
    auto_num_workers,
    load_splits,
    loss_class_weights,
    make_train_dataset,
    preflight,
    resolve_root,
)
from ._dataset import SegDataset, class_pixel_counts, class_weights_from_counts, mask_to_label
from ._demo import CLASSES as DEMO_CLASSES
from ._demo import make_demo_dataset
from ._hierarchy import hierarchy_levels, hierarchy_miou, level_ious, level_miou
from ._inspect import inspect_dataset
from ._io import DataError, read_image, read_mask
from ._labels import read_label
from ._layouts import Sample, discover, find_pairs
from ._mosaic import MosaicDataset
from ._prepare import Prepared, prepare_splits
from ._split import split_samples
from ._transforms import PRESETS, build_transform

__all__ = [
    "DEMO_CLASSES",
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
    "split_samples",
]
