"""The one progress component: a live view on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..training import EpochResult, Reporter, RunSpec

log = logging.getLogger("segsearch")


class Progress(Reporter):
    """Shows trials done of budget, the current trial's epoch and batch, loss, objective, best so far."""

    def __init__(self, budget: int | None, worker: str = "", live: bool | None = None) -> None:
        self.budget, self.worker = budget, worker
        self.live = sys.stderr.isatty() if live is None else live
        self.best: float | None
        self.trial: int | None
        self.done, self.best, self.trial, self.desc, self.epochs = 0, None, None, "", 0
        self._bar: Any = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), transient=False, refresh_per_second=4)
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

    def trial_end(self, number: int, state: str, value: float | None, reason: str | None, best: float | None) -> None:
        self.done += 1
        self.best = best
        val = f" {value:.4f}" if value is not None else ""
        why = f" ({reason})" if reason and reason != "pruned" else ""
        best_s = f"; best so far {best:.4f}" if best is not None else ""
        self._say(f"{self.worker}trial {number} {state.lower()}{val}{why}{best_s}")
        if self._bar is not None:
            self._bar.update(self._trials, completed=self.done)

    # training events (Reporter)
    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        t = spec.train
        self.epochs = t.epochs  # the run's own schedule (a budget may have shortened it)
        lp = ", ".join(f"{k}={_fmt(v)}" for k, v in t.loss_params.items())
        self._say(f"{self.worker}trial {self.trial}: {t.architecture}/{t.encoder} loss={t.loss}"
                  f"{'(' + lp + ')' if lp else ''} {t.optimizer} lr={t.lr:.2e} bs={t.batch_size} "
                  f"({n_params / 1e6:.1f}M params)")
        if start_epoch:
            self._say(f"{self.worker}trial {self.trial}: resumed from its checkpoint at epoch {start_epoch}")

    def epoch_start(self, epoch: int, n_batches: int) -> None:
        if self._bar is not None:
            self._bar.update(self._epoch, description=self._epoch_desc(epoch), completed=0, total=n_batches,
                             visible=True)

    def step(self, epoch: int, batch: int) -> None:
        if self._bar is not None:
            self._bar.update(self._epoch, completed=batch + 1)

    def epoch_end(self, r: EpochResult, is_best: bool) -> None:
        msg = (f"{self.worker}trial {self.trial} epoch {r.epoch}/{self.epochs}: loss {r.train_loss:.4f} "
               f"objective {r.objective:.4f} ({r.seconds:.1f}s)")
        if self._bar is not None:
            self._bar.update(self._epoch, description=self._epoch_desc(r.epoch) + f" obj {r.objective:.3f}")
        else:
            log.info(msg)

    def _epoch_desc(self, epoch: int) -> str:
        best = f" | best {self.best:.3f}" if self.best is not None else ""
        return f"trial {self.trial} epoch {epoch}/{self.epochs}{best}"

    def _say(self, msg: str) -> None:
        if self._bar is not None:
            self._bar.console.print(msg, markup=False, highlight=False)
        else:
            log.info(msg)


def _fmt(v: object) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
