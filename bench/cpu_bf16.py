"""Does bf16 autocast on the CPU train models as good as full precision, and how much faster? Real data.

Trains the study's baseline (seed 001's recipe in the space, the final stage's augmentation) for N epochs
with ``train.amp`` off (fp32) and ``bf16``, same seed, same data order, and scores each best-validation model
on the untouched test split (``evaluate_model``: one confusion matrix at native resolution). Run one arm per
core to get both at once::

    taskset -c 0 python bench/cpu_bf16.py --space bench/data/real/mri_struct/space.yaml --epochs 40 --arms off --work /tmp/amp &
    taskset -c 1 python bench/cpu_bf16.py --space bench/data/real/mri_struct/space.yaml --epochs 40 --arms bf16 --work /tmp/amp

``--speed`` only times training steps of a few architectures on random data, fp32 against bf16 autocast, on
one thread (``taskset -c 0 python bench/cpu_bf16.py --speed``): what a CPU gains before any data is involved.
"""

from __future__ import annotations

import argparse
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

SPEED_CASES = [("unet", "resnet34", 96, 8), ("fpn", "resnet18", 128, 16), ("unetplusplus", "resnet34", 96, 8),
               ("segformer", "resnet34", 96, 8), ("manet", "resnet18", 96, 8)]


def step_ms(arch: str, encoder: str, size: int, batch: int, bf16: bool, steps: int = 6) -> float:
    import time

    import segmentation_models_pytorch as smp
    import torch

    torch.manual_seed(0)
    model = smp.create_model(arch, encoder_name=encoder, encoder_weights=None, classes=2)
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, 2, (batch, size, size))
    opt = torch.optim.AdamW(model.parameters(), 1e-3)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1000


def speed() -> None:
    import torch

    from segsearch.training._device import cpu_has_native_bf16

    torch.set_num_threads(1)
    print(f"native bf16: {cpu_has_native_bf16()}; one thread; ms per training step")
    for arch, encoder, size, batch in SPEED_CASES:
        fp32, bf16 = step_ms(arch, encoder, size, batch, False), step_ms(arch, encoder, size, batch, True)
        print(f"{arch}/{encoder} {size}px batch {batch}: fp32 {fp32:.0f}, bf16 {bf16:.0f}, x{fp32 / bf16:.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--speed", action="store_true", help="only time training steps, fp32 against bf16")
    ap.add_argument("--space")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--arms", default="off,bf16", help="train.amp values")
    ap.add_argument("--work")
    args = ap.parse_args()
    if args.speed:
        return speed()
    if not (args.space and args.epochs and args.work):
        ap.error("--space, --epochs and --work are needed (or --speed)")
    work = Path(args.work)
    cfg, splits, params, data = baseline_of(args.space, work)
    for seed in (int(s) for s in args.seeds.split(",")):
        for arm in args.arms.split(","):
            name = f"{arm}_seed{seed}"
            out_file = work / f"{name}.json"
            if out_file.is_file():
                continue
            tcfg = TrainConfig.model_validate({**cfg.train.model_dump(), **params_to_settings(params),
                                               "seed": cfg.final.seed + seed, "epochs": args.epochs, "amp": arm})
            run_dir = work / name
            spec = RunSpec(train=tcfg, data=data, splits=splits, run_dir=run_dir, objective=cfg.study.objective,
                           keep_best=True, resume=False)
            result = train(spec)
            _write_model_folder(run_dir, cfg, StandInTrial(params, result.best_value), tcfg, data, splits)
            test = evaluate_model(run_dir, splits=splits)
            row = {"amp": arm, "seed": seed, "epochs": args.epochs, "best_epoch": result.best_epoch,
                   "val": result.best_value, "test": test["miou"], "seconds_per_epoch": result.seconds_per_epoch}
            print(name, json.dumps(row), flush=True)
            out_file.write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
