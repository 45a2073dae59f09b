"""Under a budget, a sampled configuration slower than the study's typical one runs only if it leaves the
search time for one more typical trial; its epoch time is predicted from its measured latency, and a trial
whose own second epoch shows it cannot finish its schedule before the deadline stops there."""

from __future__ import annotations

import time

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from segsearch.config import load_config, load_config_text
from segsearch.data import Splits, load_splits
from segsearch.search import TrialEnv, resolve_trial_config, run_trial
from segsearch.search._objective import _too_slow_for_the_budget
from segsearch.search._overrun import ScheduleGuard, TooSlow
from segsearch.training import EpochResult

from helpers import tiny_config, tiny_doc


def _study_with_a_finished_trial() -> optuna.Study:
    """One finished trial: 10 s per epoch at 10 ms latency (1 s of epoch per ms of latency)."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        value=0.5, params={}, distributions={}, user_attrs={"seconds_per_epoch": 10.0, "latency_ms": 10.0}))
    return study


@pytest.mark.parametrize(("latency", "left", "attrs", "refused"), [
    (30.0, 100.0, {}, True),  # 4 epochs x 30 s = 120 s: leaves no room for a typical 40 s trial of the 100 s
    (12.0, 100.0, {}, False),  # 48 s, and 52 s stay: one more typical trial fits
    (30.0, 10_000.0, {}, False),  # slow, but the budget pays for it and more
    (8.0, 30.0, {}, False),  # not slower than typical: it runs whenever the worker starts it
    (10.5, 60.0, {}, False),  # 5% slower, and one trial fits either way: it takes no typical trial's place
    (13.0, 90.0, {}, True),  # 52 s of 90: two typical 40 s trials would fit, with it only one
    (16.0, 60.0, {}, True),  # 64 s: it does not fit the 60 s left
    (30.0, 100.0, {"baseline": True}, False),  # the baseline and your own trials always run
    (30.0, 100.0, {"enqueued": True}, False),
])
def test_a_configuration_too_slow_for_what_is_left_is_infeasible(tmp_path, latency, left, attrs, refused):
    cfg = load_config(tiny_config(tmp_path, train={"epochs": 4}))
    env = TrialEnv(cfg, Splits([], [], []), tmp_path, deadline=time.time() + left)
    study = _study_with_a_finished_trial()
    trial = study.ask()
    for k, v in {"latency_ms": latency, **attrs}.items():
        trial.set_user_attr(k, v)
    outcome = _too_slow_for_the_budget(trial, resolve_trial_config(trial, cfg), env)
    if not refused:
        assert outcome is None
        return
    assert outcome is not None and outcome.state == TrialState.PRUNED and outcome.reason == "too_slow"
    study.tell(trial, state=outcome.state)
    frozen = study.trials[-1]
    assert frozen.user_attrs["infeasible"] and frozen.user_attrs["predicted_seconds_per_epoch"] == latency
    assert frozen.constraints["budget_s"] == pytest.approx(4 * latency - (left - 40), abs=1.0)  # > 0: violated
    assert f"predicted {latency:.1f} s per epoch" in frozen.user_attrs["error"]


def test_without_a_budget_or_a_measured_trial_nothing_is_refused(tmp_path):
    cfg = load_config(tiny_config(tmp_path, train={"epochs": 4}))
    slow = {"latency_ms": 1000.0}
    for env, study in ((TrialEnv(cfg, Splits([], [], []), tmp_path), _study_with_a_finished_trial()),
                       (TrialEnv(cfg, Splits([], [], []), tmp_path, deadline=time.time() + 100),
                        optuna.create_study(direction="maximize"))):
        trial = study.ask()
        trial.set_user_attr("latency_ms", slow["latency_ms"])
        assert _too_slow_for_the_budget(trial, resolve_trial_config(trial, cfg), env) is None


def _epoch(epoch: int, seconds: float, planned: int) -> EpochResult:
    return EpochResult(epoch, 0.5, 0.3, 0.3, 0.4, [0.3], [0.4], 1e-3, seconds, planned_epochs=planned)


def test_the_guard_stops_at_the_second_epoch_only_when_the_rest_of_the_schedule_ends_past_the_deadline():
    guard = ScheduleGuard(time.time() + 1000)
    guard.epoch_end(_epoch(2, 5.0, 100), False)  # 98 x 5 s = 490 s of the 1000 left
    guard.epoch_end(_epoch(1, 50.0, 100), False)  # the first, slower epoch decides nothing
    guard.epoch_end(_epoch(3, 50.0, 100), False)  # nor a later one: the pace is read once
    guard.epoch_end(_epoch(2, 5000.0, 2), False)  # nothing left to run
    with pytest.raises(TooSlow) as stopped:
        guard.epoch_end(_epoch(2, 20.0, 100), False)  # 98 x 20 s = 1960 s
    assert stopped.value.reason == "too_slow" and stopped.value.over == pytest.approx(960, abs=5)
    assert "measured 20.0 s per epoch: its 98 remaining epochs need 1960 s" in stopped.value.message


def test_a_sampled_trial_that_cannot_finish_its_schedule_stops_after_two_epochs_as_too_slow(studies):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(study={"name": "overrun"}, train={"epochs": 100_000})))
    study = optuna.create_study(direction="maximize")
    trial = study.ask()  # nothing measured yet: the latency rule has no epoch time to predict from
    env = TrialEnv(cfg=cfg, splits=load_splits(cfg.data, studies), studies_dir=studies, deadline=time.time() + 300)
    outcome = run_trial(trial, env)  # 99,998 more epochs of even 3 ms each overrun the 300 s
    study.tell(trial, state=outcome.state)
    frozen = study.trials[0]
    assert outcome.state == TrialState.PRUNED and outcome.reason == "too_slow"
    assert frozen.user_attrs["epochs_run"] == 2 and frozen.user_attrs["infeasible"]
    assert frozen.constraints["budget_s"] > 0 and "remaining epochs need" in frozen.user_attrs["error"]
