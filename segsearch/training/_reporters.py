"""Reporters that do not need Optuna: fan-out and the trial folder's metrics file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from .. import rundir
from ._loop import EpochResult, Reporter, RunSpec


class Fanout(Reporter):
    """Calls each reporter in order; one raising StopTraining stops the rest (put the pruner last)."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        for r in self.reporters:
            r.run_start(spec, n_params, start_epoch)

    def epoch_start(self, epoch: int, n_batches: int) -> None:
        for r in self.reporters:
            r.epoch_start(epoch, n_batches)

    def step(self, epoch: int, batch: int) -> None:
        for r in self.reporters:
            r.step(epoch, batch)

    def epoch_end(self, result: EpochResult, is_best: bool) -> None:
        for r in self.reporters:
            r.epoch_end(result, is_best)

    def kept(self, result: EpochResult) -> None:
        for r in self.reporters:
            r.kept(result)

    def stop_requested(self) -> bool:
        return any(r.stop_requested() for r in self.reporters)


class MetricsFile(Reporter):
    """Appends one JSON line per epoch to ``run_dir/metrics.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / rundir.METRICS

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if start_epoch == 0 and self.path.exists():
            self.path.unlink()
        elif start_epoch and self.path.exists():  # resumed: keep the epochs the checkpoint has
            lines = [ln for ln in self.path.read_text().splitlines() if ln.strip()]
            kept = [ln for ln in lines if json.loads(ln)["epoch"] <= start_epoch]
            self.path.write_text("".join(ln + "\n" for ln in kept))

    def epoch_end(self, result: EpochResult, is_best: bool) -> None:
        row = {k: v for k, v in asdict(result).items() if k != "confusion"}
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
