"""How a trained model does on mirrored and turned inputs, and what flip test-time augmentation does on test.

A model trained with horizontal and vertical flips (each with p = 0.5, independently) sees every image as
itself, mirrored left-right, mirrored top-bottom and turned 180 degrees equally often, so it should score
about the same on all four views. For each split this feeds every image in each view, maps the prediction
back, and scores it as ``bench/score.py`` does (one confusion matrix over the split at native resolution;
binary: foreground IoU, else the class mean). A model that scores its own training images far lower
mirrored than turned never saw mirror images. For segsearch model folders it also scores the test split
with and without flip TTA (``model.json: tta``), with the paired bootstrap interval of the difference.

    python bench/flip_check.py --space bench/data/real/mri_struct/space.yaml STUDIES/real_mri_struct/final OUT/recipe
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.score import (
    confusion,
    load_predictor,
    paired_difference,
    read_image,
    read_mask,
    score_model,
    scores,
    split_samples,
)

VIEWS = {"as is": (), "mirrored left-right": (1,), "mirrored top-bottom": (0,), "turned 180": (0, 1)}


def by_view(space: str, model: str, split: str) -> dict[str, float]:
    cfg, samples = split_samples(space, split)
    binary = cfg.data.mode == "binary"
    names = ["background", *cfg.data.classes] if binary else list(cfg.data.classes)
    folder = Path(model)
    if (folder / "model.json").is_file():  # the network alone: flip TTA would average the views away
        import segsearch

        predict = segsearch.load_model(folder, tta=False).predict_mask
    else:
        predict, _ = load_predictor(model)
    cms = {v: np.zeros((len(names), len(names)), np.int64) for v in VIEWS}
    for s in samples:
        gt = read_mask(s.mask, cfg.data.mode, cfg.data.class_map)
        image = read_image(s.image)
        for view, axes in VIEWS.items():
            seen = np.ascontiguousarray(np.flip(image, axes)) if axes else image
            pred = np.asarray(predict(seen), np.int64)
            cms[view] += confusion(gt, np.flip(pred, axes) if axes else pred, len(names))
    return {v: float(scores(cm, names, binary)["miou"] or 0.0) for v, cm in cms.items()}


def tta_on_test(space: str, model: str) -> dict[str, float] | None:
    folder = Path(model)
    if not (folder / "model.json").is_file():
        return None
    meta = json.loads((folder / "model.json").read_text())
    scored = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tta in (True, False):
            copy = Path(tmp) / f"tta_{tta}"
            shutil.copytree(folder, copy)
            (copy / "model.json").write_text(json.dumps({**meta, "tta": tta}))
            scored[tta] = score_model(space, copy)
    diff = paired_difference(scored[True], scored[False])
    return {"chosen": meta.get("tta"), "validation": meta.get("tta_val"), "test with": scored[True]["miou"],
            "test without": scored[False]["miou"], "difference": diff["difference"], "low": diff["low"],
            "high": diff["high"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", required=True)
    ap.add_argument("--splits", default="train,val,test")
    ap.add_argument("models", nargs="+", help="segsearch model folders or bench/recipe.py outputs")
    args = ap.parse_args()
    for model in args.models:
        print(model, flush=True)
        for split in args.splits.split(","):
            row = by_view(args.space, model, split)
            print(f"  {split:5s} " + " | ".join(f"{v} {x:.3f}" for v, x in row.items()), flush=True)
        tta = tta_on_test(args.space, model)
        if tta is not None:
            print(f"  flip TTA (chosen: {tta['chosen']}, validation {tta['validation']}): test {tta['test with']:.3f} "
                  f"with, {tta['test without']:.3f} without, {tta['difference']:+.3f} "
                  f"[{tta['low']:+.3f}, {tta['high']:+.3f}]", flush=True)


if __name__ == "__main__":
    main()
