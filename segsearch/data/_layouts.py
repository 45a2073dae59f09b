"""Finding (images, mask) samples on disk for each dataset layout: folders, csv, presplit."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._io import IMAGE_EXTS, DataError

if TYPE_CHECKING:
    from ..config import DataConfig

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Sample:
    image: Path
    mask: Path
    group: str  # samples of one group (e.g. three dates of one mask) never cross splits
    class_masks: tuple[Path, ...] = ()  # multilabel as one file per class (mask is the first)


@dataclass(frozen=True)
class Found:
    """What one folder (or CSV) holds: complete pairs, images without mask, masks without image."""

    samples: list[Sample]
    orphans: list[Path] = field(default_factory=list)
    lonely_masks: list[Path] = field(default_factory=list)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def _mask_stems(mask_dir: Path, mask_suffix: str) -> dict[str, Path]:
    out = {}
    for p in _files(mask_dir):
        stem = p.stem[: len(p.stem) - len(mask_suffix)] if mask_suffix and p.stem.endswith(mask_suffix) else p.stem
        out[stem] = p
    return out


def find_pairs(root: Path, images_dir: str = "images", masks_dir: str = "masks", mask_suffix: str = "",
               group_pattern: str | None = None, mask_pattern: str | None = None
               ) -> tuple[list[Sample], list[Path], list[Path]]:
    """Match images to masks by stem. Returns (samples, images without mask, masks without image).

    With ``group_pattern`` (a regex with one group applied to the image stem), every image whose
    group equals a mask's stem belongs to that mask: ``(.*)_t\\d`` maps ``tile7_t1..t3`` to ``tile7``.
    ``mask_pattern`` (``'{stem}_mask'``) gives the mask stem from that key.
    """
    img_dir, mask_dir = _need_dir(root, images_dir), _need_dir(root, masks_dir)
    masks = _mask_stems(mask_dir, "" if mask_pattern else mask_suffix)
    rx = re.compile(group_pattern) if group_pattern else None
    samples, orphans, used = [], [], set()
    for img in _files(img_dir):
        key = _group_key(img.stem, rx)
        mask_key = mask_pattern.format(stem=key) if mask_pattern else key
        mask = masks.get(mask_key)
        if mask is None:
            orphans.append(img)
            continue
        used.add(mask_key)
        samples.append(Sample(img, mask, key))
    lonely = [p for k, p in masks.items() if k not in used]
    return samples, orphans, lonely


def _group_key(stem: str, rx: re.Pattern | None) -> str:
    if rx is None:
        return stem
    m = rx.fullmatch(stem)
    return m.group(1) if m else stem


def _need_dir(root: Path, sub: str) -> Path:
    d = root / sub
    if not d.is_dir():
        raise DataError(f"{d}: folder not found (data.root is {root})")
    return d


def find_per_class(root: Path, cfg: DataConfig) -> Found:
    """Multilabel masks as one file per class: ``masks_dir/<class>/<stem>.*``."""
    return per_class_pairs(root, cfg.images_dir, cfg.masks_dir, list(cfg.classes), cfg.mask_suffix,
                           cfg.group_pattern, cfg.mask_pattern)


def class_mask_dirs(mask_dir: Path) -> list[str]:
    """The class folders of a one-file-per-class layout (``masks/<class>/<stem>.*``): the subfolders of
    ``mask_dir`` that hold images, when ``mask_dir`` itself holds none; else []."""
    if not mask_dir.is_dir() or _files(mask_dir):
        return []
    return sorted(d.name for d in mask_dir.iterdir() if d.is_dir() and not d.name.startswith(".") and _files(d))


def per_class_pairs(root: Path, images_dir: str, masks_dir: str, classes: list[str], mask_suffix: str = "",
                    group_pattern: str | None = None, mask_pattern: str | None = None) -> Found:
    img_dir, mask_dir = _need_dir(root, images_dir), _need_dir(root, masks_dir)
    per_class = [_mask_stems(_need_dir(mask_dir, name), mask_suffix) for name in classes]
    rx = re.compile(group_pattern) if group_pattern else None
    samples, orphans = [], []
    for img in _files(img_dir):
        key = _group_key(img.stem, rx)
        mask_key = mask_pattern.format(stem=key) if mask_pattern else key
        files = tuple(m.get(mask_key) for m in per_class)
        if any(f is None for f in files):
            orphans.append(img)
            continue
        samples.append(Sample(img, files[0], key, files))  # type: ignore[arg-type]
    return Found(samples, orphans)


def find_folder(root: Path, cfg: DataConfig) -> Found:
    if cfg.mask_per_class:
        return find_per_class(root, cfg)
    samples, orphans, lonely = find_pairs(root, cfg.images_dir, cfg.masks_dir, cfg.mask_suffix,
                                          cfg.group_pattern, cfg.mask_pattern)
    return Found(samples, orphans, lonely)


def read_split_csv(path: Path, root: Path) -> Found:
    """A split CSV with columns image, mask (and optionally group); relative paths are under ``root``."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"image", "mask"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{path}: missing column(s) {sorted(missing)}; a split CSV has image, mask[, group]")
        rows = list(reader)
    samples, orphans = [], []
    for row in rows:
        img, mask = root / row["image"], root / row["mask"]
        if not mask.is_file():
            orphans.append(img)
            continue
        group = row.get("group") or Path(row["mask"]).stem
        samples.append(Sample(img, mask, group))
    return Found(samples, orphans)


def discover(root: Path, cfg: DataConfig) -> dict[str, Found]:
    """Per split name what is on disk; the folders layout gives one unsplit entry, ``all``."""
    if cfg.layout == "folders":
        return {"all": find_folder(root, cfg)}
    if cfg.layout == "csv":
        folder = root / cfg.splits_dir
        out = {s: read_split_csv(folder / f"{s}.csv", root) for s in SPLITS if (folder / f"{s}.csv").is_file()}
        if "train" not in out or "val" not in out:
            raise DataError(f"{folder}: layout csv needs train.csv and val.csv (write them with segsearch prepare)")
        return out
    out = {s: find_folder(root / s, cfg) for s in SPLITS if (root / s).is_dir()}
    if "train" not in out or "val" not in out:
        raise DataError(f"{root}: layout presplit needs train/ and val/ folders (test/ is optional)")
    return out
