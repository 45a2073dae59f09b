"""What a folder of images and masks holds, read before any YAML exists (``segsearch plan``; nnU-Net calls
this the dataset fingerprint): the layout and how images pair with masks, image sizes, channels and bit
depth, the mask encoding (index values, 0/255, palette, RGB colours), the classes with their pixel and image
shares and object sizes, and images that share a mask (several dates per mask).

Masks are read from an evenly spread sample (``MAX_MASKS``); image headers are read for every image.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._io import IMAGE_EXTS, DataError, image_header, read_mask
from ._layouts import Sample, class_mask_dirs, find_pairs, per_class_pairs
from ._names import ClassNames, find_class_names

IMAGE_DIRS = ("images", "image", "imgs", "img", "jpegimages", "inputs", "input", "x")
MASK_DIRS = ("masks", "mask", "labels", "label", "annotations", "gt", "segmentationclass", "targets", "y")
MAX_MASKS = 300  # masks decoded for the encoding and the class statistics
MAX_COLOURS = 64  # more distinct colours than this in RGB masks are no class code (e.g. JPEG-compressed masks)
_GROUPS = (r"(.*)[_-][^_-]+",)  # image stem -> mask stem when several images share a mask: tile7_t1 -> tile7


@dataclass
class ClassStats:
    name: str
    value: Any  # raw mask value (index) or [r, g, b]
    pixel_share: float  # of all sampled mask pixels
    image_share: float  # of sampled masks holding the class
    median_area: float  # median share of an image's pixels where the class is present


@dataclass
class Fingerprint:
    root: str
    layout: str  # folders | presplit
    images_dir: str
    masks_dir: str
    mask_suffix: str = ""
    mask_pattern: str | None = None
    group_pattern: str | None = None
    n_images: int = 0
    n_masks: int = 0
    n_pairs: int = 0
    unpaired_images: int = 0
    images_per_mask: float = 1.0
    image_sizes: dict[str, int] = field(default_factory=dict)  # "WxH" -> count
    channels: dict[str, int] = field(default_factory=dict)
    bit_depth: dict[str, int] = field(default_factory=dict)
    encoding: str = ""  # index | binary_0_255 | binary | palette | rgb
    mode: str = "multiclass"
    classes: list[ClassStats] = field(default_factory=list)
    class_map: dict[int, int] | None = None
    ignore_index: int | None = None
    colors: dict[str, list[int]] | None = None
    mask_per_class: bool = False  # one binary mask file per class: masks/<class>/<stem>.* (multilabel)
    class_names_from: str | None = None  # the file (or palette) the class names came from; None: class_<value>
    masks_sampled: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def median_side(self) -> int:
        sides = [min(int(v) for v in k.split("x")) for k, n in self.image_sizes.items() for _ in range(n)]
        return int(np.median(sides)) if sides else 0


def fingerprint(root: str | Path) -> Fingerprint:
    """The fingerprint of the dataset folder ``root``; DataError naming the folder when it holds no dataset."""
    root = Path(root).expanduser().resolve()
    fp, samples = _pairing(root)
    _images(fp, samples)
    _masks(fp, samples)
    return fp


# --------------------------------------------------------------------------- layout and pairing


def _pairing(root: Path) -> tuple[Fingerprint, list[Sample]]:
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    presplit = (root / "train").is_dir() and (root / "val").is_dir()
    base = root / "train" if presplit else root
    images_dir, masks_dir = _subdir(base, IMAGE_DIRS), _subdir(base, MASK_DIRS)
    n = sum(1 for p in base.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
    if n == 0:
        raise DataError(f"{root}: empty folder: no images ({', '.join(IMAGE_EXTS)}) in it or below it")
    if images_dir is None:
        raise DataError(f"{base}: {n} image files, but no images folder: expected an images/ and a masks/ "
                        f"folder (names accepted: {', '.join(IMAGE_DIRS)} / {', '.join(MASK_DIRS)})")
    if masks_dir is None:
        raise DataError(f"{base}: images in {images_dir}/ but no masks folder beside it (names accepted: "
                        f"{', '.join(MASK_DIRS)}); segsearch needs a mask per image")
    fp = Fingerprint(str(root), "presplit" if presplit else "folders", images_dir, masks_dir)
    class_dirs = class_mask_dirs(base / masks_dir)
    if class_dirs:
        return fp, _per_class_pairing(fp, base, class_dirs)
    samples, orphans, lonely = find_pairs(base, images_dir, masks_dir)
    if orphans and lonely:
        samples, orphans, lonely = _fix_naming(fp, base, samples, orphans, lonely)
    fp.n_images = len(samples) + len(orphans)
    fp.n_masks = len({s.mask for s in samples}) + len(lonely)
    fp.n_pairs, fp.unpaired_images = len(samples), len(orphans)
    if not samples:
        raise DataError(f"{base}: {fp.n_images} images in {images_dir}/ and {fp.n_masks} masks in {masks_dir}/, "
                        "but no image has a mask of the same name (or a common suffix, prefix or pattern)")
    fp.images_per_mask = round(len(samples) / max(1, len({s.mask for s in samples})), 2)
    return fp, samples


def _per_class_pairing(fp: Fingerprint, base: Path, class_dirs: list[str]) -> list[Sample]:
    """masks/<class>/<stem>.*: one binary mask per class and image, classes named by their folders."""
    found = per_class_pairs(base, fp.images_dir, fp.masks_dir, class_dirs)
    fp.mask_per_class, fp.mode, fp.encoding = True, "multilabel", "per_class_files"
    fp.classes = [ClassStats(name, name, 0.0, 0.0, 0.0) for name in class_dirs]
    fp.n_images = len(found.samples) + len(found.orphans)
    fp.n_masks = sum(len(s.class_masks) for s in found.samples)
    fp.n_pairs, fp.unpaired_images = len(found.samples), len(found.orphans)
    if not found.samples:
        raise DataError(f"{base / fp.masks_dir}: one folder per class ({', '.join(class_dirs)}), but no image in "
                        f"{fp.images_dir}/ has a mask of the same name in every class folder")
    return found.samples


def _subdir(base: Path, names: tuple[str, ...]) -> str | None:
    found = {p.name.lower(): p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else {}
    return next((found[n] for n in names if n in found), None)


def _fix_naming(fp: Fingerprint, base: Path, samples: list[Sample], orphans: list[Path], lonely: list[Path]
                ) -> tuple[list[Sample], list[Path], list[Path]]:
    from ._hints import naming_fix

    fix = naming_fix(orphans, lonely)
    if fix is not None:
        key, value, _ = fix
        setattr(fp, key, value)
        return find_pairs(base, fp.images_dir, fp.masks_dir, fp.mask_suffix, None, fp.mask_pattern)
    masks = {m.stem for m in lonely}
    for pattern in _GROUPS:
        rx = re.compile(pattern)
        hits = sum(1 for p in orphans if (m := rx.fullmatch(p.stem)) and m.group(1) in masks)
        if hits * 2 >= len(orphans):
            fp.group_pattern = pattern
            return find_pairs(base, fp.images_dir, fp.masks_dir, "", pattern, None)
    return samples, orphans, lonely


# --------------------------------------------------------------------------- images


def _images(fp: Fingerprint, samples: list[Sample]) -> None:
    sizes: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    depth: Counter[str] = Counter()
    for s in samples:
        h, w, c = image_header(s.image)
        sizes[f"{w}x{h}"] += 1
        channels[str(c)] += 1
    for s in _spread(samples, 20):
        from ._io import read_image

        depth[str(read_image(s.image).dtype)] += 1
    fp.image_sizes, fp.channels, fp.bit_depth = dict(sizes.most_common()), dict(channels), dict(depth)


def _spread(items: list[Any], n: int) -> list[Any]:
    if len(items) <= n:
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]


# --------------------------------------------------------------------------- masks


def _masks(fp: Fingerprint, samples: list[Sample]) -> None:
    if fp.mask_per_class:
        return _class_files(fp, samples)
    masks = sorted({s.mask for s in samples})
    chosen = _spread(masks, MAX_MASKS)
    fp.masks_sampled = len(chosen)
    planes = [_plane(p) for p in chosen]
    if len({rgb for rgb, _ in planes}) > 1:
        raise DataError(f"{chosen[0].parent}: some masks are RGB colour masks and some hold index values; "
                        "use one encoding for all masks")
    pixels: Counter = Counter()
    present: Counter = Counter()
    areas: dict[Any, list[float]] = {}
    for rgb, plane in planes:
        values, counts = np.unique(plane, return_counts=True, axis=0 if rgb else None)
        size = plane.shape[0] if rgb else plane.size
        for v, n in zip(values.tolist(), counts.tolist(), strict=True):
            key = tuple(v) if rgb else int(v)
            pixels[key] += n
            present[key] += 1
            areas.setdefault(key, []).append(n / max(1, size))
    _decide(fp, chosen[0], pixels, present, areas, len(planes))


def _class_files(fp: Fingerprint, samples: list[Sample]) -> None:
    """Per class folder: the share of pixels set (any value above 0), of masks holding the class, and its
    median area where present."""
    chosen = _spread(samples, max(1, MAX_MASKS // max(1, len(fp.classes))))
    fp.masks_sampled = len(chosen) * len(fp.classes)
    for i, c in enumerate(fp.classes):
        shares = []
        for s in chosen:
            rgb, plane = _plane(s.class_masks[i])
            on = (plane != 0).any(axis=-1) if rgb else plane != 0
            shares.append(float(on.mean()))
        present = [a for a in shares if a > 0]
        c.pixel_share = round(float(np.mean(shares)), 5) if shares else 0.0
        c.image_share = round(len(present) / max(1, len(shares)), 4)
        c.median_area = round(float(np.median(present)), 5) if present else 0.0


def _plane(path: Path) -> tuple[bool, np.ndarray]:
    """(True, the Nx3 colours of an RGB mask, one row per pixel) or (False, an HxW plane of values)."""
    raw = read_mask(path)
    if raw.dtype.kind == "f":
        raise DataError(f"{path}: mask of floating-point values ({raw.dtype}); masks must hold class values "
                        "(integers: an index per pixel, 0/255, a palette or RGB colours)")
    if raw.ndim == 3 and raw.shape[2] >= 3:
        rgb = raw[:, :, :3]
        if (rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 1] == rgb[:, :, 2]).all():
            return False, rgb[:, :, 0]
        return True, rgb.reshape(-1, 3)
    return False, raw[:, :, 0] if raw.ndim == 3 else raw


def _decide(fp: Fingerprint, first: Path, pixels: Counter, present: Counter, areas: dict, n_masks: int) -> None:
    total = sum(pixels.values())
    keys = sorted(pixels)
    if keys and isinstance(keys[0], tuple):
        _colours(fp, keys, first)
    else:
        _values(fp, [int(k) for k in keys], pixels, total, first)
    raw_of = _named(fp, _raw_values(fp, keys), first)
    stats = []
    for name, raw in raw_of:
        group = [k for k in keys if k in raw]
        px = sum(pixels[k] for k in group)
        imgs = max((present[k] for k in group), default=0)
        area = [a for k in group for a in areas.get(k, [])]
        stats.append(ClassStats(name, _jsonable(group[0]) if len(group) == 1 else [_jsonable(g) for g in group],
                                round(px / max(total, 1), 5), round(imgs / max(n_masks, 1), 4),
                                round(float(np.median(area)), 5) if area else 0.0))
    fp.classes = stats


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _colours(fp: Fingerprint, keys: list[tuple[int, ...]], first: Path) -> None:
    if len(keys) > MAX_COLOURS:
        raise DataError(f"{first.parent}: the RGB masks hold {len(keys)} colours; a colour-coded mask holds one "
                        f"colour per class (at most {MAX_COLOURS} here). JPEG-compressed masks blur the colours: "
                        "use PNG")
    ordered = sorted(keys, key=lambda c: (sum(c) != 0, c))  # black first: the background
    names = ["background" if sum(c) == 0 else f"class_{i}" for i, c in enumerate(ordered)]
    fp.encoding, fp.mode = "rgb", "multiclass"
    fp.colors = {n: [int(x) for x in c] for n, c in zip(names, ordered, strict=True)}


def _values(fp: Fingerprint, values: list[int], pixels: Counter, total: int, first: Path) -> None:
    if len(values) > 256 or max(values) > 65535:
        raise DataError(f"{first.parent}: the masks hold {len(values)} distinct values (up to {max(values)}): more "
                        "than 255 classes in 8 bits; are these images rather than masks?")
    fp.encoding = "palette" if _is_palette(first) else "index"
    if 255 in values and len(values) > 2 and pixels[255] / max(total, 1) < 0.05 and max(values[:-1]) < 255:
        fp.ignore_index = 255  # thin 255 borders between index classes, as Pascal VOC draws them
        values = values[:-1]
    if len(values) <= 2:
        fp.mode = "binary"
        fp.encoding = "binary_0_255" if values[-1] == 255 else "binary"
        return
    if values != list(range(len(values))):
        fp.class_map = {v: i for i, v in enumerate(values)}


def _is_palette(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.mode == "P"
    except Exception:
        return False


def _named(fp: Fingerprint, raw_of: list[tuple[str, set[Any]]], first: Path) -> list[tuple[str, set[Any]]]:
    """The classes under the names the dataset gives them (``_names``), where it gives any; binary masks keep
    ``background`` for 0 and take the name of the one class."""
    root = Path(fp.root)
    base = root / "train" if fp.layout == "presplit" else root
    names = find_class_names(list(dict.fromkeys([root, base, base / fp.masks_dir])), first)
    if names is None:
        return raw_of
    if names.by_colour and fp.colors is not None:  # colour masks: the classes in the name file's order
        order = {c: i for i, c in enumerate(names.by_colour)}
        raw_of = sorted(raw_of, key=lambda nr: min(order.get(tuple(v)[:3], len(order)) for v in nr[1]))
        fp.colors = {n: fp.colors[n] for n, _ in raw_of}
    out: list[tuple[str, set[Any]]] = []
    renamed: dict[str, str] = {}
    for name, raw in raw_of:
        new = None if fp.mode == "binary" and name == "background" else _name_of(raw, names, fp.mode)
        new = name if not new else new if new not in renamed.values() else f"{new}_{min(raw)}"
        renamed[name] = new
        out.append((new, raw))
    if fp.colors is not None:
        fp.colors = {renamed.get(n, n): c for n, c in fp.colors.items()}
    if renamed and any(k != v for k, v in renamed.items()):
        fp.class_names_from = names.source
    return out


def _name_of(raw: set[Any], names: ClassNames, mode: str) -> str | None:
    for v in sorted(raw):
        found = names.by_colour.get(tuple(v)[:3]) if isinstance(v, tuple) else names.by_value.get(int(v))
        if found:
            return found
    if mode == "binary" and len(names.by_value) == 2:  # 0/255 masks named by a two-line classes.txt
        return names.by_value.get(max(names.by_value))
    return None


def _raw_values(fp: Fingerprint, keys: list[Any]) -> list[tuple[str, set[Any]]]:
    """Per class (in index order, background first) its name and the raw mask values it covers."""
    if fp.colors is not None:
        return [(n, {tuple(c)}) for n, c in fp.colors.items()]
    values = [k for k in keys if k != fp.ignore_index]
    if fp.mode == "binary":
        fg = {v for v in values if v != 0}
        return [("background", {0}), ("foreground", fg)] if 0 in values else [("foreground", fg)]
    return [("background" if i == 0 and v == 0 else f"class_{v}", {v}) for i, v in enumerate(values)]


__all__ = ["ClassStats", "Fingerprint", "fingerprint"]
