"""Independent scorer of the quality benchmark: one confusion matrix summed over a split at native resolution.

It reads images and masks itself (PIL/numpy: grey images repeated to RGB, masks mapped by the space's
``class_map``, binary masks foreground = non-zero), predicts every image of the split with the model's
own inference, and reports:

* ``miou``: the class mean of IoU = TP / (TP + FP + FN) from the summed confusion matrix, leaving out
  the classes absent from both ground truth and prediction over the whole split; binary: foreground IoU;
* ``per_class_iou``, ``confusion`` (rows true, columns predicted), predicted and true pixel shares;
* ``collapsed``: true when one class takes >= 99.5 % of the predicted pixels while the ground truth has
  more than 0.5 % elsewhere (a model that predicts one class everywhere).

Models: a segsearch model folder (``model.json``: ``segsearch.load_model(folder).predict_mask``) or a
``bench/recipe.py`` output (folder or ``model.pt``; the network's own forward pass). The split is the one
segsearch computes for the space (``segsearch.data.load_splits``); when the model folder records its
test list (segsearch ``splits.json``, the recipe's ``model.pt``) it is compared (``split_matches``).

Run (seconds for a few dozen test images on one core)::

    python bench/score.py --space bench/data/real/mri9/space.yaml --model STUDIES/real_mri9/final
    python bench/score.py --space bench/data/real/mri9/space.yaml --model OUT/recipe --out score.json
    python bench/score.py --space S --model STUDIES_A/<study>/final --against STUDIES_B/<study>/final
    python bench/score.py --selftest

``--against MODEL_B`` scores a second model on the same images and adds ``difference``: model minus
MODEL_B with the paired bootstrap interval of ``paired_difference``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

COLLAPSE_SHARE = 0.995


# --------------------------------------------------------------------------- reading


def read_image(path: str | Path) -> np.ndarray:
    """HxWx3 uint8 (grey repeated to RGB, alpha dropped), as segsearch and the recipe feed their models."""
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def read_mask(path: str | Path, mode: str, class_map: dict[int, int] | None = None) -> np.ndarray:
    """HxW int64 class indices: binary masks as 0/1 (any non-zero value is foreground), else ``class_map``
    applied to the raw values (unmapped values are kept)."""
    with Image.open(path) as im:
        raw = np.asarray(im)
    if raw.ndim != 2:
        raise ValueError(f"{path}: expected a single-channel mask, got shape {raw.shape}")
    raw = raw.astype(np.int64)
    if mode == "binary":
        return (raw > 0).astype(np.int64)
    if class_map:
        lut = np.arange(max(int(raw.max()), *class_map) + 1)
        for src, dst in class_map.items():
            lut[src] = dst
        raw = lut[raw]
    return raw


# --------------------------------------------------------------------------- metrics


def confusion(gt: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """k x k pixel counts, rows true class, columns predicted class."""
    if gt.shape != pred.shape:
        raise ValueError(f"prediction {pred.shape} and mask {gt.shape} differ in size")
    if gt.min() < 0 or gt.max() >= k or pred.min() < 0 or pred.max() >= k:
        raise ValueError(f"class index outside 0..{k - 1}")
    return np.bincount(gt.ravel() * k + pred.ravel(), minlength=k * k).reshape(k, k)


def headlines(cms: np.ndarray, binary: bool) -> np.ndarray:
    """The headline (foreground IoU, or the mean IoU of the classes present in truth or prediction) of each
    confusion matrix in a stack (..., C, C); NaN where no class is present."""
    cms = np.asarray(cms, np.float64)
    tp = np.diagonal(cms, axis1=-2, axis2=-1)
    union = cms.sum(-1) + cms.sum(-2) - tp
    iou = np.divide(tp, union, out=np.full_like(tp, np.nan), where=union > 0)
    if binary:
        return iou[..., 1]
    present = ~np.isnan(iou)
    return np.where(present.any(-1), np.nansum(iou, -1) / np.maximum(present.sum(-1), 1), np.nan)


def scores(cm: np.ndarray, names: Sequence[str], binary: bool) -> dict[str, Any]:
    """IoU per class, the headline mIoU and the collapse flag from a summed confusion matrix."""
    cm = np.asarray(cm, np.int64)
    tp, true, pred = np.diag(cm), cm.sum(1), cm.sum(0)
    union = true + pred - tp
    iou = [float(t / u) if u > 0 else None for t, u in zip(tp, union, strict=True)]  # None: absent in both
    present = [v for v in iou if v is not None]
    total = max(int(cm.sum()), 1)
    dominant = int(pred.argmax())
    collapsed = bool(pred[dominant] / total >= COLLAPSE_SHARE and true[dominant] / total < COLLAPSE_SHARE)
    headline = iou[1] if binary else (float(np.mean(present)) if present else None)
    return {
        "miou": headline,
        "metric": "foreground IoU" if binary else "class-mean IoU (classes absent from GT and prediction left out)",
        "class_mean_iou": float(np.mean(present)) if present else None,
        "per_class_iou": dict(zip(names, iou, strict=True)),
        "classes_scored": len(present),
        "pixel_accuracy": float(tp.sum() / total),
        "true_share": {n: round(float(v / total), 5) for n, v in zip(names, true, strict=True)},
        "predicted_share": {n: round(float(v / total), 5) for n, v in zip(names, pred, strict=True)},
        "collapsed": collapsed,
        "collapsed_to": names[dominant] if collapsed else None,
        "confusion": cm.tolist(),
    }


# --------------------------------------------------------------------------- models


def load_predictor(model: str | Path) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    """A function image (HxWx3 uint8) -> index mask (HxW), and what the model says of itself."""
    path = Path(model)
    if path.is_dir() and ((path / "model.json").is_file() or (path / "ensemble.json").is_file()):
        import segsearch

        m = segsearch.load_model(path)
        info = {"kind": "segsearch", "classes": m.classes, "mode": m.mode}
        test = _recorded_test(path)
        if test is not None:
            info["test_images"] = test
        return m.predict_mask, info
    file = path / "model.pt" if path.is_dir() else path
    return _recipe_predictor(file)


def _recorded_test(folder: Path) -> list[str] | None:
    splits = folder / "splits.json"
    if not splits.is_file() and (folder / "member_0" / "splits.json").is_file():
        splits = folder / "member_0" / "splits.json"
    return [d["image"] for d in json.loads(splits.read_text())["test"]] if splits.is_file() else None


def _recipe_predictor(file: Path) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    import segmentation_models_pytorch as smp
    import torch

    ckpt = torch.load(file, map_location="cpu", weights_only=False)
    binary = ckpt["mode"] == "binary"
    net = smp.create_model(ckpt["architecture"], encoder_name=ckpt["encoder"], encoder_weights=None,
                           in_channels=ckpt["in_channels"], classes=1 if binary else len(ckpt["classes"]))
    net.load_state_dict(ckpt["state_dict"])
    net.eval()
    mean = torch.tensor(ckpt["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(ckpt["std"], dtype=torch.float32).view(1, -1, 1, 1)

    size = tuple(ckpt.get("image_size") or ())

    def predict(image: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        h, w = x.shape[-2:]
        resize = len(size) == 2 and (h, w) != size  # the recipe trains on images resized to its size: predict so
        if resize:
            x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        sh, sw = x.shape[-2:]
        ph, pw = -sh % 32, -sw % 32  # Unet needs sides divisible by 32
        x = torch.nn.functional.pad((x - mean) / std, (0, pw, 0, ph), mode="reflect")
        with torch.inference_mode():
            logits = net(x)[:, :, :sh, :sw]
            if resize:
                logits = torch.nn.functional.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
        logits = logits[0]
        return (logits[0] > 0).long().numpy() if binary else logits.argmax(0).numpy()

    info = {k: ckpt[k] for k in ("architecture", "encoder", "classes", "mode", "best_epoch", "val_miou", "epochs")
            if k in ckpt}
    info["kind"] = "recipe"
    if "test_images" in ckpt:
        info["test_images"] = ckpt["test_images"]
    return predict, info


# --------------------------------------------------------------------------- scoring


def split_samples(space: str | Path, split: str = "test") -> tuple[Any, list[Any]]:
    """The space's config and the samples of one split, as segsearch computes them."""
    from segsearch.config import load_config
    from segsearch.data import load_splits

    cfg = load_config(space)
    with tempfile.TemporaryDirectory() as tmp:  # load_splits caches its file check under <dir>/_data
        splits = load_splits(cfg.data, tmp)
    return cfg, list(getattr(splits, split))


def score_model(space: str | Path, model: str | Path, split: str = "test") -> dict[str, Any]:
    cfg, samples = split_samples(space, split)
    predict, info = load_predictor(model)
    binary = cfg.data.mode == "binary"
    names = ["background", *cfg.data.classes] if binary else list(cfg.data.classes)
    k = len(names)
    per_image = []
    for s in samples:
        gt = read_mask(s.mask, cfg.data.mode, cfg.data.class_map)
        per_image.append(confusion(gt, np.asarray(predict(read_image(s.image)), np.int64), k))
    cm = np.sum(per_image, axis=0) if per_image else np.zeros((k, k), np.int64)
    out = {"model": str(model), "model_kind": info.get("kind"), "space": str(space), "split": split,
           "images": len(samples), "pixels": int(cm.sum()), **scores(cm, names, binary),
           "image_confusions": [c.tolist() for c in per_image], "images_in_order": [str(s.image) for s in samples]}
    recorded = info.pop("test_images", None)
    if recorded is not None and split == "test":
        out["split_matches"] = sorted(map(str, recorded)) == sorted(str(s.image) for s in samples)
    out["model_info"] = info
    return out


def paired_difference(a: dict[str, Any], b: dict[str, Any], resamples: int = 2000, seed: int = 0,
                      level: float = 0.95) -> dict[str, Any]:
    """Model a's headline minus model b's on the same split, with a paired percentile bootstrap interval:
    each resample draws the split's images with replacement and scores both models on the same draw. An
    interval that holds 0 means the split cannot tell the two apart."""
    if a["images_in_order"] != b["images_in_order"]:
        raise ValueError("paired_difference: the two scores are not over the same images in the same order")
    ca, cb = np.asarray(a["image_confusions"], np.int64), np.asarray(b["image_confusions"], np.int64)
    binary = a["metric"] == "foreground IoU"
    n = len(ca)
    idx = np.random.default_rng(seed).integers(0, n, (resamples, n))
    d = np.concatenate([headlines(ca[chunk].sum(1), binary) - headlines(cb[chunk].sum(1), binary)
                        for chunk in np.array_split(idx, max(1, resamples // 100))])  # ~100 resamples at a time
    d = d[~np.isnan(d)]
    lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2]) if len(d) else (float("nan"), float("nan"))
    difference = float(headlines(ca.sum(0), binary) - headlines(cb.sum(0), binary))
    return {"difference": difference, "low": float(lo), "high": float(hi), "level": level,
            "images": n, "verdict": "better" if lo > 0 else "worse" if hi < 0 else "not told apart"}


def pooled_difference(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]], resamples: int = 2000, seed: int = 0,
                      level: float = 0.95) -> dict[str, Any]:
    """Over several trainings (seeds) of both models on the same split: the mean of the seeds' differences (a
    minus b), with a two-level percentile bootstrap interval that resamples both sources of noise. Each
    resample draws the seeds with replacement, then the split's images with replacement, one draw of images
    for every seed (the images are the same, so the pairs stay paired by image). With few seeds the seed
    draw makes the interval wide on purpose: three seeds cannot say much about a fourth."""
    if not pairs:
        raise ValueError("pooled_difference: no pairs")
    order = pairs[0][0]["images_in_order"]
    if any(x["images_in_order"] != order for pair in pairs for x in pair):
        raise ValueError("pooled_difference: the scores are not all over the same images in the same order")
    binary = pairs[0][0]["metric"] == "foreground IoU"
    ca = np.asarray([a["image_confusions"] for a, _ in pairs], np.int64)  # (seeds, images, C, C)
    cb = np.asarray([b["image_confusions"] for _, b in pairs], np.int64)
    s, n = ca.shape[:2]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        si, ii = rng.integers(0, s, s), rng.integers(0, n, n)
        d = headlines(ca[si][:, ii].sum(1), binary) - headlines(cb[si][:, ii].sum(1), binary)
        if not np.isnan(d).all():
            draws.append(float(np.nanmean(d)))
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2]) if draws else (float("nan"), float("nan"))
    by_seed = headlines(ca.sum(1), binary) - headlines(cb.sum(1), binary)
    return {"difference": float(np.nanmean(by_seed)), "by_seed": [float(x) for x in by_seed], "low": float(lo),
            "high": float(hi), "level": level, "seeds": s, "images": n,
            "verdict": "better" if lo > 0 else "worse" if hi < 0 else "not told apart"}


# --------------------------------------------------------------------------- self-test


def selftest() -> None:
    """Constant-background predictor on imbalanced 9-class masks: mIoU = bg IoU / 9, flagged collapsed."""
    rng = np.random.default_rng(0)
    masks = []
    for _ in range(20):
        m = np.zeros((64, 64), np.int64)
        for c in range(1, 9):  # imbalanced: class c covers a square of side ~c+2 at a random place
            side = int(rng.integers(c, c + 5))
            y, x = rng.integers(0, 64 - side, 2)
            m[y:y + side, x:x + side] = c
        masks.append(m)
    names = [f"c{i}" for i in range(9)]
    cm = sum(confusion(m, np.zeros_like(m), 9) for m in masks)
    r = scores(cm, names, binary=False)
    bg_iou = r["per_class_iou"]["c0"]
    assert r["classes_scored"] == 9 and abs(r["miou"] - bg_iou / 9) < 1e-12, r
    assert r["collapsed"] and r["collapsed_to"] == "c0", r
    perfect = scores(sum(confusion(m, m, 9) for m in masks), names, binary=False)
    assert perfect["miou"] == 1.0 and not perfect["collapsed"]
    # a class absent from ground truth and prediction is left out, not counted as 0 or 1
    no8 = [np.where(m == 8, 0, m) for m in masks]
    r8 = scores(sum(confusion(m, np.where(m == 7, 0, m), 9) for m in no8), names, binary=False)
    kept = [v for v in r8["per_class_iou"].values() if v is not None]
    assert r8["per_class_iou"]["c8"] is None and r8["per_class_iou"]["c7"] == 0.0 and len(kept) == 8, r8
    assert abs(r8["miou"] - sum(kept) / 8) < 1e-12, r8
    # binary: the headline is the foreground IoU; 0/255 masks read as 0/1
    with tempfile.TemporaryDirectory() as tmp:
        raw = (masks[0] > 0).astype(np.uint8) * 255
        Image.fromarray(raw, mode="L").save(Path(tmp, "m.png"))
        gt = read_mask(Path(tmp, "m.png"), "binary")
        mc = read_mask(Path(tmp, "m.png"), "multiclass", {255: 1})
    assert set(np.unique(gt)) == {0, 1} and (gt == mc).all()
    half = gt.copy()
    half[:, :32] = 0
    rb = scores(confusion(gt, half, 2), ["background", "fg"], binary=True)
    fg = gt.sum()
    assert abs(rb["miou"] - half.sum() / fg) < 1e-12 and not rb["collapsed"], rb
    # the paired bootstrap: a model against itself is not told apart; a perfect one beats constant background
    def as_score(preds: list[np.ndarray]) -> dict[str, Any]:
        per = [confusion(m, p, 9) for m, p in zip(masks, preds, strict=True)]
        return {**scores(np.sum(per, axis=0), names, binary=False), "image_confusions": [c.tolist() for c in per],
                "images_in_order": [str(i) for i in range(len(per))]}

    same = paired_difference(as_score(masks), as_score(masks), resamples=200)
    assert same["difference"] == same["low"] == same["high"] == 0 and same["verdict"] == "not told apart", same
    better = paired_difference(as_score(masks), as_score([np.zeros_like(m) for m in masks]), resamples=200)
    assert better["verdict"] == "better" and better["low"] > 0.5, better
    # pooled over seeds: the same pair twice is as told apart as once; seeds that disagree are not told apart
    perfect_s, constant_s = as_score(masks), as_score([np.zeros_like(m) for m in masks])
    twice = pooled_difference([(perfect_s, constant_s)] * 2, resamples=200)
    assert twice["verdict"] == "better" and np.isclose(twice["difference"], better["difference"]), twice
    split = pooled_difference([(perfect_s, constant_s), (constant_s, perfect_s)], resamples=200)
    assert split["difference"] == 0 and split["low"] < 0 < split["high"], split
    for cm, two in ((confusion(masks[0], masks[1], 9), False), (confusion(gt, half, 2), True),
                    (np.zeros((9, 9), np.int64), False)):  # the resampling's headline is scores()'s headline
        h, want = headlines(cm, two), scores(cm, [str(i) for i in range(len(cm))], two)["miou"]
        assert (np.isnan(h) and want is None) or np.isclose(h, want), (h, want)
    print(f"selftest passed: constant background on 9 imbalanced classes (background {r['true_share']['c0']:.1%} "
          f"of pixels): bg IoU {bg_iou:.4f}, mIoU {r['miou']:.4f} = bg IoU / 9, collapsed={r['collapsed']}; "
          f"perfect 1.0; absent class left out; binary foreground IoU {rb['miou']:.4f}; paired bootstrap: a model "
          f"against itself 0 [0, 0], perfect against constant {better['difference']:.3f} "
          f"[{better['low']:.3f}, {better['high']:.3f}]; pooled over two seeds that disagree "
          f"{split['difference']:.3f} [{split['low']:.3f}, {split['high']:.3f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", help="search-space YAML of the dataset")
    ap.add_argument("--model", help="segsearch model folder, or recipe output folder / model.pt")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--against", help="a second model: adds the difference, --model minus this one, with its interval")
    ap.add_argument("--out", help="write the result JSON here too")
    ap.add_argument("--selftest", action="store_true", help="check the metric on synthetic masks and exit")
    args = ap.parse_args()
    if args.selftest:
        selftest()
        return
    if not args.space or not args.model:
        ap.error("--space and --model are required (or --selftest)")
    import torch

    torch.set_num_threads(1)
    res = score_model(args.space, args.model, args.split)
    if args.against:
        other = score_model(args.space, args.against, args.split)
        res["against"] = {"model": args.against, "miou": other["miou"], "collapsed": other["collapsed"],
                          "per_class_iou": other["per_class_iou"]}
        res["difference"] = paired_difference(res, other)
    text = json.dumps(res, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    print(f"{args.split} {res['metric']}: {res['miou']:.4f}" + ("  COLLAPSED" if res["collapsed"] else ""),
          file=sys.stderr)
    if args.against:
        d = res["difference"]
        print(f"against {args.against}: {res['against']['miou']:.4f}"
              + ("  COLLAPSED" if res["against"]["collapsed"] else "")
              + f"; difference {d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] {d['verdict']}"
              f" ({d['images']} images)", file=sys.stderr)


if __name__ == "__main__":
    main()
