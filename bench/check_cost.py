"""What the final stage's checks cost against what a budgeted run keeps back for them.

A run that ends a launch (the baseline alone, or the final model's continuation) stops early enough for the
checks that follow it: the flip check, the threshold sweep and the test evaluation (``final.check_passes``,
counted in validation passes). The run validates under bf16 on a CPU with native bf16; the checks evaluate in
full precision (``final.evaluate_model``). This script takes a model folder (``studies/<name>/final``), copies
it for each image size asked (the weights of a fully convolutional net run at any size), and times:

- a validation pass as the training loop runs it (bf16 autocast, images decoded once) and in full precision;
- what was kept back until 2026-12-05 (passes x bf16 pass x 1.5) and what is kept back now
  (passes x bf16 pass x the measured full-precision cost: ``training._loop._full_precision_cost``);
- the checks themselves, run as the final stage runs them (``choose_tta``, ``choose_threshold``,
  ``evaluate_model``), each loading the folder again.

Run from the repository root on a folder a launch wrote (one core like a pinned benchmark run: ``taskset``)::

    segsearch plan bench/data/real/nuclei --budget 3m --out /tmp/nuc.yaml
    segsearch launch /tmp/nuc.yaml --budget 3m --no-wandb --studies-dir /tmp/cc
    taskset -c 1 python bench/check_cost.py --model /tmp/cc/nuclei/final --sizes 64,128
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch
import yaml

from segsearch import rundir
from segsearch.data import SegDataset, build_transform
from segsearch.final import check_passes, choose_threshold, choose_tta, evaluate_model
from segsearch.final._evaluate import _folder_configs, load_model, splits_from_folder
from segsearch.training._device import make_runtime
from segsearch.training._loop import evaluate
from segsearch.training._metrics import MetricAccumulator


def _pass_seconds(model: torch.nn.Module, loader: torch.utils.data.DataLoader, amp: str, args: tuple, reps: int
                  ) -> float:
    """Mean seconds of a validation pass after a warm-up pass."""
    rt = make_runtime("cpu", amp, False)
    took = []
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        evaluate(model, loader, rt, MetricAccumulator(*args))
        took.append(time.perf_counter() - t0)
    return sum(took[1:]) / reps


def measure(folder: Path, size: int, reps: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model"
        shutil.copytree(folder, copy)
        doc = yaml.safe_load((copy / rundir.CONFIG).read_text())
        doc["data"]["image_size"] = size
        (copy / rundir.CONFIG).write_text(yaml.safe_dump(doc))
        model = load_model(copy, tta=False)
        data, tcfg = _folder_configs(model)
        splits = splits_from_folder(copy)
        ds = SegDataset(splits.val, data, build_transform("none", data.size_hw, train=False), [0.0], [1.0], cache=True)
        loader = torch.utils.data.DataLoader(ds, batch_size=tcfg.batch_size)
        args = (data.mode, 1 if data.mode == "binary" else data.num_classes, data.ignore_index, 0.5,
                tcfg.metric_reduction, tcfg.include_background)
        mixed = _pass_seconds(model, loader, "bf16", args, reps)
        full = _pass_seconds(model, loader, "off", args, reps)
        final = doc.get("final") or {}
        passes = check_passes(_Sections(data, final.get("tta", "auto"), final.get("threshold", "auto")), splits)
        t0 = time.perf_counter()
        choose_tta(copy, splits, final.get("tta", "auto"))
        choose_threshold(copy, splits, final.get("threshold", "auto"))
        evaluate_model(copy, splits=splits, write=False)
        checks = time.perf_counter() - t0
    return {"size": size, "bf16_pass": mixed, "fp32_pass": full, "cost": full / mixed, "passes": passes,
            "kept_old": passes * mixed * 1.5, "kept_now": passes * mixed * (full / mixed), "checks": checks}


class _Sections:
    """What ``check_passes`` reads of a search-space file: ``data`` and ``final.tta`` / ``final.threshold``."""

    def __init__(self, data, tta: str, threshold: str) -> None:
        self.data = data
        self.final = type("Final", (), {"tta": tta, "threshold": threshold})()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a model folder (studies/<name>/final)")
    ap.add_argument("--sizes", default="64,128", help="comma-separated image sizes to time it at")
    ap.add_argument("--reps", type=int, default=3, help="timed passes of each precision (after one warm-up)")
    args = ap.parse_args()
    print(f"torch threads {torch.get_num_threads()}")
    print("| px | bf16 pass s | fp32 pass s | fp32 / bf16 | check passes | kept (1.5x) s | kept (measured) s | checks took s |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(args.model, size, args.reps)
        print(f"| {size} | {r['bf16_pass']:.3f} | {r['fp32_pass']:.3f} | {r['cost']:.2f} | {r['passes']:.2f} | "
              f"{r['kept_old']:.2f} | {r['kept_now']:.2f} | {r['checks']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
