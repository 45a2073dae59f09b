"""Seed 001's recipe as a plain hand-written smp script: the baseline segsearch is compared with.

Unet + resnet34 (random init), loss 0.7 * cross-entropy + 0.3 * smp Dice (binary: BCE-with-logits + binary
Dice), Adam lr 1e-3 with a cosine schedule, batch 8, augmentation resize + shift-scale-rotate (Affine) +
flips + one of optical distortion / grid distortion / Gaussian blur / JPEG compression /
brightness-contrast; the epoch with the best validation IoU is kept. Only the train/val/test split comes
from segsearch (``segsearch.data.load_splits``, the split ``segsearch launch`` uses); reading, augmenting,
training and validating are written here with torch, smp and albumentations.

The wall-clock budget counts from the process's start. After every epoch the number of epochs that fit
is re-planned from the median epoch time so far, and the cosine schedule (set per epoch from the plan)
ends within the budget. (Until 2026-12-01 the plan came from the first epoch alone and was kept; a slow
first epoch then left up to 43% of the budget unused.) ``DIR/model.pt`` holds the best state_dict with what is needed to rebuild
the network; ``DIR/recipe.json`` the history and timings.

``--bf16`` wraps the forward passes (training and validation) in ``torch.autocast("cpu", torch.bfloat16)``
with the loss on fp32 logits: the one line a script author would add, and what segsearch's ``amp: auto``
does on a CPU with hardware bf16. Without it the script trains in fp32, as seed 001's did.

``--fused`` builds Adam with ``fused=True`` (torch's one-kernel step, what segsearch's ``build_optimizer`` uses
where the device has it); without it Adam steps with torch's default, on a CPU a loop over the parameter
tensors, as seed 001's script did.

Run (takes the budget; one core unless --threads)::

    python bench/recipe.py --space bench/data/real/nuclei/space.yaml --budget 8m --out /tmp/recipe_nuclei
    python bench/score.py --space bench/data/real/nuclei/space.yaml --model /tmp/recipe_nuclei
"""

from __future__ import annotations

import os
import time


def process_started() -> float:
    """This process's start as ``time.time()`` (the budget covers interpreter start-up and imports)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()


T0 = process_started()

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import albumentations as A  # noqa: E402
import numpy as np  # noqa: E402
import segmentation_models_pytorch as smp  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.score import confusion, read_image, read_mask, scores  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet statistics, as smp's resnet encoders use


def parse_budget(text: str) -> float:
    """Seconds from '90s', '8m', '1h30m' or a plain number of seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"budget {text!r}: write e.g. 90s, 8m, 1h30m")
    return sum(float(n) * {"s": 1, "m": 60, "h": 3600}[u] for n, u in parts)


class SegSet(Dataset):
    """Decoded images (RGB uint8) and class-index masks in memory, augmented on the fly."""

    def __init__(self, samples, mode: str, class_map, transform) -> None:
        self.images = [read_image(s.image) for s in samples]
        self.masks = [read_mask(s.mask, mode, class_map).astype(np.uint8) for s in samples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        out = self.transform(image=self.images[i], mask=self.masks[i])
        x = (torch.from_numpy(out["image"]).float().div(255).permute(2, 0, 1) - torch.tensor(MEAN).view(3, 1, 1))
        return x / torch.tensor(STD).view(3, 1, 1), torch.from_numpy(out["mask"]).long()


def train_transform(h: int, w: int, seed: int) -> A.Compose:
    """Seed 001's pipeline. Its albumentations (1.x) drew every transform from the global generator; a Compose
    seeded in albumentations 2 gives each transform the same seed (the two flips then decide alike), so each
    transform gets its own, as the global generator made them."""
    tf = A.Compose([
        A.Resize(h, w),
        A.Affine(translate_percent=(-0.0625, 0.0625), scale=(0.9, 1.1), rotate=(-45, 45), p=0.5,
                 border_mode=0, fill=0, fill_mask=0),  # ShiftScaleRotate's defaults
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.OneOf([
            A.OpticalDistortion(p=1.0, border_mode=0),
            A.GridDistortion(p=1.0, border_mode=0),
            A.GaussianBlur(p=1.0),
            A.ImageCompression(quality_range=(60, 95), p=1.0),
            A.RandomBrightnessContrast(p=1.0),
        ], p=0.5),
    ])
    tf.set_random_seed(seed)
    for t, seq in zip(tf.transforms, np.random.SeedSequence(seed).spawn(len(tf.transforms)), strict=True):
        t.set_random_seed(int(seq.generate_state(1)[0]))  # OneOf's children share one: one of them runs per image
    return tf


class RecipeLoss(torch.nn.Module):
    """0.7 * (BCE | CE) + 0.3 * Dice."""

    def __init__(self, binary: bool) -> None:
        super().__init__()
        self.binary = binary
        self.ce = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
        self.dice = smp.losses.DiceLoss("binary" if binary else "multiclass")

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.binary:
            return 0.7 * self.ce(logits[:, 0], target.float()) + 0.3 * self.dice(logits, target[:, None])
        return 0.7 * self.ce(logits, target) + 0.3 * self.dice(logits, target)


def autocast(bf16: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)


def validate(net: torch.nn.Module, val: SegSet, names: list[str], binary: bool, bf16: bool = False,
             batch: int = 8) -> float:
    """Validation IoU (foreground IoU, or class mean) from one confusion matrix over the split, ``batch`` images
    to a forward pass (validation images are resized to the training size: they stack). Until 2026-12-05 the
    script ran one image at a time: 2.6 s a pass on mri9's 43 images against 0.6-0.7 s in batches of 8, ~10% of
    its epochs (bench/LATEST.md, runs 37-38 used it)."""
    net.eval()
    cm = np.zeros((len(names), len(names)), np.int64)
    with torch.inference_mode(), autocast(bf16):
        for start in range(0, len(val), batch):
            xs, ys = zip(*(val[i] for i in range(start, min(start + batch, len(val)))), strict=True)
            x, y = torch.stack(xs), torch.stack(ys)
            h, w = x.shape[-2:]
            xp = torch.nn.functional.pad(x, (0, -w % 32, 0, -h % 32), mode="reflect")
            logits = net(xp)[:, :, :h, :w].float()
            pred = (logits[:, 0] > 0).long() if binary else logits.argmax(1)
            cm += confusion(y.numpy().astype(np.int64), pred.numpy(), len(names))
    net.train()
    return scores(cm, names, binary)["miou"] or 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", required=True, help="segsearch search-space YAML (data section and split)")
    ap.add_argument("--budget", required=True, type=parse_budget, help="wall clock from process start: 8m, 90s")
    ap.add_argument("--out", required=True, help="output folder (model.pt, recipe.json)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reserve", type=float, default=10.0, help="seconds kept back for saving the model")
    ap.add_argument("--max-epochs", type=int, default=5000,
                    help="a cap on the epochs; the schedule is re-planned to the deadline after every epoch "
                         "(was 300 until run 42: skin and mri_struct at 20 minutes hit it and left budget unused)")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast on the CPU (default: fp32)")
    ap.add_argument("--fused", action="store_true", help="Adam(fused=True), as segsearch steps (default: torch's)")
    ap.add_argument("--val-batch", type=int, default=8, help="validation images per forward pass (1: as runs 37-38)")
    args = ap.parse_args()
    deadline = T0 + args.budget - args.reserve
    precision = "bf16" if args.bf16 else "fp32"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    from segsearch.config import load_config
    from segsearch.data import load_splits

    cfg = load_config(args.space)
    d = cfg.data
    splits = load_splits(d, out / "_segsearch_cache")  # the split segsearch launch uses (same config, same seed)
    binary = d.mode == "binary"
    names = ["background", *d.classes] if binary else list(d.classes)
    h, w = d.size_hw
    train = SegSet(splits.train, d.mode, d.class_map, train_transform(h, w, args.seed))
    val = SegSet(splits.val, d.mode, d.class_map, A.Compose([A.Resize(h, w)]))  # validated as it trains: resized
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=len(train) > args.batch_size,
                        generator=torch.Generator().manual_seed(args.seed))
    net = smp.Unet("resnet34", encoder_weights=None, in_channels=3, classes=1 if binary else len(names))
    loss_fn = RecipeLoss(binary)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, **({"fused": True} if args.fused else {}))
    print(f"recipe: {len(train)} train / {len(val)} val / {len(splits.test)} test images, {h}x{w}, "
          f"{len(names)} classes, {precision}; {time.time() - T0:.1f}s after start", flush=True)

    planned, best, best_iou, best_epoch, history = args.max_epochs, None, -1.0, -1, []
    for epoch in range(args.max_epochs):
        for g in opt.param_groups:  # cosine from lr to 0 over the planned epochs
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(epoch, planned) / planned))
        t = time.time()
        total, n = 0.0, 0
        for x, y in loader:
            opt.zero_grad(set_to_none=True)
            with autocast(args.bf16):
                logits = net(x)
            loss = loss_fn(logits.float(), y)
            loss.backward()
            opt.step()
            total, n = total + float(loss.detach()) * len(x), n + len(x)
        iou = validate(net, val, names, binary, args.bf16, args.val_batch)
        secs = time.time() - t
        history.append({"epoch": epoch + 1, "loss": total / max(n, 1), "val_miou": iou,
                        "lr": opt.param_groups[0]["lr"], "seconds": round(secs, 2)})
        if iou > best_iou:
            best, best_iou, best_epoch = copy.deepcopy(net.state_dict()), iou, epoch + 1
        typical = statistics.median(e["seconds"] for e in history)  # the epochs that fit: re-planned each epoch
        planned = max(epoch + 1, min(args.max_epochs, epoch + 1 + int((deadline - time.time()) / typical)))
        print(f"epoch {epoch + 1}/{planned}: loss {total / max(n, 1):.4f}, val IoU {iou:.4f}, {secs:.1f}s", flush=True)
        slowest = max(e["seconds"] for e in history[-3:])
        if epoch + 1 >= planned or time.time() + slowest > deadline:
            break

    ckpt = {"format": "recipe", "architecture": "unet", "encoder": "resnet34", "in_channels": 3,
            "classes": names, "mode": d.mode, "mean": list(MEAN), "std": list(STD), "image_size": [h, w],
            "state_dict": best, "best_epoch": best_epoch, "val_miou": best_iou, "epochs": len(history),
            "planned_epochs": planned, "precision": precision, "val_batch": args.val_batch,
            "test_images": [str(s.image) for s in splits.test]}
    torch.save(ckpt, out / "model.pt")
    doc = {k: v for k, v in ckpt.items() if k not in ("state_dict", "test_images")}
    doc.update(space=str(args.space), budget_s=args.budget, seconds=round(time.time() - T0, 1), history=history,
               split_sizes={"train": len(splits.train), "val": len(splits.val), "test": len(splits.test)})
    (out / "recipe.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"recipe: best epoch {best_epoch}/{len(history)}, val IoU {best_iou:.4f}; {doc['seconds']}s of "
          f"{args.budget:.0f}s; wrote {out / 'model.pt'}", flush=True)


if __name__ == "__main__":
    main()
