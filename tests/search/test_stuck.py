"""A trial that predicts one class while its training loss stays flat is stopped as stuck, whatever the pruner
says; a slow starter (one class, loss falling) and a converged model (loss flat, several classes) are not."""

import optuna
import pytest

from segsearch.config import StudyConfig
from segsearch.search import build_pruner
from segsearch.search._objective import STUCK_EPOCHS, OptunaReporter
from segsearch.training import EpochResult, StopTraining


def _epoch(n: int, loss: float, collapsed: bool, objective: float = 0.0) -> EpochResult:
    return EpochResult(n, loss, objective, objective, objective, [objective], [objective], 1e-3, 1.0,
                       collapsed=collapsed)


def _feed(losses: list[float], collapsed: bool, prune_stuck: bool = True) -> tuple[int | None, optuna.Study]:
    """Feed one trial of a real study (the shipped median pruner, which waits for 5 finished trials) its epochs;
    the epoch at which the reporter stopped it as stuck, or None."""
    cfg = StudyConfig(name="stuck", pruner={"name": "median", "args": {"n_startup_trials": 5, "n_warmup_steps": 6}})
    study = optuna.create_study(direction="maximize", pruner=build_pruner(cfg, epochs=12))
    trial = study.ask()
    reporter = OptunaReporter(trial, ["background", "lesion"], lambda: False, prune_stuck=prune_stuck)
    for n, loss in enumerate(losses, 1):
        try:
            reporter.epoch_end(_epoch(n, loss, collapsed, 0.0 if collapsed else 0.7), is_best=n == 1)
        except StopTraining as stop:
            assert stop.reason == "stuck"
            return n, study
    return None, study


@pytest.mark.parametrize("losses, at", [
    ([0.97, 0.94, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 5),  # fpn + dice at lr 5e-3 on mri_struct, as logged: dead at 1.0
    ([0.9699, 0.9684, 0.9680, 0.9692, 0.9700, 0.9681], 3),  # the same at lr 1e-2, another seed: foreground everywhere
])
def test_a_dead_trial_is_stopped_after_three_flat_epochs(losses, at):
    stopped, study = _feed(losses, collapsed=True)
    assert STUCK_EPOCHS == 3 and stopped == at
    assert study.trials[0].user_attrs["fail_reason"] == "stuck"


@pytest.mark.parametrize("losses, collapsed", [
    ([0.50, 0.39, 0.35, 0.33, 0.31, 0.29, 0.28, 0.27], True),  # a slow starter: one class for a while, loss falls
    ([0.10, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03], False),  # converged: flat loss, but it segments
    ([0.95, 0.90, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80], True),  # one class, loss still falling by 1% an epoch
])
def test_a_slow_starter_or_a_converged_trial_is_not_stuck(losses, collapsed):
    assert _feed(losses, collapsed)[0] is None


def test_the_baseline_alone_is_never_stopped_as_stuck():
    assert _feed([1.0] * 8, collapsed=True, prune_stuck=False)[0] is None
    assert _feed([1.0] * 8, collapsed=True)[0] == 3
