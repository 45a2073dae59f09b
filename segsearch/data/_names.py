"""Class names that a dataset carries beside its masks, so that ``segsearch plan`` writes them instead of
``class_1``: a CVAT ``labelmap.txt`` (``name:r,g,b:parts:actions``), a Roboflow ``_classes.csv`` (``Pixel
Value, Class``), a ``classes.txt`` (one name per line, in index order), or the Pascal VOC palette that
VOC-style palette PNGs use."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

NAME_FILES = ("labelmap.txt", "_classes.csv", "classes.csv", "classes.txt", "class_names.txt", "labels.txt")
VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
               "tvmonitor")


@dataclass
class ClassNames:
    source: str  # the file, or "the Pascal VOC palette"
    by_value: dict[int, str] = field(default_factory=dict)  # mask value (index) -> name
    by_colour: dict[tuple[int, int, int], str] = field(default_factory=dict)  # RGB colour -> name


def find_class_names(folders: list[Path], first_mask: Path | None = None) -> ClassNames | None:
    """The first name file in ``folders`` (dataset root first), else the VOC names when ``first_mask`` is a
    palette PNG with the VOC palette; None when the dataset names no class. A file that can't be read as
    names is skipped (it may be something else of the same name)."""
    for folder in folders:
        for name in NAME_FILES:
            path = folder / name
            if path.is_file():
                found = _read(path)
                if found is not None and (found.by_value or found.by_colour):
                    return found
    return _voc_palette(first_mask) if first_mask is not None else None


def _read(path: Path) -> ClassNames | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    names = ClassNames(str(path))
    if path.name == "labelmap.txt" and all(":" in ln for ln in lines):  # CVAT: label:color_rgb:parts:actions
        for i, ln in enumerate(lines):
            label, colour = ln.split(":")[:2]
            rgb = [int(c) for c in colour.split(",") if c.strip().isdigit()]
            names.by_value[i] = label.strip()
            if len(rgb) == 3:
                names.by_colour[(rgb[0], rgb[1], rgb[2])] = label.strip()
        return names
    if path.suffix == ".csv":  # Roboflow: "Pixel Value, Class"
        for row in list(csv.reader(lines))[1:]:
            if len(row) >= 2 and row[0].strip().isdigit():
                names.by_value[int(row[0])] = row[1].strip()
        return names
    if any(len(ln.split()) > 1 and not ln.split()[0].isdigit() for ln in lines):
        return None  # prose, not one name per line
    for i, ln in enumerate(lines):  # "name" or "value name" per line
        parts = ln.split(maxsplit=1)
        value, label = (int(parts[0]), parts[1]) if len(parts) == 2 and parts[0].isdigit() else (i, ln)
        names.by_value[value] = label.strip()
    return names


def voc_colormap(n: int = 256) -> list[tuple[int, int, int]]:
    """The Pascal VOC colour map (``bitget`` of the class index), as VOC's palette PNGs hold it."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return out


def _voc_palette(mask: Path) -> ClassNames | None:
    from PIL import Image

    try:
        with Image.open(mask) as im:
            if im.mode != "P":
                return None
            raw = im.getpalette() or []
    except Exception:
        return None
    colours = [tuple(raw[i:i + 3]) for i in range(0, min(len(raw), 3 * len(VOC_CLASSES)), 3)]
    if len(colours) < 2 or colours != voc_colormap(len(colours)):
        return None
    return ClassNames("the Pascal VOC palette", dict(enumerate(VOC_CLASSES)))


__all__ = ["ClassNames", "NAME_FILES", "VOC_CLASSES", "find_class_names", "voc_colormap"]
