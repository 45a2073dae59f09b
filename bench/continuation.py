"""How should the final stage continue a trial whose cosine schedule has ended? A controlled experiment on real data.

Trains the study's baseline (seed 001's recipe in the space) for N epochs with the search's augmentation, as
a trial does, then continues its last checkpoint for M epochs with the final augmentation in three ways, and
trains one schedule of N + M epochs from scratch for reference:

- ``restart``: a warm restart, cosine from the trial's own lr to 0 over M epochs (the final stage up to now);
- ``tail``: cosine from the lr that one schedule of N + M epochs would have at epoch N, to 0 over M epochs
  (the tail of the long schedule the trial and its continuation together approximate);
- ``low``: cosine from 0.3x the trial's lr (what the final stage used for converged trials before run 4);
- ``scratch``: one cosine schedule of N + M epochs from scratch, with the final augmentation;
- ``fresh``: one cosine schedule of M epochs from scratch, with the final augmentation (what the final stage can
  train in the M epochs it has, instead of continuing the trial);
- ``wsd``: the trial trained with ``scheduler: wsd`` instead (the peak rate for its first 80% of N epochs, then
  a linear decay, run as ``wsd_trial``), continued from its last epoch at the peak rate (the decay's start) for M
  epochs of a WSD schedule: N * 0.8 + M epochs in the final model, the trial's decay spent on ranking only;
- ``wsd_scratch``: one WSD schedule of N + M epochs from scratch, with the final augmentation.

A run named with ``_light`` (``restart_light``, ``fresh_light``, ...) uses the search's augmentation (the
trial's) instead of the final one.

Counts epochs, not seconds, so a busy core changes only the wall time. Each run's best-validation weights
are scored on the test split by ``bench/score.py``'s confusion matrix::

    python bench/continuation.py --space bench/data/real/mri_struct/space.yaml --trial-epochs 30 \\
        --more-epochs 41 --work /tmp/cont --runs restart,tail,scratch
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import StandInTrial, baseline_of
from segsearch.config import TrainConfig
from segsearch.final import evaluate_model
from segsearch.final._folder import _write_model_folder
from segsearch.search._space import params_to_settings
from segsearch.training import RunSpec, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--space", required=True)
    ap.add_argument("--trial-epochs", type=int, default=30)
    ap.add_argument("--more-epochs", type=int, default=41)
    ap.add_argument("--runs", default="restart,tail,scratch")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    cfg, splits, params, final_data = baseline_of(args.space, work)
    base = TrainConfig.model_validate({**cfg.train.model_dump(), **params_to_settings(params), "seed": cfg.final.seed})
    n, m = args.trial_epochs, args.more_epochs
    out: dict[str, dict] = {}
    results_file = work / "continuation.json"
    if results_file.is_file():
        out = json.loads(results_file.read_text())

    def run(name: str, tcfg: TrainConfig, data, init: Path | None) -> Path:
        run_dir = work / name
        spec = RunSpec(train=tcfg, data=data, splits=splits, run_dir=run_dir, objective=cfg.study.objective,
                       maximize=True, keep_best=True, init_weights=init)
        result = train(spec)
        _write_model_folder(run_dir, cfg, StandInTrial(params, result.best_value), tcfg, data, splits)
        test = evaluate_model(run_dir, splits=splits)
        out[name] = {"epochs": tcfg.epochs, "lr": tcfg.lr, "val": result.best_value, "best_epoch": result.best_epoch,
                     "last_val": result.history[-1].objective, "test": test["miou"]}
        print(name, json.dumps(out[name]), flush=True)
        results_file.write_text(json.dumps(out, indent=2))
        # ~100-300 MB each: keep only what a later run continues from (six seeds of all runs filled 21 GB)
        for kept in ("stable.pt", *(() if name in ("trial", "wsd_stable") else ("last.pt",))):
            (run_dir / kept).unlink(missing_ok=True)
        return run_dir

    wanted = args.runs.split(",")
    augmentations = (("", final_data), ("_light", cfg.data))  # a run's name suffix and the data it trains on
    for aug, data in augmentations:
        if "scratch" + aug in wanted:
            run("scratch" + aug, base.model_copy(update={"epochs": n + m}), data, None)
        if "fresh" + aug in wanted:
            run("fresh" + aug, base.model_copy(update={"epochs": m}), data, None)
        if "wsd_scratch" + aug in wanted:
            run("wsd_scratch" + aug, base.model_copy(update={"epochs": n + m, "scheduler": "wsd"}), data, None)
    if any(w.startswith("wsd") and not w.startswith("wsd_scratch") for w in wanted):
        from segsearch.components._optim import WSD_DECAY, wsd_decay_start

        stable = wsd_decay_start(n, float(base.scheduler_params.get("decay", WSD_DECAY)))
        stable_dir = work / "wsd_stable"
        if not (stable_dir / "last.pt").is_file():
            run("wsd_stable", base.model_copy(update={"epochs": stable, "scheduler": "none"}), cfg.data, None)
        if "wsd_trial" in wanted:  # the trial's own decay, from the stable phase's end: what the study ranks
            decay = base.model_copy(update={"epochs": n - stable, "scheduler": "wsd", "scheduler_params": {"decay": 1.0}})
            run("wsd_trial", decay, cfg.data, stable_dir / "last.pt")
        for aug, data in augmentations:
            if "wsd" + aug in wanted:
                run("wsd" + aug, base.model_copy(update={"epochs": m, "scheduler": "wsd"}), data, stable_dir / "last.pt")
    if any(w.split("_")[0] in ("restart", "tail", "low") for w in wanted):
        trial_dir = work / "trial"
        if not (trial_dir / "last.pt").is_file():
            run("trial", base.model_copy(update={"epochs": n}), cfg.data, None)
        last = trial_dir / "last.pt"
        tail_lr = base.lr * (1 + math.cos(math.pi * n / (n + m))) / 2
        for name, lr in (("restart", base.lr), ("tail", tail_lr), ("low", 0.3 * base.lr)):
            for aug, data in augmentations:
                if name + aug in wanted:
                    run(name + aug, base.model_copy(update={"epochs": m, "lr": lr}), data, last)


if __name__ == "__main__":
    main()
