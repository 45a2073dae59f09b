"""Datasets as users have them: discovery, splits, decoding, augmentation, the demo set."""

from ._build import Splits, auto_num_workers, load_splits, loss_class_weights, make_train_dataset, resolve_root
from ._dataset import SegDataset, class_pixel_counts, class_weights_from_counts, mask_to_label
from ._demo import CLASSES as DEMO_CLASSES
from ._demo import make_demo_dataset
from ._io import DataError, read_image, read_mask
from ._layouts import Sample, find_pairs
from ._split import split_samples
from ._transforms import build_transform

__all__ = [
    "DEMO_CLASSES",
    "DataError",
    "Sample",
    "SegDataset",
    "Splits",
    "auto_num_workers",
    "build_transform",
    "class_pixel_counts",
    "class_weights_from_counts",
    "find_pairs",
    "load_splits",
    "loss_class_weights",
    "make_demo_dataset",
    "make_train_dataset",
    "mask_to_label",
    "read_image",
    "read_mask",
    "resolve_root",
    "split_samples",
]
