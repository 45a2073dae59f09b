"""A trained trial's validation predictions and confusion matrix as pictures, shared by W&B, the dashboard
artifacts and the report.

``predict_samples`` reads a trial folder (its ``config.yaml`` and ``best.pt``, else ``last.pt``) and predicts a
few validation images on the CPU; ``overlay`` draws a class-index mask over an image; ``prediction_grid``
writes an image | ground truth | prediction PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .. import rundir
from ..config import DataConfig, TrainConfig

# tab10 without its grey, then a few more: distinct on photos, stable across runs.
_PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120), (152, 223, 138),
    (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (219, 219, 141), (158, 218, 229),
], np.uint8)


@dataclass(frozen=True)
class Prediction:
    """One validation image as the model saw it, its target and the model's output, as class indices."""

    name: str
    image: np.ndarray  # HxWx3 uint8
    truth: np.ndarray  # HxW int64 indices into ``mask_names`` (ignored pixels: -1)
    pred: np.ndarray  # HxW int64


def mask_names(data: DataConfig) -> list[str]:
    """What each mask index means: the classes, plus a background for binary and an empty label for multilabel."""
    if data.mode == "binary":
        return ["background", data.classes[0]]
    if data.mode == "multilabel":
        return ["none", *data.classes]
    return list(data.classes)


def palette(data: DataConfig) -> np.ndarray:
    """(K, 3) uint8 colours for the mask indices: ``data.colors`` where given, a fixed palette elsewhere."""
    names = mask_names(data)
    colors = np.array([_PALETTE[i % len(_PALETTE)] for i in range(len(names))], np.uint8)
    for i, name in enumerate(names):
        if data.colors and name in data.colors:
            colors[i] = data.colors[name]
    return colors


def overlay(image: np.ndarray, mask: np.ndarray, colors: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """RGB uint8: ``image`` with every mask index above 0 blended in its colour (0 and ignored pixels clear)."""
    out = image.astype(np.float32)
    draw = (mask > 0) & (mask < len(colors))
    out[draw] = (1 - alpha) * out[draw] + alpha * colors[mask[draw]].astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def run_configs(run_dir: Path) -> tuple[TrainConfig, DataConfig]:
    """The resolved training and data settings a trial folder records in ``config.yaml``."""
    doc = yaml.safe_load((Path(run_dir) / rundir.CONFIG).read_text())
    return TrainConfig.model_validate(doc["train"]), DataConfig.model_validate(doc["data"])


def checkpoint_path(run_dir: Path) -> Path | None:
    """``best.pt`` (model at the best epoch), else ``last.pt``, else None."""
    for name in (rundir.BEST, rundir.LAST):
        if (Path(run_dir) / name).is_file():
            return Path(run_dir) / name
    return None


def predict_samples(run_dir: Path, samples: Sequence[Any], n: int = 4) -> list[Prediction]:
    """Predict the first ``n`` of ``samples`` with the trial's saved model (CPU). Empty without a checkpoint."""
    ckpt = checkpoint_path(run_dir)
    if ckpt is None or n <= 0 or not samples:
        return []
    import torch

    from ..components import build_model, preprocessing
    from ..data import SegDataset, build_transform

    tcfg, data = run_configs(run_dir)
    model = build_model(tcfg.architecture, tcfg.encoder, None, tcfg.encoder_depth, data.in_channels,
                        data.num_classes, dict(tcfg.architecture_params))
    model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=False)["model"])
    model.eval()
    pre = preprocessing(tcfg.encoder, tcfg.encoder_weights)
    ds = SegDataset(list(samples)[:n], data, build_transform("none", data.size_hw, train=False), pre["mean"],
                    pre["std"], cache=False)
    out = []
    with torch.inference_mode():
        for i in range(len(ds)):
            img, label = ds.augmented(i)
            x, _ = ds.to_tensors(img, label, img.dtype)
            logits = model(x[None].float())[0]
            out.append(Prediction(Path(ds.samples[i].image).name, _to_rgb(img),
                                  _label_index(label, data), _predicted_index(logits, data, tcfg.threshold)))
    return out


def _to_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = img[:, :, None]
    if img.dtype != np.uint8:
        img = (np.clip(img.astype(np.float32), 0, 1) * 255).astype(np.uint8)
    return np.repeat(img[:, :, :1], 3, axis=2) if img.shape[2] < 3 else np.ascontiguousarray(img[:, :, :3])


def _label_index(label: np.ndarray, data: DataConfig) -> np.ndarray:
    if data.mode == "multilabel":
        return _first_label(label.astype(bool))
    idx = label.astype(np.int64)
    top = 2 if data.mode == "binary" else data.num_classes
    idx[(idx < 0) | (idx >= top)] = -1  # ignore_index and anything unexpected
    return idx


def _predicted_index(logits: Any, data: DataConfig, threshold: float) -> np.ndarray:
    if data.mode == "multiclass":
        return logits.argmax(0).numpy().astype(np.int64)
    on = (logits.sigmoid() > threshold).numpy()
    if data.mode == "binary":
        return on[0].astype(np.int64)
    return _first_label(on.transpose(1, 2, 0))


def _first_label(on: np.ndarray) -> np.ndarray:
    """HxWxC booleans -> HxW index of the first class that is on (+1), 0 where none is."""
    return np.where(on.any(-1), on.argmax(-1) + 1, 0).astype(np.int64)


def prediction_grid(preds: Sequence[Prediction], data: DataConfig, path: Path, title: str | None = None) -> Path:
    """A PNG with one row per image: the image, its ground truth and the prediction, with a class legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colors, names = palette(data), mask_names(data)
    rows = max(len(preds), 1)
    fig, axes = plt.subplots(rows, 3, figsize=(7.5, 2.5 * rows + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for row, p in zip(axes, preds, strict=False):
        for ax, pic, label in ((row[0], p.image, p.name), (row[1], overlay(p.image, p.truth, colors), "ground truth"),
                               (row[2], overlay(p.image, p.pred, colors), "prediction")):
            ax.imshow(pic)
            ax.set_title(label, fontsize=8)
    handles = [Patch(color=colors[i] / 255, label=n) for i, n in enumerate(names) if i > 0]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.35 / (2.5 * rows + 0.6), 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


__all__ = ["Prediction", "checkpoint_path", "mask_names", "overlay", "palette", "predict_samples",
           "prediction_grid", "run_configs"]


def confusion_figure(cm: Sequence[Sequence[float]], names: Sequence[str], path: Path, title: str) -> Path:
    """A PNG of a confusion matrix (rows: ground truth, columns: prediction): each cell's share of its true
    class, coloured, with the pixel count under it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(cm, np.float64)
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    side = 1.2 + 0.7 * len(names)
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(m)):
        for j in range(len(m)):
            ax.text(j, i, f"{share[i, j]:.2f}\n{int(m[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="ground truth", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def confusion_names(data: DataConfig, n: int) -> list[str]:
    """Row and column names of an ``n`` x ``n`` confusion matrix of ``data``."""
    names = mask_names(data)
    return names if len(names) == n else [str(i) for i in range(n)]
