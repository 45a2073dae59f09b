"""How low a learning rate is worth searching from scratch: the baseline's network and loss at a few learning
rates, each trained for the same epochs on a real dataset, no pruning.

Writes a copy of ``bench/data/real/<name>/space.yaml`` with a grid sampler over ``--lrs`` and everything else
fixed at seed 001's recipe (Unet / ResNet34, 0.7 CE + 0.3 Dice, AdamW, cosine), runs ``segsearch launch`` on
it, and prints ``bench/search_epochs.py``'s table (best validation objective per learning rate)::

    taskset -c 0 python bench/lr_floor.py --dataset mri_struct --epochs 20 --work /tmp/lr_floor
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.search_epochs import summarise  # noqa: E402


def space(name: str, lrs: list[float], epochs: int) -> dict:
    doc = yaml.safe_load((REPO / "bench" / "data" / "real" / name / "space.yaml").read_text())
    doc["study"].update(name=f"lr_floor_{name}", n_trials=len(lrs), sampler={"name": "grid"},
                        pruner={"name": "none"}, baseline="none")
    doc["train"].update(epochs=epochs, architecture="unet", encoder="resnet34", loss="ce+dice",
                        loss_params={"weight": 0.7}, weight_decay=1.0e-4)
    doc["search"] = {"lr": lrs}
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lrs", default="1e-5,3e-5,1e-4,1e-3")
    ap.add_argument("--work", type=Path, default=Path("/tmp/segsearch_bench/lr_floor"))
    args = ap.parse_args()
    work = args.work / args.dataset
    work.mkdir(parents=True, exist_ok=True)
    path = work / "space.yaml"
    path.write_text(yaml.safe_dump(space(args.dataset, [float(x) for x in args.lrs.split(",")], args.epochs),
                                   sort_keys=False))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SEGSEARCH_THREADS": "1", "WANDB_MODE": "disabled"}
    subprocess.run([sys.executable, "-m", "segsearch", "launch", str(path), "--studies-dir", str(work),
                    "--no-wandb"], check=True, env=env)
    for db in sorted(work.glob("*/study.db")):
        summarise(db)


if __name__ == "__main__":
    main()
