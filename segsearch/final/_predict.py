"""Inference on images of any size: sliding windows blended with Gaussian weights, optional flip TTA,
index masks and colour overlays written next to each other.

Windows are the training size and step by ``tile * (1 - overlap)``; each window's probabilities
are weighted by a Gaussian that falls to ~3e-4 at its border (sigma = tile / 8, as in nnU-Net),
so a pixel's result comes mostly from windows in which it sits near the centre and tile borders
leave no seams. Images smaller than a window are padded by reflection and cropped back.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
ProbFn = Callable[[torch.Tensor], torch.Tensor]


def to_unit_tensor(image: np.ndarray) -> torch.Tensor:
    """HxW or HxWxC array (uint8, uint16 or float in [0, 1]) as a 1xCxHxW float tensor in [0, 1]."""
    arr = image[:, :, None] if image.ndim == 2 else image
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32))[None]


def gaussian_weights(tile: tuple[int, int], sigma_scale: float = 1 / 8) -> torch.Tensor:
    """HxW blending weights: a Gaussian centred on the window, peak 1, strictly positive."""
    axes = []
    for n in tile:
        c = (n - 1) / 2
        sigma = max(n * sigma_scale, 1e-6)
        axes.append(torch.exp(-0.5 * ((torch.arange(n, dtype=torch.float32) - c) / sigma) ** 2))
    w = axes[0][:, None] * axes[1][None, :]
    w = w / w.max()
    return w.clamp_min(float(w[w > 0].min()))


def window_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Window offsets covering ``length``; the last window is flush with the end."""
    if length <= tile:
        return [0]
    step = max(1, int(round(tile * (1 - overlap))))
    starts = list(range(0, length - tile + 1, step))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def _pad_to(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    ph, pw = max(h - x.shape[-2], 0), max(w - x.shape[-1], 0)
    if not ph and not pw:
        return x
    mode = "reflect" if ph < x.shape[-2] and pw < x.shape[-1] else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def with_flips(prob_fn: ProbFn, axes: Sequence[str] = ("horizontal", "vertical")) -> ProbFn:
    """Test-time augmentation: the mean over the identity and its flip along each of ``axes`` (the flips
    the model trained with, ``model.json: flips``)."""
    dims = [d for a, d in (("horizontal", (3,)), ("vertical", (2,))) if a in axes]

    def tta(x: torch.Tensor) -> torch.Tensor:
        out = prob_fn(x)
        for d in dims:
            out = out + prob_fn(x.flip(d)).flip(d)
        return out / (1 + len(dims))

    return tta


def sliding_window(prob_fn: ProbFn, x: torch.Tensor, tile: tuple[int, int], overlap: float = 0.5,
                   batch_size: int = 8, blend: str = "gaussian") -> torch.Tensor:
    """Probabilities KxHxW of a 1xCxHxW image by windows of ``tile``, blended (``gaussian`` or ``mean``)."""
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if blend not in ("gaussian", "mean"):
        raise ValueError(f"unknown blend {blend!r}; valid: gaussian, mean")
    h, w = x.shape[-2:]
    th, tw = tile
    xp = _pad_to(x, th, tw)
    hp, wp = xp.shape[-2:]
    boxes = [(y, x0) for y in window_starts(hp, th, overlap) for x0 in window_starts(wp, tw, overlap)]
    weight = gaussian_weights(tile).to(x.device) if blend == "gaussian" else torch.ones(tile, device=x.device)
    acc: torch.Tensor | None = None
    norm = torch.zeros((hp, wp), device=x.device)
    for i in range(0, len(boxes), batch_size):
        chunk = boxes[i:i + batch_size]
        probs = prob_fn(torch.cat([xp[:, :, y:y + th, x0:x0 + tw] for y, x0 in chunk]))
        if acc is None:
            acc = torch.zeros((probs.shape[1], hp, wp), device=x.device)
        for p, (y, x0) in zip(probs, chunk, strict=True):
            acc[:, y:y + th, x0:x0 + tw] += p * weight
            norm[y:y + th, x0:x0 + tw] += weight
    assert acc is not None  # at least one window always exists
    return (acc / norm)[:, :h, :w]


def resized(prob_fn: ProbFn, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Probabilities KxHxW of the image resized to ``size`` (as training and validation resize it), resized back."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return prob_fn(x)[0]
    small = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    probs = prob_fn(small.clamp(0, 1))
    return torch.nn.functional.interpolate(probs, size=(h, w), mode="bilinear", align_corners=False)[0]


def whole_image(prob_fn: ProbFn, x: torch.Tensor, multiple: int = 32) -> torch.Tensor:
    """Probabilities KxHxW from one pass over the whole image (padded to a multiple of the stride)."""
    h, w = x.shape[-2:]
    hp, wp = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    return prob_fn(_pad_to(x, hp, wp))[0, :, :h, :w]


def predict_probabilities(model: Any, image: np.ndarray, tile: int | tuple[int, int] | None = None,
                          overlap: float = 0.5, tta: bool | None = None, batch_size: int = 8,
                          whole: bool = False) -> np.ndarray:
    """Class probabilities (KxHxW float32) of a loaded model or ensemble for one image, at the scale it was
    trained at. A model trained on whole images resized to its training size (``model.json: inference:
    resize``, ``data.crop: false``) sees the image resized the same way, and its probabilities are resized
    back; one trained on random crops at native resolution (``sliding_window``) slides windows of its
    training size over the image. ``tile`` forces sliding windows of that size, ``whole`` one pass over the
    image at native resolution.
    """
    x = to_unit_tensor(image).to(next(model.parameters()).device)
    use = model.tta if tta is None else tta  # None: as the model folder records
    fn = with_flips(model.single_pass, model.flips) if use else model.single_pass
    with torch.inference_mode():
        if whole:
            probs = whole_image(fn, x, model.stride)
        elif tile is None and model.meta.get("inference") == "resize":
            probs = resized(fn, x, model.image_size)
        else:
            size = (model.image_size if tile is None else (tile, tile) if isinstance(tile, int)
                    else cast(tuple[int, int], tuple(tile)))
            probs = sliding_window(fn, x, size, overlap, batch_size)
    return probs.float().cpu().numpy()


def to_mask(probs: np.ndarray, mode: str, threshold: float = 0.5) -> np.ndarray:
    """Index mask HxW (multiclass: argmax; binary: foreground above ``threshold``), or KxHxW 0/1 (multilabel)."""
    if mode == "multiclass":
        idx = probs.argmax(0)
        return idx.astype(np.uint8 if probs.shape[0] <= 256 else np.uint16)
    return (probs[0] > threshold).astype(np.uint8) if mode == "binary" else (probs > threshold).astype(np.uint8)


# --------------------------------------------------------------------------- files


def iter_images(inputs: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """(image, path relative to its input) for files and, recursively, folders of images."""
    for item in map(Path, inputs):
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                if p.is_file() and p.suffix.lower() in IMAGE_EXTS:
                    yield p, p.relative_to(item)
        elif item.is_file():
            yield item, Path(item.name)
        else:
            raise FileNotFoundError(f"{item}: no such image or folder")


def _lut(model: Any) -> np.ndarray:
    names = model.classes if model.mode != "binary" else ["background", *model.classes]
    colors = model.colors
    lut = np.zeros((max(len(names), 1), 3), np.uint8)
    for i, n in enumerate(names):
        lut[i] = colors.get(n, (255, 255, 255))
    return lut


def save_mask(mask: np.ndarray, lut: np.ndarray, path: Path) -> None:
    """An index mask as a palette PNG: the pixel values are the class indices, the palette their colours."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if mask.dtype != np.uint8:
        Image.fromarray(mask.astype(np.uint16)).save(path)
        return
    im = Image.fromarray(mask, mode="P")
    palette = np.zeros((256, 3), np.uint8)
    palette[: len(lut)] = lut[:256]
    im.putpalette(palette.ravel().tolist())
    im.save(path)


def overlay(image: np.ndarray, mask: np.ndarray, lut: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The image (as 8-bit RGB) with each non-black class colour blended in."""
    rgb = _display_rgb(image).astype(np.float32)
    if mask.ndim == 3:  # multilabel: paint each active class, later classes on top
        color, painted = np.zeros_like(rgb), np.zeros(mask.shape[1:], bool)
        for k in range(mask.shape[0]):
            on = mask[k] > 0
            color[on], painted[on] = lut[k], True
    else:
        color = lut[np.clip(mask, 0, len(lut) - 1)].astype(np.float32)
        painted = color.any(-1)
    rgb[painted] = (1 - alpha) * rgb[painted] + alpha * color[painted]
    return rgb.clip(0, 255).astype(np.uint8)


def _display_rgb(image: np.ndarray) -> np.ndarray:
    arr = image[:, :, None] if image.ndim == 2 else image
    arr = arr[:, :, :3] if arr.shape[2] >= 3 else np.repeat(arr[:, :, :1], 3, axis=2)
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.integer):
        return (arr.astype(np.float32) / np.iinfo(arr.dtype).max * 255).astype(np.uint8)
    return (arr.clip(0, 1) * 255).astype(np.uint8)


def predict_paths(model: Any, inputs: Sequence[str | Path], out: str | Path, tile: int | None = None,
                  overlap: float = 0.5, tta: bool | None = None, overlays: bool = True, whole: bool = False,
                  progress: bool | None = None) -> list[dict[str, str]]:
    """Predict every image under ``inputs``; write ``<stem>_mask.png`` (and ``<stem>_overlay.png``) to ``out``,
    keeping the sub-folders of folder inputs. Returns one record per image."""
    from PIL import Image

    from ..data import read_image

    out = Path(out)
    items = list(iter_images(inputs))
    if not items:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTS)}) under {', '.join(map(str, inputs))}")
    lut = _lut(model)
    names = model.classes
    records = []
    for src, rel in _progress(items, progress):
        image = read_image(src, model.meta["in_channels"], model.meta.get("bands"))
        probs = predict_probabilities(model, image, tile=tile, overlap=overlap, tta=tta, whole=whole)
        mask = to_mask(probs, model.mode, model.meta.get("threshold", 0.5))
        base = out / rel.parent / rel.stem
        rec = {"image": str(src)}
        if mask.ndim == 3:
            for k, name in enumerate(names):
                save_mask(mask[k], np.array([[0, 0, 0], lut[k]], np.uint8), Path(f"{base}_{name}_mask.png"))
            rec["mask"] = f"{base}_<class>_mask.png"
        else:
            save_mask(mask, lut, Path(f"{base}_mask.png"))
            rec["mask"] = f"{base}_mask.png"
        if overlays:
            Image.fromarray(overlay(image, mask, lut)).save(f"{base}_overlay.png")
            rec["overlay"] = f"{base}_overlay.png"
        records.append(rec)
    return records


def _progress(items: list[tuple[Path, Path]], show: bool | None) -> Iterator[tuple[Path, Path]]:
    show = sys.stderr.isatty() if show is None else show
    if not show:
        for i, item in enumerate(items, 1):
            log.info("predict %d/%d: %s", i, len(items), item[0])
            yield item
        return
    from rich.console import Console
    from rich.progress import track

    yield from track(items, description="predicting", total=len(items), console=Console(stderr=True))


__all__ = ["IMAGE_EXTS", "gaussian_weights", "iter_images", "overlay", "predict_paths", "predict_probabilities",
           "save_mask", "sliding_window", "to_mask", "to_unit_tensor", "whole_image", "window_starts", "with_flips"]
