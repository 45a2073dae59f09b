"""Record the learning curves of real trials once, for the pruning and search figures.

Two sources:

* the generated demo scenes (default): a grid of architecture x loss x learning rate, written to
  ``bench/data/curves.json``, ``--jobs`` trainings side by side, one thread each;
* a real dataset (``--dataset NAME``): the search space of ``bench/data/real/NAME/space.yaml`` (data,
  image size, the exact train/val/test split ``segsearch launch`` uses), a grid sampled from the
  architectures, encoders and losses ``search_spaces/arch_loss.yaml`` had (``GRID_SPACE``; every
  architecture and every loss at least once, learning rates 1e-4..1e-2 log), written to
  ``bench/data/curves_NAME.json``; ``--followup`` adds the ``FOLLOWUP`` runs;
* a real dataset with ``--grid table``: every architecture x loss of the shipped space at ``TABLE_LRS``,
  ``TABLE_ENCODER``, trained as ``--grid current`` trains, written to ``bench/data/curves_table_NAME.json``: a
  lookup table ``bench_search.py`` replays samplers on exactly;
* a real dataset with ``--grid current``: the grid is drawn from ``search_spaces/arch_loss.yaml`` as it is
  now, and each run trains the way ``segsearch launch`` would (``amp: auto``, so bf16 autocast on a CPU
  with hardware bf16; the space's batch size and augmentation), written to ``bench/data/curves_now_NAME.json``.

Every configuration is trained with segsearch's real ``train()`` from scratch (``encoder_weights: None``)
for a fixed number of epochs, no pruning. Per configuration the file holds the settings, the objective
per epoch (the study's: class-mean IoU, binary: foreground IoU), the collapse flag per epoch
(``EpochResult.collapsed``: one class predicted nearly everywhere), the training loss and the seconds
per epoch; per dataset the objective of the best one-class predictor on the validation split.

    python bench/record_curves.py                                # demo scenes, ~10 minutes on 2 cores
    taskset -c 1 python bench/record_curves.py --dataset nuclei --probe   # seconds per epoch, 1 epoch each
    taskset -c 1 python bench/record_curves.py --dataset nuclei          # ~20 minutes of one core
    taskset -c 1 python bench/record_curves.py --dataset mri_struct --grid current --configs 12 --epochs 12
    taskset -c 1 python bench/record_curves.py --dataset mri_struct --grid current --configs 12 --epochs 12 \
        --grid-seed 1 --resume                                   # 12 more configurations in the same file
    taskset -c 1 python bench/record_curves.py --dataset skin --grid current --configs 12 --epochs 24 \
        --out bench/data/curves_long_skin.json                   # the same first 12, each for 24 epochs
    taskset -c 0 python bench/record_curves.py --dataset skin --grid table --epochs 6
                                                                 # every architecture x loss at 3 rates (216 runs,
                                                                 # ~100 min): bench/data/curves_table_skin.json
    taskset -c 1 python bench/record_curves.py --dataset skin --grid current --configs 12 --epochs 12 --scheduler wsd \
        --ema 1,3 --out bench/data/curves_ema_skin.json          # the shipped schedule, with two weight averages
                                                                 # scored beside each run (half-lives 1, 3 epochs)
    taskset -c 1 python bench/record_curves.py --dataset skin --grid current --configs 12 --epochs 12 --scheduler wsd \
        --image-size 64 --out bench/data/curves_small_skin.json  # the same runs on images resized to 64 px

A real-data run writes the file after every configuration and, with ``--resume``, skips the
configurations already in it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BENCH, DATA, WORK, data_config, shipped, splits_for, train_config

ARCHS = ("unet", "fpn", "linknet")
LOSSES = ("ce", "dice")
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
DEMO = {"n_images": 64, "size": 32}
EPOCHS = 8

ROOT = BENCH.parent
REAL = DATA / "real"
REAL_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
# cheap on a CPU core (one epoch at 96 px, batch 16: ~1-2 s a batch; upernet, deeplabv3, unetplusplus 3-5 s)
LIGHT = ("unet", "fpn", "linknet", "pan", "segformer", "deeplabv3plus", "manet")
# a loss's searched parameters are fixed at a middle value of their arch_loss.yaml range
LOSS_PARAMS: dict[str, dict[str, Any]] = {"wce": {"class_weights": "auto"}, "focal": {"alpha": 0.5, "gamma": 2.0},
                                          "tversky": {"alpha": 0.5}, "ce+dice": {"weight": 0.5}}
# a follow-up to the grid: the recipe's loss and rate (ce+dice 0.5, lr 1e-3) on the architectures and
# encoders that collapsed in the grid, each next to a resnet18 twin, so the culprit can be told apart
FOLLOWUP = [("unet", "resnet18"), ("unet", "efficientnet-b0"), ("unet", "mobilenet_v2"), ("fpn", "mobilenet_v2"),
            ("deeplabv3plus", "resnet18"), ("deeplabv3plus", "efficientnet-b0"), ("deeplabv3", "resnet18"),
            ("pspnet", "resnet18")]
REAL_TRAIN = {"batch_size": 16, "optimizer": "adamw", "scheduler": "cosine", "weight_decay": 1e-4,
              "encoder_weights": None, "augmentation": "light"}


# ---------------------------------------------------------------- demo scenes (bench/data/curves.json)

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


def record_demo(jobs: int, out: Path) -> None:
    dcfg = data_config(DEMO["n_images"], DEMO["size"], "light")
    sp = splits_for(dcfg)  # generate the demo data once, before the workers start
    grid = [(i, a, lo, lr) for i, (a, lo, lr) in enumerate(itertools.product(ARCHS, LOSSES, LRS))]
    t0 = time.perf_counter()
    curves = []
    with ProcessPoolExecutor(jobs) as pool:
        for c in pool.map(_one, grid):
            curves.append(c)
            print(f"{c['config']} best {max(c['miou']):.4f} ({c['seconds']:.0f}s)", flush=True)
    doc = {"what": "validation mIoU per epoch of real segsearch trainings (no pruning)",
           "data": {"demo": DEMO, "train": len(sp.train), "val": len(sp.val), "augmentation": "light"},
           "train": {"encoder": "resnet18", "batch_size": 8, "epochs": EPOCHS, "scheduler": "cosine",
                     "optimizer": "adamw"},
           "space": {"architecture": list(ARCHS), "loss": list(LOSSES), "lr": list(LRS)},
           "seconds": round(time.perf_counter() - t0, 1), "curves": curves}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}: {len(curves)} curves in {doc['seconds']:.0f}s")


# ---------------------------------------------------------------- real datasets (bench/data/curves_NAME.json)

# search_spaces/arch_loss.yaml's choices when the curves were recorded (before commit 43e3439 narrowed it):
# the grid must stay the same for every dataset and every --resume / --only
GRID_SPACE = {
    "architecture": ["unet", "unetplusplus", "manet", "linknet", "fpn", "pspnet", "pan", "deeplabv3",
                     "deeplabv3plus", "upernet", "segformer"],
    "encoder": ["resnet18", "resnet34", "efficientnet-b0", "mobilenet_v2"],
    "loss": ["ce", "wce", "dice", "focal", "jaccard", "lovasz", "tversky", "ce+dice"],
}


# how a --grid current run trains: as `segsearch launch` trains a trial of the shipped space
NOW_TRAIN = {"optimizer": "adamw", "scheduler": "cosine", "weight_decay": 1e-4, "encoder_weights": None,
             "augmentation": "light", "amp": "auto"}


# --grid table: every architecture x loss of the shipped space at these rates, one encoder, so a sampler can be
# replayed on exact lookups (bench/bench_search.py reads these files by default); the middle rate first, then the high, then the low,
# each block shuffled, so a table cut short is whole at the rates it has
TABLE_LRS = (1e-3, 3e-3, 3e-4)
TABLE_ENCODER = "resnet18"


def table_grid(seed: int = 0) -> list[dict[str, Any]]:
    """Every architecture x loss of the shipped space, ``TABLE_ENCODER``, at each of ``TABLE_LRS``."""
    space = arch_loss_space("current")
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for lr in TABLE_LRS:
        block = [{"architecture": a, "encoder": TABLE_ENCODER, "loss": lo, "loss_params": dict(LOSS_PARAMS.get(lo, {})),
                  "lr": lr} for a, lo in itertools.product(space["architecture"], space["loss"])]
        rng.shuffle(block)
        out += block
    return out


def arch_loss_space(grid: str = "old") -> dict[str, list[str]]:
    """Architectures, encoders and losses the grid draws from: ``GRID_SPACE`` (old) or the shipped
    ``search_spaces/arch_loss.yaml`` (current)."""
    if grid == "old":
        return {k: list(v) for k, v in GRID_SPACE.items()}
    search = shipped()["search"]
    loss = search["loss"]["choices"] if isinstance(search["loss"], dict) else search["loss"]
    return {"architecture": list(search["architecture"]), "encoder": list(search["encoder"]), "loss": list(loss)}


def real_grid(n: int, seed: int = 0, grid: str = "old") -> list[dict[str, Any]]:
    """``n`` configurations, the same grid for every dataset: a first pass trains every architecture
    once; the rest are the light architectures (``LIGHT``) again with a learning rate from the other end
    of the range (low after high, high after low), so a collapse can be told apart from a bad rate.
    Losses, encoders and rates are dealt out in shuffled rounds, so each appears about equally often."""
    space = arch_loss_space(grid)
    rng = random.Random(seed)
    archs, encs, losses = space["architecture"], space["encoder"], space["loss"]
    if n < max(len(archs), len(losses)):
        raise SystemExit(f"--configs {n}: need at least {max(len(archs), len(losses))} to cover every "
                         "architecture and loss")

    def dealt(items: list, k: int) -> list:
        out: list = []
        while len(out) < k:
            r = list(items)
            rng.shuffle(r)
            out += r
        return out[:k]

    arch_col = dealt(archs, len(archs))
    lr_col = dealt(list(REAL_LRS), len(archs))
    light = [a for a in arch_col if a in LIGHT]
    for a in (light * n)[: n - len(archs)]:
        first = lr_col[arch_col.index(a)]
        arch_col.append(a)
        lr_col.append(rng.choice([lr for lr in REAL_LRS if (lr >= 3e-3) != (first >= 3e-3) and lr != first]))
    loss_col, enc_col = dealt(losses, n), dealt(encs, n)
    return [{"architecture": a, "encoder": e, "loss": lo, "loss_params": dict(LOSS_PARAMS.get(lo, {})), "lr": lr}
            for a, e, lo, lr in zip(arch_col, enc_col, loss_col, lr_col, strict=True)]


def git_head() -> str:
    import subprocess

    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def real_setup(name: str, image_size: int | None = None):
    from segsearch.config import load_config
    from segsearch.data import load_splits

    space = REAL / name / "space.yaml"
    if not space.is_file():
        raise SystemExit(f"{space}: not found (bench/real_data.py writes it)")
    cfg = load_config(space)
    dcfg = cfg.data.model_copy(update={"augmentation": REAL_TRAIN["augmentation"],
                                       **({"image_size": image_size} if image_size else {})})
    splits = load_splits(dcfg, WORK / "studies")
    return cfg, dcfg, splits


def one_class_scores(dcfg, splits) -> dict[str, float]:
    """The objective of predicting one class everywhere on the validation split, per class."""
    import torch

    from segsearch.data import SegDataset, build_transform
    from segsearch.training import MetricAccumulator

    ds = SegDataset(splits.val, dcfg, build_transform("none", dcfg.size_hw, train=False), [0.0], [1.0], cache=False)
    n = dcfg.num_classes
    labels = list(range(n)) if dcfg.mode == "multiclass" else [0, 1]
    names = list(dcfg.classes) if dcfg.mode == "multiclass" else ["background", *dcfg.classes]
    out = {}
    for c in labels:
        acc = MetricAccumulator(dcfg.mode, n, dcfg.ignore_index, 0.5, "class-mean", True)
        for i in range(len(ds)):
            _, y = ds[i]
            y = torch.as_tensor(y)[None]
            if dcfg.mode == "multiclass":
                logits = torch.zeros((1, n, *y.shape[-2:]))
                logits[:, c] = 1.0
            else:
                y = y if y.dim() == 4 else y[:, None]
                logits = torch.full((1, n, *y.shape[-2:]), 10.0 if c == 1 else -10.0)
            acc.update(logits, y)
        out[names[c]] = round(acc.compute().miou, 5)
    return out


class _Averages:
    """``--ema``: exponential moving averages of a run's weights beside it (``bench/ema.py``'s ``WeightAverage``,
    updated after every optimizer step; the plain mean of the steps so far until the half-life's window is
    shorter), each scored on the validation split after every epoch. An average only reads the weights, but its
    validation passes draw a loader seed from torch's generator, so the raw run is another random draw than one
    recorded without them (same settings and seed, other augmentations). Hooks into ``train()`` through its
    reporter and by keeping a handle on the model ``train()`` builds (the real one, unchanged)."""

    def __init__(self, half_lives: list[float], spec) -> None:
        self.half_lives, self.spec = half_lives, spec
        self.model = None
        self.averages: list = []
        self.curves: dict[str, list[float]] = {f"ema{h:g}": [] for h in half_lives}
        self.seconds = 0.0

    def build_model(self, original):
        def build(*args, **kwargs):
            self.model = original(*args, **kwargs)
            return self.model
        return build

    def reporter(self):
        from bench.ema import WeightAverage
        from segsearch.training._device import make_runtime
        from segsearch.training._loop import Reporter, build_loaders, evaluate
        from segsearch.training._metrics import MetricAccumulator

        outer, spec = self, self.spec
        cfg, data = spec.train, spec.data
        rt = make_runtime(cfg.device, cfg.amp, cfg.channels_last)
        acc_args = (data.mode, data.num_classes, data.ignore_index, cfg.threshold, cfg.metric_reduction,
                    cfg.include_background)
        val_dl = build_loaders(spec, rt, cfg.batch_size)[1]

        class Averaging(Reporter):
            def epoch_start(self, epoch: int, n_batches: int) -> None:
                if not outer.averages:  # half-life in epochs -> decay per step
                    outer.averages = [WeightAverage(outer.model, 0.5 ** (1.0 / (h * max(n_batches, 1))), "mean")
                                      for h in outer.half_lives]

            def step(self, epoch: int, batch: int) -> None:
                t = time.perf_counter()
                for a in outer.averages:
                    a.update(outer.model)
                outer.seconds += time.perf_counter() - t

            def epoch_end(self, result, is_best: bool) -> None:
                t = time.perf_counter()
                for name, a in zip(outer.curves, outer.averages, strict=True):
                    outer.curves[name].append(round(evaluate(a.module, val_dl, rt, MetricAccumulator(*acc_args)).miou, 5))
                outer.seconds += time.perf_counter() - t

        return Averaging()


def train_one(cfg, dcfg, splits, settings: dict[str, Any], epochs: int, seed: int, run_dir: Path,
              how: dict[str, Any] | None = None, ema: list[float] | None = None) -> dict[str, Any]:
    """One run from scratch; ``how``: NOW_TRAIN for --grid current (default: REAL_TRAIN, fp32); ``ema``: half-lives
    in epochs of weight averages scored beside the run (``_Averages``)."""
    from segsearch.training import RunSpec, _loop, train

    how = how or {**REAL_TRAIN, "amp": "off"}
    tcfg = cfg.train.model_copy(update={
        **{k: v for k, v in how.items() if k != "augmentation"},
        "architecture": settings["architecture"], "encoder": settings["encoder"], "loss": settings["loss"],
        "loss_params": settings["loss_params"], "lr": settings["lr"], "epochs": epochs, "seed": seed,
        "device": "cpu", "num_workers": 0})
    tcfg = type(tcfg).model_validate(tcfg.model_dump())
    spec = RunSpec(train=tcfg, data=dcfg, splits=splits, run_dir=run_dir, resume=False, checkpoint=False)
    averages = _Averages(ema, spec) if ema else None
    original = _loop.build_model
    t0 = time.perf_counter()
    try:
        if averages is not None:
            _loop.build_model = averages.build_model(original)
        res = train(spec, averages.reporter() if averages is not None else None)
        error = None
    except Exception as e:
        res, error = None, f"{type(e).__name__}: {e}"[:300]
    finally:
        _loop.build_model = original
    hist = res.history if res else []
    extra = {"ema": averages.curves, "ema_half_lives": ema, "ema_seconds": round(averages.seconds, 1)} \
        if averages is not None else {}
    return {"config": settings, "seed": seed,
            "objective": [round(h.objective, 5) for h in hist],
            "collapsed": [bool(h.collapsed) for h in hist],
            "train_loss": [round(h.train_loss, 5) for h in hist],
            "seconds_per_epoch": [round(h.seconds, 2) for h in hist],
            "n_params": res.n_params if res else None, "precision": res.precision if res else None,
            "error": error, "seconds": round(time.perf_counter() - t0, 1), **extra}


def record_real(name: str, n: int, epochs: int, out: Path, resume: bool, probe: bool, only: list[int] | None,
                followup: bool = False, grid_from: str = "old", grid_seed: int = 0, scheduler: str | None = None,
                ema: list[float] | None = None, image_size: int | None = None) -> None:
    os.environ["SEGSEARCH_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    cfg, dcfg, splits = real_setup(name, image_size)
    how = {**REAL_TRAIN, "amp": "off"}
    if grid_from in ("current", "table"):  # the shipped space's batch size; the rest as launch trains a trial
        how = {**NOW_TRAIN, "batch_size": shipped()["train"]["batch_size"]}
    if scheduler:
        how["scheduler"] = scheduler
    grid = table_grid(grid_seed) if grid_from == "table" else real_grid(n, seed=grid_seed, grid=grid_from)
    if followup:
        grid = [{"architecture": a, "encoder": e, "loss": "ce+dice", "loss_params": {"weight": 0.5}, "lr": 1e-3,
                 "part": "followup"} for a, e in FOLLOWUP]
    if only:
        grid = [g for i, g in enumerate(grid) if i in only]
    if probe:  # one epoch each, to size the grid
        total = 0.0
        for i, s in enumerate(grid):
            r = train_one(cfg, dcfg, splits, s, 1, i, WORK / "curves" / name / f"probe{i:03d}", how)
            total += r["seconds"]
            print(f"{i:2d} {s['architecture']:13s} {s['encoder']:15s} {s['loss']:8s} {r['seconds']:6.1f}s "
                  f"{r['error'] or ''}", flush=True)
        print(f"probe: {total:.0f}s for one epoch of {len(grid)} configs -> about {total * epochs / 60:.0f} min "
              f"for {epochs} epochs")
        return
    doc: dict[str, Any] = {"curves": []}
    if resume and out.is_file():
        doc = json.loads(out.read_text())
    done = {json.dumps(c["config"], sort_keys=True) for c in doc["curves"] if not c.get("error")}
    todo = {json.dumps(s, sort_keys=True) for s in grid} - done  # failed runs of this grid are tried again
    doc["curves"] = [c for c in doc["curves"] if json.dumps(c["config"], sort_keys=True) not in todo]
    one_class = one_class_scores(dcfg, splits)
    doc.update({
        "what": "validation objective per epoch of real segsearch trainings from scratch, no pruning",
        "dataset": name, "space": str((REAL / name / "space.yaml").relative_to(ROOT)),
        "objective": "miou: class-mean IoU over the validation split (binary: foreground IoU)",
        "data": {"mode": dcfg.mode, "classes": list(dcfg.classes), "image_size": dcfg.image_size,
                 "train": len(splits.train), "val": len(splits.val), "test": len(splits.test),
                 "augmentation": dcfg.augmentation},
        "train": {**{k: v for k, v in how.items() if k != "augmentation"}, "epochs": epochs,
                  "device": "cpu", "threads": 1},
        "grid": {"configs": len(grid) if grid_from == "table" else n,
                 "seeds": sorted({*doc.get("grid", {}).get("seeds", [0]), grid_seed}),
                 "from": "search_spaces/arch_loss.yaml " + (
                     "before 43e3439" if grid_from == "old" else f"at {git_head()}"), **arch_loss_space(grid_from),
                 "lr": list(TABLE_LRS if grid_from == "table" else REAL_LRS), "light": list(LIGHT),
                 "loss_params": LOSS_PARAMS, "kind": "table" if grid_from == "table" else "draw",
                 **({"encoder": [TABLE_ENCODER]} if grid_from == "table" else {})},
        "one_class": one_class, "one_class_best": max(one_class.values()),
        **({"ema": {"what": "per curve, 'ema': the validation objective of exponential moving averages of the "
                            "run's weights, updated after every step, after every epoch; keys by half-life in epochs",
                    "half_lives": ema}} if ema else {}),
    })
    if followup:
        doc["followup"] = {"what": "runs marked part: followup, added after the grid", "loss": "ce+dice",
                           "loss_params": {"weight": 0.5}, "lr": 1e-3, "configs": [list(x) for x in FOLLOWUP]}
    print(f"{name}: {len(splits.train)} train / {len(splits.val)} val; one-class predictor best "
          f"{doc['one_class_best']:.4f}; {len(grid)} configs x {epochs} epochs", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, s in enumerate(grid):
        if json.dumps(s, sort_keys=True) in done:
            continue
        r = train_one(cfg, dcfg, splits, s, epochs, i, WORK / "curves" / name / f"{i:03d}", how, ema)
        doc["curves"].append(r)
        doc["curves"].sort(key=lambda c: json.dumps(c["config"], sort_keys=True))
        doc["seconds"] = round(doc.get("seconds", 0.0) + r["seconds"], 1)
        out.write_text(json.dumps(doc, indent=None, separators=(",", ":")).replace('{"config"', '\n{"config"') + "\n")
        best = max(r["objective"]) if r["objective"] else float("nan")
        emas = " ".join(f"{k} best {max(v):.4f}" for k, v in r.get("ema", {}).items() if v)
        print(f"{i:2d} {s['architecture']:13s} {s['encoder']:15s} {s['loss']:8s} lr {s['lr']:.0e}: best "
              f"{best:.4f} {emas} last {r['objective'][-1] if r['objective'] else math.nan:.4f} collapsed "
              f"{''.join('x' if c else '.' for c in r['collapsed'])} ({r['seconds']:.0f}s) {r['error'] or ''}",
              flush=True)
    print(f"wrote {out}: {len(doc['curves'])} curves, this run {time.perf_counter() - t0:.0f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2, help="demo scenes: trainings side by side")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--dataset", help="a folder of bench/data/real with a space.yaml")
    ap.add_argument("--configs", type=int, default=16, help="real data: grid size")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--probe", action="store_true", help="real data: one epoch per config, to size the grid")
    ap.add_argument("--only", type=int, nargs="*", help="real data: just these grid indices")
    ap.add_argument("--resume", action="store_true", help="real data: keep the configs already in --out")
    ap.add_argument("--grid", choices=("old", "current", "table"), default="old",
                    help="real data: the grid of the first recordings (GRID_SPACE, fp32), a draw from the shipped space "
                         "now, or every architecture x loss of it at TABLE_LRS (for --out, default curves_table_NAME.json)")
    ap.add_argument("--grid-seed", type=int, default=0,
                    help="real data: another draw of the grid; with --resume its configurations are added to the file")
    ap.add_argument("--scheduler", choices=("cosine", "wsd"), default=None,
                    help="real data: the runs' schedule (default: the grid's, cosine)")
    ap.add_argument("--ema", default="",
                    help="real data: comma-separated half-lives in epochs of weight averages scored beside each run")
    ap.add_argument("--image-size", type=int, default=None,
                    help="real data: train and validate on images resized to this size (a cheaper fidelity)")
    ap.add_argument("--followup", action="store_true",
                    help="real data: train the FOLLOWUP configurations instead of the grid (with --resume: add them)")
    args = ap.parse_args()
    if args.dataset:
        prefix = {"old": "curves", "current": "curves_now", "table": "curves_table"}[args.grid]
        out = args.out or DATA / f"{prefix}_{args.dataset}.json"
        record_real(args.dataset, args.configs, args.epochs, out, args.resume, args.probe, args.only, args.followup,
                    args.grid, args.grid_seed, args.scheduler,
                    [float(h) for h in args.ema.split(",") if h.strip()] or None, args.image_size)
    else:
        record_demo(args.jobs, args.out or DATA / "curves.json")


if __name__ == "__main__":
    main()
