"""Figure 2, data-pipeline headroom: images per second the training DataLoader delivers with the ``full``
augmentation preset, divided by images per second the model trains at (forward, backward, step on
batches already in memory). Above 1 the loader keeps up; the target is 2.

The loader is the one a trial builds (``build_loaders``: decoded images cached, then augmented and
normalised per sample). It is measured with the worker count a CPU trial uses (``num_workers: auto``,
0 on CPU: loading runs in the training process) and with background workers. Loader passes and
training passes alternate; each figure is the median over repetitions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import WORK, data_config, emit, median, quiet_logs, splits_for, train_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--images", type=int, default=120)
    ap.add_argument("--train-steps", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="background loader workers for the second figure")
    args = ap.parse_args()
    quiet_logs()
    import torch

    from segsearch.components import build_loss, build_model, build_optimizer
    from segsearch.data import auto_num_workers
    from segsearch.training import RunSpec, build_loaders, seed_everything
    from segsearch.training._device import make_runtime

    dcfg = data_config(args.images, args.size, "full")
    splits = splits_for(dcfg)
    tcfg = train_config(batch_size=8)
    rt = make_runtime(tcfg.device, tcfg.amp, tcfg.channels_last)
    auto = auto_num_workers("auto", rt.device.type)
    loaders = {}
    for w in (auto, args.workers):
        spec = RunSpec(train=tcfg.model_copy(update={"num_workers": w}), data=dcfg, splits=splits,
                       run_dir=WORK / "pipeline")
        loaders[w] = build_loaders(spec, rt, tcfg.batch_size)[0]
    seed_everything(0)
    model = build_model("unet", "resnet18", None, 5, 3, 5, {})
    loss_fn = build_loss("ce", {}, "multiclass", 5, None, None)
    opt = build_optimizer("adamw", model.parameters(), 1e-3, 1e-4, {})
    batches = [b for _, b in zip(range(args.train_steps), loaders[auto], strict=False)]
    model.train()

    def loader_rate(dl) -> float:
        t0, n = time.perf_counter(), 0
        for x, _ in dl:
            n += x.shape[0]
        return n / (time.perf_counter() - t0)

    def train_rate() -> float:
        t0, n = time.perf_counter(), 0
        for x, y in batches:
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
            n += x.shape[0]
        return n / (time.perf_counter() - t0)

    for dl in loaders.values():
        loader_rate(dl)  # warm-up: workers start, caches fill
    train_rate()
    rates: dict[str, list[float]] = {"train": [], **{f"loader_w{w}": [] for w in loaders}}
    for _ in range(args.reps):
        for w, dl in loaders.items():
            rates[f"loader_w{w}"].append(loader_rate(dl))
        rates["train"].append(train_rate())
    med = {k: median(v) for k, v in rates.items()}
    figs = {
        "image_size": args.size, "batch_size": 8, "train_images": len(splits.train), "threads": torch.get_num_threads(),
        "model": "unet/resnet18", "augmentation": "full", "auto_workers": auto,
        "train_images_per_s": round(med["train"], 1),
        **{f"{k}_images_per_s": round(v, 1) for k, v in med.items() if k != "train"},
        "headroom": round(med[f"loader_w{auto}"] / med["train"], 2),
        f"headroom_w{args.workers}": round(med[f"loader_w{args.workers}"] / med["train"], 2),
        "target": 2.0,
    }
    lines = [f"model trains at {med['train']:.1f} img/s ({args.size}px, batch 8, {figs['threads']} threads)",
             f"loader (full preset, {auto} workers = num_workers auto on {rt.device.type}): "
             f"{med[f'loader_w{auto}']:.0f} img/s -> headroom x{figs['headroom']:.1f} (target >= 2)",
             f"loader with {args.workers} workers: {med[f'loader_w{args.workers}']:.0f} img/s -> "
             f"x{figs[f'headroom_w{args.workers}']:.1f}"]
    emit("pipeline", figs, lines)


if __name__ == "__main__":
    main()
