"""The training loop. It never sees Optuna: it reports to a ``Reporter``.

The search, the final retrain and the benchmarks all run this same code.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import numpy as np
import torch

from .. import rundir
from ..components import Scheduler, build_loss, build_model, build_optimizer, preprocessing
from ..config import DataConfig, KeptEpoch, TrainConfig
from ..data import (
    SegDataset,
    Splits,
    auto_num_workers,
    build_transform,
    class_pixel_counts,
    flip_axes,
    loss_class_weights,
)
from . import _checkpoint
from ._device import Runtime, make_runtime, peak_memory_mb
from ._metrics import MetricAccumulator

log = logging.getLogger(__name__)

class StopTraining(Exception):
    """Raised by a reporter to end training early (``reason``: pruned, interrupted, early_stop)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NonFiniteLoss(Exception):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class EpochResult:
    epoch: int  # 1-based
    train_loss: float
    objective: float
    miou: float
    mdice: float
    per_class_iou: list[float]
    per_class_dice: list[float]
    lr: float
    seconds: float
    confusion: list[list[int]] | None = None
    collapsed: bool = False  # one class predicted (nearly) everywhere
    planned_epochs: int = 0  # the run's schedule at this epoch (a budget may re-plan it)


@dataclass(frozen=True)
class RunSpec:
    """Everything one training run needs, as plain frozen data."""

    train: TrainConfig
    data: DataConfig
    splits: Splits
    run_dir: Path
    objective: str = "miou"
    maximize: bool = True
    resume: bool = True
    keep_best: bool = False  # final retrain: keep best.pt by the objective
    # which weights best.pt holds at the end: the best epoch on validation, the last, or ``auto`` (``keeps_last``)
    keep: KeptEpoch = "best"
    patience: int | None = None  # final retrain: early stopping
    checkpoint: bool = True
    # scheduler wsd: write stable.pt after the last peak-rate epoch, where a later run continues (a trial's; the
    # final stage's own run has nothing after it)
    stable_checkpoint: bool = True
    class_weights: list[float] | None = None  # precomputed for class_weights: auto
    deadline: float | None = None  # time.time() by which training must end: stop at the epoch boundary before it
    init_weights: Path | None = None  # start from these model weights (the final stage continuing a trial)
    fit_to_deadline: bool = False  # after the first epoch, plan the schedule for the epochs that fit the deadline
    # after the second epoch: (its seconds, the epochs before it) -> the run's whole schedule in epochs
    replan: Callable[[float, int], int] | None = None
    # under a deadline: the checks that follow the run (the final stage's flip check and test evaluation), in
    # validation passes of this run; their measured time is kept back from the deadline
    tail_passes: float = 0.0


@dataclass
class TrainResult:
    history: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    best_value: float = float("nan")
    n_params: int = 0
    peak_memory_mb: float = 0.0
    precision: str = "fp32"  # what the network computed in: fp32, bf16 or fp16 (train.amp as resolved here)
    resumed_from: int = 0
    stopped: str | None = None
    # a full-precision validation pass over this run's mixed-precision one, where measured (``_full_precision_cost``)
    full_precision_cost: float | None = None

    @property
    def best(self) -> EpochResult | None:
        return next((h for h in self.history if h.epoch == self.best_epoch), None)

    @property
    def seconds_per_epoch(self) -> float:
        secs = [h.seconds for h in self.history]
        return float(np.mean(secs)) if secs else float("nan")


class Reporter:
    """Receives progress. Subclasses override what they need; ``epoch_end`` may raise StopTraining."""

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None: ...
    def epoch_start(self, epoch: int, n_batches: int) -> None: ...
    def step(self, epoch: int, batch: int) -> None: ...
    def epoch_end(self, result: EpochResult, is_best: bool) -> None: ...
    def kept(self, result: EpochResult) -> None: ...  # at the end: the run keeps this epoch, not its best
    def stop_requested(self) -> bool:
        return False


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_loaders(spec: RunSpec, rt: Runtime, batch_size: int) -> tuple[Any, Any]:
    from torch.utils.data import DataLoader

    from ..data import make_train_dataset

    pre = preprocessing(spec.train.encoder, spec.train.encoder_weights)
    size = spec.data.size_hw
    fill = spec.data.ignore_index if spec.data.ignore_index is not None else 0
    tr_tf = build_transform(spec.data.augmentation, size, train=True, fill_mask=fill,
                            flips=flip_axes(spec.data, spec.splits.train))
    va_tf = build_transform("none", size, train=False)
    train_ds = make_train_dataset(spec.splits.train, spec.data, tr_tf, pre["mean"], pre["std"])
    val_ds = SegDataset(spec.splits.val, spec.data, va_tf, pre["mean"], pre["std"], cache=spec.data.cache)
    workers = auto_num_workers(spec.train.num_workers, rt.device.type)
    if workers > 0:  # decode once in this process; forked workers share the cache
        for ds in (getattr(train_ds, "base", train_ds), val_ds):
            ds.preload()
    common: dict[str, Any] = dict(num_workers=workers, pin_memory=rt.is_cuda, persistent_workers=workers > 0)
    g = torch.Generator().manual_seed(spec.train.seed)
    seed_transforms(train_ds, spec.train.seed)  # albumentations keeps its own generators
    train_dl = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=len(train_ds) > batch_size,
                          generator=g, worker_init_fn=functools.partial(_seed_worker, spec.train.seed), **common)
    val_dl = DataLoader(val_ds, batch_size=batch_size, shuffle=False, **common)
    return train_dl, val_dl


def seed_transforms(ds: Any, seed: int) -> None:
    """Seed the augmentation pipelines of a (possibly mosaic-wrapped) dataset, each transform on its own stream."""
    from ..data import seed_pipeline

    base = getattr(ds, "base", ds)
    for tf in (getattr(base, "transform", None), getattr(base, "pre", None)):
        if tf is not None and hasattr(tf, "set_random_seed"):
            seed_pipeline(tf, seed)


def _seed_worker(seed: int, worker_id: int) -> None:
    from torch.utils.data import get_worker_info

    info = get_worker_info()
    if info is not None:
        seed_transforms(info.dataset, seed + 1 + worker_id)


def wants_auto_class_weights(loss: str, loss_params: Mapping[str, Any]) -> bool:
    """The one rule for "this loss uses class weights from the training masks": ``wce`` (alone or in a sum)
    by default, any loss whose ``class_weights`` is ``auto``."""
    return loss_params.get("class_weights") == "auto" or "wce" in loss.split("+")


def _class_weights(spec: RunSpec) -> list[float] | None:
    if spec.class_weights is not None:
        return spec.class_weights
    if not wants_auto_class_weights(spec.train.loss, spec.train.loss_params):
        return None
    ds = SegDataset(spec.splits.train, spec.data, None, [0.0], [1.0], cache=False)
    return loss_class_weights(class_pixel_counts(ds), spec.data)


def train(spec: RunSpec, reporter: Reporter | None = None) -> TrainResult:
    """Train epoch by epoch, validating each epoch; resumes from ``run_dir/last.pt`` when asked."""
    reporter = reporter or Reporter()
    cfg = spec.train
    rt = make_runtime(cfg.device, cfg.amp, cfg.channels_last)
    seed_everything(cfg.seed)
    n_out = spec.data.num_classes
    model = build_model(cfg.architecture, cfg.encoder, cfg.encoder_weights, cfg.encoder_depth,
                        spec.data.in_channels, n_out, cfg.architecture_params).to(rt.device)
    if rt.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = build_loss(cfg.loss, dict(cfg.loss_params), spec.data.mode, n_out, spec.data.ignore_index,
                         _class_weights(spec)).to(rt.device)
    optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, dict(cfg.optimizer_params))
    train_dl, val_dl = build_loaders(spec, rt, cfg.batch_size)
    scheduler = Scheduler(cfg.scheduler, optimizer, cfg.epochs, -(-len(train_dl) // cfg.accumulation),
                          dict(cfg.scheduler_params), spec.maximize)
    scaler = torch.amp.GradScaler("cuda", enabled=rt.is_cuda and rt.amp_dtype == torch.float16)
    step_fn = torch.compile(model) if cfg.compile else model

    result = TrainResult(n_params=sum(p.numel() for p in model.parameters()),
                         precision=rt.precision)
    start = _maybe_resume(spec, model, optimizer, scheduler, scaler, result, rt)
    if start == 0 and spec.init_weights is not None:
        model.load_state_dict(cast(dict[str, Any], _checkpoint.load(spec.init_weights, rt.device))["model"])
    reporter.run_start(spec, result.n_params, start)
    acc_args = (spec.data.mode, n_out, spec.data.ignore_index, cfg.threshold, cfg.metric_reduction,
                cfg.include_background)
    since_best = 0
    writer = _checkpoint.CheckpointWriter(background=rt.is_cuda)  # GPU: writes off the training path
    try:
        total, epoch = cfg.epochs, start
        took: list[float] = []  # seconds of each epoch of this run: training and validation
        after: list[float] = []  # seconds between an epoch's validation and the next epoch (checkpoints, pruner)
        vals: list[float] = []  # seconds of each epoch's validation pass
        saved_at, saved_epoch, validated = time.monotonic(), start, None
        # a re-plan times the second epoch (the first when the plan is one epoch; none on a resumed run)
        replan_at = min(2, total) if spec.replan is not None and start == 0 else None
        while epoch < total:
            epoch += 1
            t0 = time.perf_counter()
            if validated is not None:
                after.append(t0 - validated)
            loss = _train_epoch(step_fn, train_dl, loss_fn, optimizer, scheduler, scaler, rt, reporter, epoch,
                                cfg.grad_clip, cfg.accumulation)
            if not math.isfinite(loss):
                raise NonFiniteLoss(f"training loss is {loss} at epoch {epoch}")
            trained = time.perf_counter()
            scores = evaluate(step_fn, val_dl, rt, MetricAccumulator(*acc_args))
            objective = scores.miou if spec.objective == "miou" else scores.mdice
            validated = time.perf_counter()
            took.append(validated - t0)
            vals.append(validated - trained)
            measuring = 0.0  # seconds of the one full-precision pass below: not the epoch's, nor between epochs
            if result.full_precision_cost is None and _times_full_precision(spec, rt, epoch - start, total - start):
                result.full_precision_cost = _full_precision_cost(model, val_dl, rt, acc_args, vals[-1])
                measuring = time.perf_counter() - validated
                validated += measuring
            full_cost = 1.0 if rt.precision == "fp32" else result.full_precision_cost or _FULL_PRECISION_GUESS
            end = _end(spec, vals, full_cost, _closing_writes(writer.seconds, spec))
            if spec.fit_to_deadline or epoch == replan_at:  # before the step: its lr
                total = _refit(total, epoch, took, after, spec, scheduler, end)
            lr_before = optimizer.param_groups[0]["lr"]
            scheduler.step_epoch(objective)
            lr = optimizer.param_groups[0]["lr"]
            if spec.checkpoint and spec.stable_checkpoint and scheduler.stable_ended(lr_before):  # wsd: the continuation's start
                writer.save({"model": model.state_dict(), "epoch": epoch}, spec.run_dir / rundir.STABLE)
            is_best = _improves(objective, result.best_value, spec.maximize)
            if is_best:
                result.best_epoch, result.best_value, since_best = epoch, objective, 0
                if spec.keep_best:
                    writer.save({"model": model.state_dict(), "epoch": epoch}, spec.run_dir / rundir.BEST)
            else:
                since_best += 1
            result.peak_memory_mb = max(result.peak_memory_mb, peak_memory_mb(rt))
            er = EpochResult(epoch, loss, objective, scores.miou, scores.mdice, scores.per_class_iou,
                             scores.per_class_dice, lr, time.perf_counter() - t0 - measuring, scores.confusion,
                             scores.collapsed, total)
            result.history.append(er)
            if spec.checkpoint and _checkpoint_due(cfg.checkpoint_interval, saved_at, er.seconds, epoch >= total):
                _save(writer, spec, model, optimizer, scheduler, scaler, result, epoch)
                saved_at, saved_epoch = time.monotonic(), epoch
                er = dataclasses.replace(er, seconds=time.perf_counter() - t0 - measuring)  # checkpoint included
                result.history[-1] = er
            reporter.epoch_end(er, is_best)  # may raise StopTraining (pruned)
            if spec.patience is not None and since_best >= spec.patience:
                result.stopped = "early_stop"
                break
            if reporter.stop_requested():
                if spec.checkpoint and saved_epoch != epoch:  # the hand-back resumes from here
                    _save(writer, spec, model, optimizer, scheduler, scaler, result, epoch)
                raise StopTraining("interrupted")
            if epoch < total and _out_of_time(end, took, [*after, time.perf_counter() - validated]):
                result.stopped = "budget"
                break
        if spec.checkpoint and saved_epoch != epoch:  # stopped early: the final stage may continue from here
            _save(writer, spec, model, optimizer, scheduler, scaler, result, epoch)
        last = result.history[-1] if result.history else None
        if spec.keep_best and last is not None and last.epoch != result.best_epoch and keeps_last(
                result.history, cfg.lr, spec.keep, result.best):
            writer.save({"model": model.state_dict(), "epoch": last.epoch}, spec.run_dir / rundir.BEST)
            log.info("keeping the last epoch's weights (%d: %.4f on validation; the best epoch, %d, scored %.4f): "
                     "the schedule had annealed", last.epoch, last.objective, result.best_epoch, result.best_value)
            result.best_epoch, result.best_value = last.epoch, last.objective
            reporter.kept(last)
    finally:
        writer.close()  # every checkpoint is on disk before the trial is handed back or told
    return result


# a run whose last epoch trained at under this share of its peak learning rate has annealed (``keeps_last``)
SETTLED_LR = 0.05


def keeps_last(history: list[EpochResult], lr: float, setting: KeptEpoch, best: EpochResult | None) -> bool:
    """Whether a finished run keeps its last epoch's weights rather than its best epoch's on validation.
    ``auto``: when the last epoch trained at under ``SETTLED_LR`` of the peak learning rate (a cosine or
    one-cycle schedule run to its end, a step schedule past its decays; not a run stopped early or mid-schedule)
    and does not predict one class where the best epoch did not. The annealed end of a schedule generalises
    better than the validation maximum, which on a few dozen validation images is partly noise: on four real
    datasets the last epoch scored higher on the test images in 8 of 11 runs where the two differed (+0.004 to
    +0.042) and within 0.001 in the other 3 (bench/LATEST.md, 'Which epoch to keep'); nnU-Net predicts with its
    final checkpoint too."""
    if setting == "best" or not history:
        return False
    if setting == "last":
        return True
    during = history[-2].lr if len(history) > 1 else lr  # EpochResult.lr is the rate after the epoch's step
    peak = max(lr, *(h.lr for h in history))
    collapsed = history[-1].collapsed and not (best is not None and best.collapsed)
    return peak > 0 and during <= SETTLED_LR * peak and not collapsed


# the full-precision cost assumed until it is measured (after the run's second epoch): the highest measured, a
# Unet/ResNet34 at 128 px on one core (2.1x; 1.1x at 64 px on two cores: it depends on the size, bench/LATEST.md)
_FULL_PRECISION_GUESS = 2.5


def _end(spec: RunSpec, vals: list[float], full_cost: float, writes: float = 0.0) -> float | None:
    """When training must end: the deadline less the checkpoint writes that close the run (``writes`` seconds,
    ``_closing_writes``) and the checks that follow it (``spec.tail_passes`` validation passes at this run's mean
    validation time, times ``full_cost``: the checks evaluate in full precision)."""
    if spec.deadline is None:
        return None
    return spec.deadline - writes - spec.tail_passes * _mean(vals) * full_cost


def _times_full_precision(spec: RunSpec, rt: Runtime, epoch: int, total: int) -> bool:
    """Whether this epoch measures what a full-precision validation pass costs: a run under mixed precision with
    checks after it (``tail_passes``) and a deadline, at its second epoch (the first pays for warm-up), or its
    first when it plans only one."""
    return (spec.deadline is not None and spec.tail_passes > 0 and rt.precision != "fp32"
            and epoch == min(2, max(1, total)))


def _full_precision_cost(model: torch.nn.Module, val_dl: Any, rt: Runtime, acc_args: tuple[Any, ...],
                         mixed: float) -> float:
    """One validation pass in full precision, as the final stage's checks run it (``evaluate_model``: no
    autocast, no channels_last, not compiled), over this epoch's mixed-precision pass (``mixed`` seconds). The
    ratio is not a constant: on a CPU with native bf16 it measured 1.1x for a Unet/ResNet34 at 64 px on two
    cores and 2.1x at 128 px on one (bench/LATEST.md); kept back at a fixed 1.5x, the checks of a 20-minute
    launch ran it 3 s past its budget (run 38)."""
    t0 = time.perf_counter()
    evaluate(model, val_dl, Runtime(rt.device, None, False), MetricAccumulator(*acc_args))
    cost = (time.perf_counter() - t0) / mixed if mixed > 0 else _FULL_PRECISION_GUESS
    log.debug("a full-precision validation pass costs %.2fx this run's %s pass", cost, rt.precision)
    return cost


def _closing_writes(seconds: dict[str, float], spec: RunSpec) -> float:
    """What the writes after the last epoch take, at their latest measured time (``CheckpointWriter.seconds``):
    the resume checkpoint (``last.pt``, with the optimizer's state: ~4 s for a Unet/ResNet34 on a CPU, which ran
    a 20-minute launch 3 s past its budget when left out, bench/LATEST.md run 27) and the kept weights
    (``best.pt``). Until the first of a kind is written (the resume checkpoint waits ``checkpoint_interval``) it
    counts 0."""
    return ((seconds.get(rundir.LAST, 0.0) if spec.checkpoint else 0.0)
            + (seconds.get(rundir.BEST, 0.0) if spec.keep_best else 0.0))


def _refit(planned: int, epoch: int, took: list[float], after: list[float], spec: RunSpec,
           scheduler: Scheduler, deadline: float | None) -> int:
    """The epochs to plan for, timed by this run's epochs (an estimate made before training can be off by 2x on a
    shared core). ``spec.replan`` answers once, after the second epoch (the first when the plan is one epoch).
    ``fit_to_deadline`` re-plans after every epoch for the epochs that fit the deadline at the mean epoch time so
    far (the first, slower one left out once there are others) plus the mean time between epochs (``after``:
    checkpoints, the pruner, logging; on short epochs as long as the epoch itself, and left out, every plan ran
    long and shrank epoch by epoch), when that
    moves the end by 2 epochs or more, or by one too many within 2 epochs of the end (the deadline would cut the
    last epoch off the schedule before it annealed: ``keeps_last``). A cosine or wsd schedule is stretched or
    shrunk to end there (its ``T_max``); other schedules keep their plan."""
    if scheduler.name not in ("cosine", "wsd", "none") or not took or took[-1] <= 0:
        return planned
    if spec.replan is not None:  # the epochs before the timed one, then those from its start
        fit = max(epoch, spec.replan(warm_epoch_seconds(took), epoch - 1))
    elif deadline is not None:
        per_epoch = warm_epoch_seconds(took) + _mean(after)
        fit = epoch + max(0, int((deadline - time.time()) // per_epoch))
        if epoch > 1 and abs(fit - planned) < 2 and not (fit < planned and planned - epoch <= 2):
            return planned  # one epoch either way is timing noise, except one too many near the end
    else:
        return planned
    if fit != planned:
        if spec.replan is None:
            (log.info if epoch == 1 else log.debug)("%d epochs fit the time left at %.1f s each (planned %d); the schedule now ends at epoch %d",
                     fit, took[-1], planned, fit)
        if scheduler.impl is not None:
            scheduler.impl.T_max = fit
    return fit


def _checkpoint_due(interval: float, saved_at: float, epoch_seconds: float, last_epoch: bool) -> bool:
    """Write the resume checkpoint now if skipping it could lose more than ``interval`` seconds of work (the
    time since the last one plus the next epoch), at the last epoch, or always with ``interval`` 0. A crash
    then loses at most ``interval`` seconds or one epoch, whichever is larger; short epochs stop paying
    ~0.5 s of checkpoint each (bench/bench_overhead.py)."""
    return interval == 0 or last_epoch or time.monotonic() - saved_at + epoch_seconds >= interval


def _out_of_time(deadline: float | None, took: list[float], after: list[float]) -> bool:
    """Whether another epoch, as long as this run's epochs so far (``took``; the last three when they are
    slower: a core that became busy) and the time between them (``after``), would end after the deadline."""
    if deadline is None or not took:
        return False
    return time.time() + max(_mean(took), _mean(took[-3:])) + _mean(after) > deadline


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def warm_epoch_seconds(seconds: list[float]) -> float:
    """The mean epoch time, the first epoch left out once there are others: on a GPU it pays for cudnn's
    autotuning and the loaders' start (13.7 s against 1.0-1.3 s on an H200, bench/LATEST.md 'GPU paths')."""
    return _mean(seconds[1:] or seconds)


def _improves(value: float, best: float, maximize: bool) -> bool:
    if math.isnan(best):
        return not math.isnan(value)
    return value > best if maximize else value < best


def _train_epoch(model, loader, loss_fn, optimizer, scheduler, scaler, rt: Runtime, reporter: Reporter,
                 epoch: int, grad_clip: float | None, accumulation: int = 1) -> float:
    """One pass over the training data; with ``accumulation`` k the optimizer steps every k batches on their
    summed gradients (the same effective batch at 1/k of the memory)."""
    model.train()
    reporter.epoch_start(epoch, len(loader))
    total = torch.zeros((), device=rt.device)
    n, last = 0, len(loader) - 1
    optimizer.zero_grad(set_to_none=True)
    for i, (x, y) in enumerate(loader):
        x = x.to(rt.device, non_blocking=True)
        y = y.to(rt.device, non_blocking=True)
        if rt.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with rt.autocast():  # the network in reduced precision, the loss on fp32 logits (sums over every pixel)
            loss = loss_fn(model(x).float(), y)
        scaler.scale(loss / accumulation if accumulation > 1 else loss).backward()
        if (i + 1) % accumulation == 0 or i == last:
            if grad_clip:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step_batch()
        total += loss.detach() * x.shape[0]  # stays on the device: no per-step sync
        n += x.shape[0]
        reporter.step(epoch, i)
    return float(total) / max(n, 1)


_R_co = TypeVar("_R_co", covariant=True)


class _Accumulator(Protocol[_R_co]):
    """What ``evaluate`` needs of ``acc``: a ``MetricAccumulator`` (-> ``Scores``) or anything shaped like one."""

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None: ...
    def compute(self) -> _R_co: ...


def evaluate(model, loader, rt: Runtime, acc: _Accumulator[_R_co]) -> _R_co:
    model.eval()
    with torch.inference_mode():
        for x, y in loader:
            x = x.to(rt.device, non_blocking=True)
            y = y.to(rt.device, non_blocking=True)
            if rt.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with rt.autocast():
                logits = model(x)
            acc.update(logits.float(), y)
    return acc.compute()


def _save(writer, spec, model, optimizer, scheduler, scaler, result: TrainResult, epoch: int) -> None:
    state = {
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "result": {k: v for k, v in result.__dict__.items()},
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }
    writer.save(state, spec.run_dir / rundir.LAST)


def _maybe_resume(spec, model, optimizer, scheduler, scaler, result: TrainResult, rt: Runtime) -> int:
    if not spec.resume:
        return 0
    state = _checkpoint.load(spec.run_dir / rundir.LAST, rt.device)
    if state is None:
        return 0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    for k, v in state["result"].items():
        setattr(result, k, v)
    rng = state["rng"]
    torch.set_rng_state(rng["torch"].cpu())
    np.random.set_state(rng["numpy"])
    random.setstate(rng["python"])
    result.resumed_from = int(state["epoch"])
    return int(state["epoch"])


__all__ = ["EpochResult", "NonFiniteLoss", "Reporter", "RunSpec", "StopTraining", "TrainResult", "evaluate",
           "seed_everything", "train"]
