"""Finding (images, mask) samples on disk for each dataset layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ._io import IMAGE_EXTS, DataError


@dataclass(frozen=True)
class Sample:
    image: Path
    mask: Path
    group: str  # samples of one group (e.g. three dates of one mask) never cross splits


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def find_pairs(root: Path, images_dir: str = "images", masks_dir: str = "masks", mask_suffix: str = "",
               group_pattern: str | None = None) -> tuple[list[Sample], list[Path], list[Path]]:
    """Match images to masks by stem. Returns (samples, images without mask, masks without image).

    With ``group_pattern`` (a regex with one group applied to the image stem), every image whose
    group equals a mask's stem belongs to that mask: ``(.*)_t\\d`` maps ``tile7_t1..t3`` to ``tile7``.
    """
    img_dir, mask_dir = root / images_dir, root / masks_dir
    for d in (img_dir, mask_dir):
        if not d.is_dir():
            raise DataError(f"{d}: folder not found (data.root is {root}; expected {images_dir}/ and {masks_dir}/)")
    masks = {p.stem[: len(p.stem) - len(mask_suffix)] if mask_suffix and p.stem.endswith(mask_suffix) else p.stem: p
             for p in _files(mask_dir)}
    rx = re.compile(group_pattern) if group_pattern else None
    samples, orphans, used = [], [], set()
    for img in _files(img_dir):
        key = img.stem
        if rx is not None:
            m = rx.fullmatch(img.stem)
            key = m.group(1) if m else img.stem
        mask = masks.get(key)
        if mask is None:
            orphans.append(img)
            continue
        used.add(key)
        samples.append(Sample(img, mask, key))
    lonely = [p for k, p in masks.items() if k not in used]
    return samples, orphans, lonely
