"""Fused optimizer kernel against torch's loop, on a real dataset's baseline (seed 001's recipe in its space).

    python bench/fused_optimizer.py --space bench/data/real/nuclei/space.yaml --epochs 3 --reps 2

Trains the baseline with segsearch's own loop (``training.train``) for ``--epochs`` epochs, alternately with the
default (Adam/AdamW/SGD fused where the device has the kernel) and with ``optimizer_params: {fused: false}``
(torch's per-tensor loop, its CPU default), ``--reps`` times each, A B A B. Reports the median seconds per epoch
(the first epoch of each run left out: it warms caches) and the ratio loop / fused, and each run's last
validation score (the two compute the same update, so they differ by float rounding only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import WORK, baseline_of, quiet_logs


def run(space: str, epochs: int, fused: bool, work: Path) -> tuple[list[float], float]:
    from segsearch.config import TrainConfig
    from segsearch.search._space import params_to_settings
    from segsearch.training import RunSpec, train

    cfg, splits, params, data = baseline_of(space, work)
    settings = {**cfg.train.model_dump(), **params_to_settings(params), "epochs": epochs, "seed": 0}
    if not fused:
        settings["optimizer_params"] = {**settings.get("optimizer_params", {}), "fused": False}
    tcfg = TrainConfig.model_validate(settings)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        result = train(RunSpec(train=tcfg, data=data.model_copy(update={"mosaic": 0.0}), splits=splits,
                               run_dir=Path(tmp), objective=cfg.study.objective, checkpoint=False))
    return [h.seconds for h in result.history], result.history[-1].objective


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--work", type=Path, default=WORK / "fused")
    args = ap.parse_args()
    quiet_logs()
    args.work.mkdir(parents=True, exist_ok=True)
    per_epoch: dict[bool, list[float]] = {True: [], False: []}
    for rep in range(args.reps):
        for fused in (True, False):
            secs, last = run(args.space, args.epochs, fused, args.work)
            per_epoch[fused] += secs[1:] or secs
            print(f"rep {rep} {'fused' if fused else 'loop '}: epochs {[round(s, 2) for s in secs]} s, "
                  f"last validation {last:.4f}", flush=True)
    f, loop = statistics.median(per_epoch[True]), statistics.median(per_epoch[False])
    print(f"median s/epoch: fused {f:.2f}, loop {loop:.2f}; loop / fused {loop / f:.3f}")


if __name__ == "__main__":
    main()
