"""Figure 1, runner overhead: seconds per training step inside a real segsearch trial divided by a bare
PyTorch loop on the same model, optimizer and batches.

The trial runs the real ``train()`` with the reporters a worker uses (metrics file, progress without a
live view but with logging on, and ``OptunaReporter`` on a trial of an SQLite study with a median
pruner), a checkpoint every epoch and ``best.pt`` on improvements. Validation is timed and left out on
both sides. Two figures per mode:

* ``steps``: the training steps alone (``_train_epoch``) against the bare steps;
* ``amortised``: everything per epoch except validation (steps, loss read-back, reporting, pruning
  check, user attributes, metrics file, checkpoint, progress), divided by the number of steps.

Modes: ``memory`` (batches already in memory) and ``pipeline`` (the real SegDataset with the light
augmentation preset and the DataLoader the trial builds, in both loops). Bare and segsearch runs
alternate, and the figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import WORK, data_config, emit, median, quiet_logs, splits_for, train_config

TARGETS = {"memory": 1.03, "pipeline": 1.10}


def _bare(model, loss_fn, optimizer, loader, epochs: int) -> float:
    """The loop a user would write by hand: no reporting, no checkpoint, no validation."""
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - t0


class _Timed:
    """Wraps ``_loop._train_epoch`` and ``_loop.evaluate`` to add up the seconds spent in each."""

    def __init__(self, loop) -> None:
        self.loop, self.steps, self.eval = loop, 0.0, 0.0
        self._train, self._evaluate = loop._train_epoch, loop.evaluate

    def __enter__(self):
        def train_epoch(*a, **k):
            t0 = time.perf_counter()
            try:
                return self._train(*a, **k)
            finally:
                self.steps += time.perf_counter() - t0

        def evaluate(*a, **k):
            t0 = time.perf_counter()
            try:
                return self._evaluate(*a, **k)
            finally:
                self.eval += time.perf_counter() - t0

        self.loop._train_epoch, self.loop.evaluate = train_epoch, evaluate
        return self

    def __exit__(self, *exc) -> None:
        self.loop._train_epoch, self.loop.evaluate = self._train, self._evaluate


def _trial(study_dir: Path):
    import optuna

    from segsearch.search import make_storage

    storage = make_storage(f"sqlite:///{study_dir / 'study.db'}", heartbeat_interval=30)
    study = optuna.create_study(storage=storage, study_name="overhead", direction="maximize",
                                pruner=optuna.pruners.MedianPruner(), load_if_exists=True)
    return study.ask()


def _segsearch(spec, run_dir: Path, train_dl, val_dl, loop) -> dict[str, float]:
    from segsearch.search import OptunaReporter
    from segsearch.tracking import Progress
    from segsearch.training import Fanout, MetricsFile, train

    class Clock(loop.Reporter):
        def run_start(self, *a) -> None:
            self.t0 = time.perf_counter()

    shutil.rmtree(run_dir, ignore_errors=True)
    trial = _trial(run_dir.parent)
    progress = Progress(None, live=False)
    progress.trial_start(trial.number, "sampling", spec.train.epochs)
    clock = Clock()
    reporter = Fanout([clock, MetricsFile(run_dir), progress,
                       OptunaReporter(trial, spec.data.classes, lambda: False)])
    original = loop.build_loaders
    loop.build_loaders = lambda *a: (train_dl, val_dl)
    try:
        with _Timed(loop) as t:
            train(spec, reporter)
            total = time.perf_counter() - clock.t0
    finally:
        loop.build_loaders = original
    return {"steps": t.steps, "amortised": total - t.eval, "eval": t.eval}


def _materialise(loader, n: int) -> list:
    out: list = []
    while len(out) < n:
        out.extend(loader)
    return out[:n]


def run(mode: str, reps: int, steps: int, epochs: int, size: int) -> dict:
    import torch

    from segsearch.components import build_loss, build_model, build_optimizer
    from segsearch.training import RunSpec, _loop
    from segsearch.training._device import make_runtime

    aug = "none" if mode == "memory" else "light"
    dcfg = data_config(max(40, int(steps * 8 / 0.7) + 8), size, aug)
    splits = splits_for(dcfg)
    run_dir = WORK / "overhead" / mode / "trial"
    tcfg = train_config(epochs=epochs, batch_size=8, scheduler="none")
    spec = RunSpec(train=tcfg, data=dcfg, splits=splits, run_dir=run_dir, resume=False, keep_best=True)
    rt = make_runtime(tcfg.device, tcfg.amp, tcfg.channels_last)
    train_dl, val_dl = _loop.build_loaders(spec, rt, tcfg.batch_size)
    val_dl = _materialise(val_dl, 1)
    if mode == "memory":
        train_dl = _materialise(train_dl, steps)
    n_steps = epochs * len(train_dl)

    def bare() -> float:
        _loop.seed_everything(tcfg.seed)
        model = build_model("unet", "resnet18", None, 5, 3, 5, {})
        loss_fn = build_loss(tcfg.loss, {}, "multiclass", 5, None, None)
        opt = build_optimizer(tcfg.optimizer, model.parameters(), tcfg.lr, tcfg.weight_decay, {})
        return _bare(model, loss_fn, opt, train_dl, epochs)

    bare()  # warm-up: allocator, thread pool, dataset cache
    pairs = []
    for r in range(reps):
        order = ("bare", "seg") if r % 2 == 0 else ("seg", "bare")
        got: dict = {}
        for who in order:
            got[who] = bare() if who == "bare" else _segsearch(spec, run_dir, train_dl, val_dl, _loop)
        pairs.append(got)
    bare_s = [p["bare"] / n_steps for p in pairs]
    step_s = [p["seg"]["steps"] / n_steps for p in pairs]
    amort_s = [p["seg"]["amortised"] / n_steps for p in pairs]
    overhead_ms = median([(p["seg"]["amortised"] - p["seg"]["steps"]) / epochs for p in pairs]) * 1000
    target = TARGETS[mode]
    ratio_steps = median([s / b for s, b in zip(step_s, bare_s, strict=True)])
    room = 1000 * median(bare_s) * (target - ratio_steps)  # ms per step left for per-epoch work
    return {
        "mode": mode, "steps_per_epoch": len(train_dl), "epochs": epochs, "reps": reps, "image_size": size,
        "threads": torch.get_num_threads(),
        "bare_ms_per_step": round(1000 * median(bare_s), 2),
        "segsearch_ms_per_step": round(1000 * median(step_s), 2),
        "segsearch_amortised_ms_per_step": round(1000 * median(amort_s), 2),
        "epoch_overhead_ms": round(overhead_ms, 1),
        "steps_per_epoch_to_meet_target": round(overhead_ms / room) if room > 0 else None,
        "ratio_steps": round(ratio_steps, 4),
        "ratio_amortised": round(median([a / b for a, b in zip(amort_s, bare_s, strict=True)]), 4),
        "ratios_amortised_all": [round(a / b, 4) for a, b in zip(amort_s, bare_s, strict=True)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="steps per epoch (in-memory mode)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--modes", default="memory,pipeline")
    args = ap.parse_args()
    quiet_logs()
    log_file = WORK / "overhead" / "worker.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, mode="w")  # progress lines are written, as in a worker
    logging.getLogger("segsearch").addHandler(handler)
    logging.getLogger("segsearch").setLevel(logging.INFO)
    results = {m: run(m, args.reps, args.steps, args.epochs, args.size) for m in args.modes.split(",")}
    targets = TARGETS
    lines = []
    for m, r in results.items():
        lines.append(f"{m:8s}: bare {r['bare_ms_per_step']:.1f} ms/step, segsearch {r['segsearch_ms_per_step']:.1f} "
                     f"ms/step (x{r['ratio_steps']:.3f}), with per-epoch work amortised over "
                     f"{r['steps_per_epoch']} steps x{r['ratio_amortised']:.3f} (target <= {targets[m]}); "
                     f"per-epoch overhead {r['epoch_overhead_ms']:.0f} ms (mostly the checkpoint)"
                     + (f", within target from {r['steps_per_epoch_to_meet_target']} steps per epoch"
                        if r["steps_per_epoch_to_meet_target"] else ""))
    emit("overhead", {"figures": results, "targets": targets}, lines)


if __name__ == "__main__":
    main()
