"""The one progress component: a live view on a terminal, plain log lines otherwise.

Both print one line per epoch that stays in the scrollback (loss, objective, the worst class's IoU, seconds per
epoch, the trial's ETA and the budget's time left). Without a terminal a line also comes every
``_TICK`` seconds within a long epoch, so a log file shows the run is alive.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any

from ..training import EpochResult, Reporter, RunSpec

log = logging.getLogger("segsearch")

_TICK = 30.0  # seconds between in-epoch lines without a terminal


class Progress(Reporter):
    """Shows trials done of budget (the study's, not only this process's), the current trial's epoch and batch
    with elapsed and remaining time, and a line per epoch."""

    def __init__(self, budget: int | None, worker: str = "", live: bool | None = None,
                 deadline: float | None = None, tick: float = _TICK) -> None:
        self.budget, self.worker, self.deadline, self.tick = budget, worker, deadline, tick
        self.live = sys.stderr.isatty() if live is None else live
        self.best: float | None
        self.trial: int | None
        self.done, self.best, self.trial, self.desc, self.epochs = 0, None, None, "", 0
        self.classes: list[str] = []
        self._epoch_secs: list[float] = []
        self._epoch_t0 = self._last_line = 0.0
        self._bar: Any = None
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                     transient=False, refresh_per_second=4)
            self._trials = self._bar.add_task("trials", total=budget)
            self._epoch = self._bar.add_task("", total=1, visible=False)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    # worker events
    def trial_start(self, number: int, summary: str, epochs: int) -> None:
        self.trial, self.desc, self.epochs = number, summary, epochs
        if summary:
            self._say(f"{self.worker}trial {number}: {summary}")

    def trial_end(self, number: int, state: str, value: float | None, reason: str | None, best: float | None,
                  done: int | None = None) -> None:
        """``done``: the study's finished trials (all workers'); without it, this process's."""
        self.done = self.done + 1 if done is None else done
        self.best = best
        val = f" {value:.4f}" if value is not None else ""
        why = f" ({reason})" if reason and reason != "pruned" else ""
        best_s = f"; best so far {best:.4f}" if best is not None else ""
        of = f" [{self.done}/{self.budget} trials]" if self.budget else f" [{self.done} trials]"
        self._say(f"{self.worker}trial {number} {state.lower()}{val}{why}{best_s}{of}")
        if self._bar is not None:
            self._bar.update(self._trials, completed=self.done)

    # training events (Reporter)
    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        t = spec.train
        self.epochs = t.epochs  # the run's own schedule (a budget may have shortened it)
        self.classes = list(spec.data.classes)
        self._epoch_secs = []
        lp = ", ".join(f"{k}={_fmt(v)}" for k, v in t.loss_params.items())
        self._say(f"{self.worker}trial {self.trial}: {t.architecture}/{t.encoder} loss={t.loss}"
                  f"{'(' + lp + ')' if lp else ''} {t.optimizer} lr={t.lr:.2e} bs={t.batch_size} "
                  f"({n_params / 1e6:.1f}M params)")
        if start_epoch:
            self._say(f"{self.worker}trial {self.trial}: resumed from its checkpoint at epoch {start_epoch}")

    def epoch_start(self, epoch: int, n_batches: int) -> None:
        self._epoch_t0 = self._last_line = time.monotonic()
        self._n_batches = n_batches
        if self._bar is not None:  # reset, not update: a finished task's clock would stay frozen
            self._bar.reset(self._epoch, total=n_batches, description=self._epoch_desc(epoch), visible=True)

    def step(self, epoch: int, batch: int) -> None:
        if self._bar is not None:
            self._bar.update(self._epoch, completed=batch + 1)
            return
        now = time.monotonic()
        if now - self._last_line >= self.tick:
            self._last_line = now
            done, n = batch + 1, max(1, self._n_batches)
            took = now - self._epoch_t0
            log.info("%strial %s epoch %d/%d: batch %d/%d (%.0f%%), %s elapsed, epoch eta %s", self.worker,
                     self.trial, epoch, self.epochs, done, n, 100 * done / n, _dur(took), _dur(took * (n - done) / done))

    def epoch_end(self, r: EpochResult, is_best: bool) -> None:
        self._epoch_secs.append(r.seconds)
        self.epochs = r.planned_epochs or self.epochs  # a budget may have re-planned the schedule
        if self._bar is not None:
            self._bar.update(self._epoch, description=self._epoch_desc(r.epoch) + f" obj {r.objective:.3f}")
        self._say(self.epoch_line(r, is_best))

    def epoch_line(self, r: EpochResult, is_best: bool) -> str:
        """``trial 3 epoch 5/20: loss 0.4120 val 0.6134 * | worst class road 0.21 | 12.3 s/epoch | trial eta
        3m05s | budget 14m10s left``."""
        parts = [f"{self.worker}trial {self.trial} epoch {r.epoch}/{self.epochs}: loss {r.train_loss:.4f} "
                 f"val {r.objective:.4f}{' *' if is_best else ''}"]
        worst = _worst(r.per_class_iou, self.classes)
        if worst:
            parts.append(f"worst class {worst[0]} {worst[1]:.2f}")
        per_epoch = sum(self._epoch_secs) / len(self._epoch_secs)
        parts.append(f"{r.seconds:.1f} s/epoch")
        if r.epoch < self.epochs:
            parts.append(f"trial eta {_dur(per_epoch * (self.epochs - r.epoch))}")
        if self.deadline is not None:
            parts.append(f"budget {_dur(max(0.0, self.deadline - time.time()))} left")
        return " | ".join(parts)

    def _epoch_desc(self, epoch: int) -> str:
        best = f" | best {self.best:.3f}" if self.best is not None else ""
        return f"trial {self.trial} epoch {epoch}/{self.epochs}{best}"

    def _say(self, msg: str) -> None:
        if self._bar is not None:
            self._bar.console.print(msg, markup=False, highlight=False)
        else:
            log.info(msg)


def _worst(per_class_iou: list[float], classes: list[str]) -> tuple[str, float] | None:
    """The class with the lowest IoU (classes absent from validation, NaN, left out), by name when known."""
    scored = [(v, i) for i, v in enumerate(per_class_iou) if v is not None and not math.isnan(v)]
    if len(scored) < 2:
        return None
    v, i = min(scored)
    i += max(0, len(classes) - len(per_class_iou))  # include_background: false lists no background
    return (classes[i] if i < len(classes) else str(i)), v


def _dur(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _fmt(v: object) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
