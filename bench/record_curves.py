"""Record the learning curves of real trials once (bench/data/curves.json), for the pruning and search figures.

A grid of architecture x loss x learning rate, each trained with the real ``train()`` on the generated demo
scenes for a fixed number of epochs, no pruning. Runs ``--jobs`` trainings side by side, one thread each.

    python bench/record_curves.py            # about 10 minutes on 2 CPU cores
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, WORK, data_config, splits_for, train_config  # noqa: E402

ARCHS = ("unet", "fpn", "linknet")
LOSSES = ("ce", "dice")
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
DEMO = {"n_images": 64, "size": 32}
EPOCHS = 8


def _one(args: tuple[int, str, str, float]) -> dict:
    os.environ["SEGSEARCH_THREADS"] = "1"
    from segsearch.training import RunSpec, train

    i, arch, loss, lr = args
    dcfg = data_config(DEMO["n_images"], DEMO["size"], "light")
    tcfg = train_config(architecture=arch, loss=loss, lr=lr, epochs=EPOCHS, scheduler="cosine", seed=i)
    spec = RunSpec(train=tcfg, data=dcfg, splits=splits_for(dcfg), run_dir=WORK / "curves" / f"{i:03d}",
                   resume=False, checkpoint=False)
    t0 = time.perf_counter()
    res = train(spec)
    return {"config": {"architecture": arch, "loss": loss, "lr": lr}, "seed": i,
            "miou": [round(h.objective, 5) for h in res.history],
            "train_loss": [round(h.train_loss, 5) for h in res.history],
            "seconds": round(time.perf_counter() - t0, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DATA / "curves.json")
    args = ap.parse_args()
    dcfg = data_config(DEMO["n_images"], DEMO["size"], "light")
    sp = splits_for(dcfg)  # generate the demo data once, before the workers start
    grid = [(i, a, lo, lr) for i, (a, lo, lr) in enumerate(itertools.product(ARCHS, LOSSES, LRS))]
    t0 = time.perf_counter()
    curves = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for c in pool.map(_one, grid):
            curves.append(c)
            print(f"{c['config']} best {max(c['miou']):.4f} ({c['seconds']:.0f}s)", flush=True)
    doc = {"what": "validation mIoU per epoch of real segsearch trainings (no pruning)",
           "data": {"demo": DEMO, "train": len(sp.train), "val": len(sp.val), "augmentation": "light"},
           "train": {"encoder": "resnet18", "batch_size": 8, "epochs": EPOCHS, "scheduler": "cosine",
                     "optimizer": "adamw"},
           "space": {"architecture": list(ARCHS), "loss": list(LOSSES), "lr": list(LRS)},
           "seconds": round(time.perf_counter() - t0, 1), "curves": curves}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}: {len(curves)} curves in {doc['seconds']:.0f}s")


if __name__ == "__main__":
    main()
