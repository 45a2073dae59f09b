"""Is the validation split worth more as training data? A controlled experiment on real data.

Small datasets (66-160 training images here) lose a quarter of their data to validation. Mature AutoML
tools refit the chosen model on training + validation data at the end (AutoGluon's ``refit_full``,
auto-sklearn's ``refit``). This trains the study's baseline (seed 001's recipe in the space, the final
stage's augmentation) two ways per seed, at the same number of optimizer steps (the same time):

- ``train``: the training split for N epochs; the best-validation epoch is kept (what segsearch does);
- ``train+val``: training and validation splits for N * |train| / |train + val| epochs; the last epoch is kept
  (nothing is left to choose by).

Both are scored on the untouched test split by ``bench/score.py``'s confusion matrix at native resolution::

    python bench/refit.py --space bench/data/real/mri_struct/space.yaml --epochs 40 --seeds 0,1 --work /tmp/refit
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--arms", default="train,train+val")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    cfg, splits, params, data = baseline_of(args.space, work)
    n_tr, n_va = len(splits.train), len(splits.val)
    results_file = work / "refit.json"
    out = json.loads(results_file.read_text()) if results_file.is_file() else {}
    for seed in (int(s) for s in args.seeds.split(",")):
        for arm in args.arms.split(","):
            name = f"{arm}_seed{seed}"
            if name in out:
                continue
            both = arm == "train+val"
            epochs = round(args.epochs * n_tr / (n_tr + n_va)) if both else args.epochs
            tcfg = TrainConfig.model_validate({**cfg.train.model_dump(), **params_to_settings(params),
                                               "seed": cfg.final.seed + seed, "epochs": epochs})
            used = dataclasses.replace(splits, train=splits.train + splits.val) if both else splits
            run_dir = work / name
            spec = RunSpec(train=tcfg, data=data, splits=used, run_dir=run_dir, objective=cfg.study.objective,
                           keep_best=not both, resume=False)
            result = train(spec)
            if both:  # the last epoch's weights are the model
                import shutil

                shutil.copy(run_dir / "last.pt", run_dir / "best.pt")
            _write_model_folder(run_dir, cfg, StandInTrial(params, result.best_value), tcfg, data, splits)
            test = evaluate_model(run_dir, splits=splits)
            out[name] = {"epochs": epochs, "train_images": len(used.train), "best_epoch": result.best_epoch,
                         "val": result.best_value if not both else None, "test": test["miou"]}
            print(name, json.dumps(out[name]), flush=True)
            work.mkdir(parents=True, exist_ok=True)
            results_file.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
