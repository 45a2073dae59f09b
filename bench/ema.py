"""Does an average of the weights beat the weights themselves? A paired experiment on real data.

Trains the study's baseline (seed 001's recipe in the space) for N epochs with the final stage's
augmentation, exactly as ``train`` does, and keeps exponential moving averages of its weights at several
decays beside it (``WeightAverage`` below, as timm's ``ModelEmaV3``: updated after every step, its decay
ramping up as ``(1 + t) / (10 + t)``, so the raw model's trajectory is the same with or without them). Every epoch each of them is scored on the validation split; each keeps its
best-validation weights, which are then scored on the test split. Same run, same data order, same
scorer: the differences are the averaging's alone::

    python bench/ema.py --space bench/data/real/mri_struct/space.yaml --epochs 40 --work /tmp/ema_mri_struct
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench._common import baseline_run
from segsearch.components import build_model
from segsearch.training._loop import Reporter, _train_epoch, evaluate
from segsearch.training._metrics import MetricAccumulator


class WeightAverage:
    """An exponential moving average of a model's weights; float buffers averaged, integer ones copied."""

    def __init__(self, model: torch.nn.Module, decay: float, warmup: str = "timm") -> None:
        """``warmup``: timm's ramp of the decay, ``(1 + t) / (10 + t)`` (a window of about a ninth of the steps so
        far), or ``mean``: ``(t - 1) / t``, the plain mean of the steps so far until the decay's window is shorter."""
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        if warmup not in ("timm", "mean"):
            raise ValueError(f"ema warmup must be timm or mean, got {warmup}")
        self.decay, self.warmup = decay, warmup
        self.steps = 0
        self._cache: tuple[int, tuple] | None = None
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def _pairs(self, model: torch.nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor], list[tuple]]:
        mine = self.module.state_dict(keep_vars=True)
        theirs = model.state_dict(keep_vars=True)
        avg, cur, copies = [], [], []
        for k, v in mine.items():
            w = theirs[k]
            if v.dtype.is_floating_point:
                avg.append(v.data)
                cur.append(w.data)
            else:
                copies.append((v.data, w.data))
        return avg, cur, copies

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.steps += 1
        t = self.steps
        d = min(self.decay, (1 + t) / (10 + t) if self.warmup == "timm" else (t - 1) / t)
        if self._cache is None or self._cache[0] != id(model):  # the tensors stay put: steps update them in place
            self._cache = (id(model), self._pairs(model))
        avg, cur, copies = self._cache[1]
        torch._foreach_lerp_(avg, cur, 1.0 - d)
        for dst, src in copies:
            dst.copy_(src)

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.steps = int(state["steps"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--space", required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--decays", default="0.9,0.97,0.99,0.995")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    r = baseline_run(args.space, args.epochs, seed=None, work=work)  # the final stage's seed
    model, tcfg, data, rt, acc_args, test_dl = r.model, r.tcfg, r.data, r.rt, r.acc_args, r.test_dl
    decays = [float(d) for d in args.decays.split(",")]
    emas = {f"ema{d}": WeightAverage(model, d) for d in decays}

    class _Step(Reporter):  # updates the averages after every optimizer step (accumulation is 1 here)
        def step(self, epoch: int, batch: int) -> None:
            for e in emas.values():
                e.update(model)

    variants = {"raw": model, **{k: e.module for k, e in emas.items()}}
    best: dict[str, dict] = {k: {"val": -1.0} for k in variants}
    curves: dict[str, list[float]] = {k: [] for k in variants}
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    t_train = t_ema = 0.0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        _train_epoch(model, r.train_dl, r.loss_fn, r.opt, r.sched, scaler, rt, _Step(), epoch, tcfg.grad_clip)
        t_train += time.perf_counter() - t0
        r.sched.step_epoch(0.0)
        for name, m in variants.items():
            v = evaluate(m, r.val_dl, rt, MetricAccumulator(*acc_args)).miou
            curves[name].append(round(v, 4))
            if v > best[name]["val"]:
                best[name] = {"val": v, "epoch": epoch, "state": copy.deepcopy(m.state_dict())}
        print(epoch, {k: c[-1] for k, c in curves.items()}, flush=True)
    # the cost of the averages alone: the same updates timed over one more pass of steps
    t0 = time.perf_counter()
    for _ in range(len(r.train_dl)):
        for e in emas.values():
            e.update(model)
    t_ema = (time.perf_counter() - t0) / len(emas)
    out = {"space": args.space, "epochs": args.epochs, "steps_per_epoch": len(r.train_dl),
           "train_s_per_epoch": t_train / args.epochs, "one_ema_s_per_epoch": t_ema, "curves": curves}
    probe = build_model(tcfg.architecture, tcfg.encoder, None, tcfg.encoder_depth, data.in_channels,
                        data.num_classes, tcfg.architecture_params)
    for name, b in best.items():
        probe.load_state_dict(b.pop("state"))
        b["test"] = evaluate(probe, test_dl, rt, MetricAccumulator(*acc_args)).miou
        b["last_val"] = curves[name][-1]
        out[name] = b
        print(name, json.dumps(b), flush=True)
    (work / "ema.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
