"""PNG plots of ``inspect``: class distribution, image sizes, sample images with mask overlays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..config import DataConfig
from ._io import image_max, read_image
from ._labels import read_label
from ._layouts import Sample


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(report: dict[str, Any], samples: list[Sample], cfg: DataConfig, out: Path) -> dict[str, str]:
    paths = {"class_distribution": out / "class_distribution.png", "image_sizes": out / "image_sizes.png"}
    _class_distribution(report, paths["class_distribution"])
    _image_sizes(report, paths["image_sizes"])
    if samples:
        paths["samples"] = out / "samples.png"
        _sample_grid(samples, cfg, paths["samples"])
    return {k: str(v) for k, v in paths.items()}


def _class_distribution(report: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    names, splits = report["classes"], report["splits"]
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(names) * max(1, len(splits)) / 2), 3.5))
    width = 0.8 / max(len(splits), 1)
    x = np.arange(len(names))
    for k, (split, rep) in enumerate(splits.items()):
        ax.bar(x + k * width, np.array(rep["pixels"]["shares"]) * 100, width, label=split)
    ax.set_xticks(x + width * (len(splits) - 1) / 2, names, rotation=30, ha="right")
    ax.set_ylabel("% of labelled pixels")
    ax.set_title("Pixels per class")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _image_sizes(report: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    sizes: dict[str, int] = {}
    splits = report["splits"]
    for rep in ([splits["all"]] if "all" in splits else splits.values()):  # "all" already holds the rest
        for size, n in rep["image_sizes"].items():
            sizes[size] = sizes.get(size, 0) + n
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:20]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    ax.set_xlabel("images")
    ax.set_title("Image sizes (W x H)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def overlay(img: np.ndarray, label: np.ndarray, cfg: DataConfig, alpha: float = 0.45) -> np.ndarray:
    """An RGB uint8 view of an image with its target drawn in class colours (background left clear)."""
    plt = _pyplot()
    rgb = img.astype(np.float32) / image_max(img.dtype)
    rgb = np.repeat(rgb[:, :, :1], 3, axis=2) if rgb.shape[2] < 3 else rgb[:, :, :3]
    idx = label.argmax(-1) + 1 if label.ndim == 3 else label.astype(np.int64)
    if label.ndim == 3:
        idx[label.max(-1) == 0] = 0
    palette = np.asarray(plt.get_cmap("tab20").colors, np.float32)
    colour = palette[idx % len(palette)]
    draw = (idx > 0) & (idx < 256) & (idx != (cfg.ignore_index if cfg.ignore_index is not None else -1))
    rgb[draw] = (1 - alpha) * rgb[draw] + alpha * colour[draw]
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _sample_grid(samples: list[Sample], cfg: DataConfig, path: Path) -> None:
    plt = _pyplot()
    cols = min(4, len(samples))
    rows = -(-len(samples) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, s in zip(axes.ravel(), samples, strict=False):
        ax.imshow(overlay(read_image(s.image, cfg.in_channels, cfg.bands), read_label(s, cfg), cfg))
        ax.set_title(s.image.name, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
