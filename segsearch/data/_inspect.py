"""``segsearch inspect``: integrity check and EDA (seed 003), with proposed class weights.

Every pair is fully decoded. Per split it counts images, masks, orphans and complete pairs, lists
unreadable files, size mismatches, mask values outside the classes, empty and background-only
masks, and gathers image sizes, pixels per class and objects per mask. ``out_dir`` receives
``summary.json``, ``summary.md`` and PNG plots.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DataConfig
from ._build import loss_class_weights, resolve_root
from ._flips import flips_report
from ._io import DataError, read_image
from ._labels import read_label
from ._layouts import Found, Sample, discover
from ._prepare import label_names


@dataclass
class _SplitStats:
    cfg: DataConfig
    unreadable: list[dict] = field(default_factory=list)
    size_mismatch: list[dict] = field(default_factory=list)
    out_of_range: list[dict] = field(default_factory=list)
    invalid: list[dict] = field(default_factory=list)
    empty_masks: list[str] = field(default_factory=list)
    background_only: list[str] = field(default_factory=list)
    image_sizes: Counter = field(default_factory=Counter)
    objects: Counter = field(default_factory=Counter)
    pixels: np.ndarray | None = None
    good: list[Sample] = field(default_factory=list)

    def add_error(self, exc: DataError, path: Path) -> None:
        target = {"unreadable": self.unreadable, "out_of_range": self.out_of_range,
                  "mismatch": self.size_mismatch}.get(exc.kind, self.invalid)
        target.append({"file": str(path), "problem": str(exc)})


def _read_image(s: Sample, st: _SplitStats) -> tuple[int, int] | None:
    try:
        img = read_image(s.image, st.cfg.in_channels, st.cfg.bands)
    except DataError as exc:
        st.add_error(exc, s.image)
        return None
    st.image_sizes[f"{img.shape[1]}x{img.shape[0]}"] += 1
    return img.shape[:2]


def _read_mask(s: Sample, st: _SplitStats) -> tuple[int, int] | None:
    from ._dataset import label_pixel_counts

    try:
        label = read_label(s, st.cfg)
    except DataError as exc:
        st.add_error(exc, s.mask)
        return None
    counts = label_pixel_counts(label, st.cfg)
    st.pixels = counts if st.pixels is None else st.pixels + counts
    if counts.sum() == 0:
        st.empty_masks.append(str(s.mask))
    elif st.cfg.mode != "multilabel" and counts[1:].sum() == 0:
        st.background_only.append(str(s.mask))
    st.objects[_count_objects(label, st.cfg)] += 1
    return label.shape[:2]


def _count_objects(label: np.ndarray, cfg: DataConfig) -> int:
    """Connected regions of every foreground class (multilabel: of every class channel)."""
    import cv2

    if cfg.mode == "multilabel":
        planes = [label[:, :, c] for c in range(label.shape[2])]
    else:
        top = 2 if cfg.mode == "binary" else cfg.num_classes
        planes = [label == c for c in range(1, top)]
    return sum(cv2.connectedComponents(p.astype(np.uint8), connectivity=8)[0] - 1 for p in planes if p.any())


def inspect_split(found: Found, cfg: DataConfig) -> dict[str, Any]:
    """Full check and statistics of one split."""
    st = _SplitStats(cfg)
    mask_shapes: dict[Path, tuple[int, int] | None] = {}
    for s in found.samples:
        ishape = _read_image(s, st)
        if s.mask not in mask_shapes:
            mask_shapes[s.mask] = _read_mask(s, st)
        mshape = mask_shapes[s.mask]
        if ishape and mshape and ishape != mshape:
            st.size_mismatch.append({"file": str(s.image), "problem": f"{s.image}: image is {ishape[1]}x{ishape[0]}"
                                     f" but its mask {s.mask} is {mshape[1]}x{mshape[0]}"})
        elif ishape and mshape:
            st.good.append(s)
    return _split_report(found, st, len(mask_shapes))


def _split_report(found: Found, st: _SplitStats, n_masks: int) -> dict[str, Any]:
    names = label_names(st.cfg)
    pixels = st.pixels if st.pixels is not None else np.zeros(len(names), np.int64)
    total = max(int(pixels.sum()), 1)
    return {
        "images": len({s.image for s in found.samples}) + len(found.orphans),
        "masks": n_masks + len(found.lonely_masks),
        "images_without_mask": [str(p) for p in found.orphans],
        "masks_without_image": [str(p) for p in found.lonely_masks],
        "complete_pairs": len(found.samples),
        "good_pairs": len(st.good),
        "unreadable": st.unreadable,
        "size_mismatch": st.size_mismatch,
        "out_of_range": st.out_of_range,
        "invalid": st.invalid,
        "empty_masks": st.empty_masks,
        "background_only": st.background_only,
        "image_sizes": dict(st.image_sizes.most_common()),
        "pixels": {"counts": [int(v) for v in pixels], "shares": [round(int(v) / total, 6) for v in pixels]},
        "objects_per_mask": {str(k): v for k, v in sorted(st.objects.items())},
        "_good": st.good,
    }


def problems_of(split: dict[str, Any]) -> list[str]:
    """Every problem of a split report as ``<file>: <what>`` lines."""
    out = [f"{p}: no mask found" for p in split["images_without_mask"]]
    out += [f"{p}: mask without an image" for p in split["masks_without_image"]]
    for key in ("unreadable", "size_mismatch", "out_of_range", "invalid"):
        out += [item["problem"] for item in split[key]]
    return out


def _weight_counts(cfg: DataConfig, splits: dict[str, Any], studies_dir: Path | str) -> tuple[str, np.ndarray]:
    """Pixel counts of the training split, as ``class_weights: auto`` computes them in training."""
    if "train" in splits:
        return "train", np.array(splits["train"]["pixels"]["counts"])
    from ._build import load_splits
    from ._dataset import SegDataset, class_pixel_counts

    try:
        train = load_splits(cfg, studies_dir).train
    except DataError:  # bad files: fall back to every readable mask
        return "all", np.array(splits["all"]["pixels"]["counts"])
    return "train", class_pixel_counts(SegDataset(train, cfg, None, [0.0], [1.0], cache=False))


def _computed_splits(cfg: DataConfig, splits: dict[str, Any], studies_dir: Path | str) -> dict[str, Any]:
    """The folders layout is split by segsearch: describe train/val/test as the search will see them
    (only when the files are sound; their problems are already reported under ``all``)."""
    if cfg.layout != "folders" or problems_of(splits["all"]):
        return {}
    from ._build import load_splits
    from ._layouts import Found

    try:
        parts = load_splits(cfg, studies_dir)
    except DataError:
        return {}
    named = {"train": parts.train, "val": parts.val, "test": parts.test}
    return {name: inspect_split(Found(samples), cfg) for name, samples in named.items() if samples}


def inspect_dataset(cfg: DataConfig, out_dir: Path | str, studies_dir: Path | str = "studies",
                    n_samples: int = 8) -> dict[str, Any]:
    """Check and describe the dataset; write ``summary.json``, ``summary.md`` and plots to ``out_dir``."""
    from ._plots import write_plots
    from ._summary import write_markdown

    root = resolve_root(cfg, studies_dir)
    splits = {name: inspect_split(found, cfg) for name, found in discover(root, cfg).items()}
    splits.update(_computed_splits(cfg, splits, studies_dir))
    good = {name: rep.pop("_good") for name, rep in splits.items()}
    source, counts = _weight_counts(cfg, splits, studies_dir)
    report: dict[str, Any] = {
        "root": str(root),
        "layout": cfg.layout,
        "classes": label_names(cfg),
        "splits": splits,
        "problems": [p for rep in splits.values() for p in problems_of(rep)],
        "class_weights": loss_class_weights(counts, cfg) if counts.sum() else None,
        "class_weights_from": source,
        "flips": flips_report(cfg, good.get("train") or good.get("all") or []),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report["plots"] = write_plots(report, [s for g in good.values() for s in g][:n_samples], cfg, out)
    (out / "summary.json").write_text(json.dumps(report, indent=2))
    write_markdown(report, out / "summary.md")
    return report
