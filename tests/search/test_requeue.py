"""The stale-trial sweep on a real SQLite storage with heartbeats: a dead worker's trial is failed with a
reason and re-queued; a trial this process is running is never declared dead, however late its beat."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from segsearch.search import (
    WORKER_DIED,
    RequeueStaleTrial,
    counts_toward_budget,
    heartbeat,
    make_storage,
    next_trial,
    sweep_stale,
    system_attrs,
)


def _study(tmp_path: Path, max_retry: int = 2) -> optuna.Study:
    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=2,
                           max_retry=max_retry)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.enqueue_trial({"x": 1.0})
    return study


def _beat_once_then_go_quiet(study: optuna.Study) -> optuna.Trial:
    trial = next_trial(study, open_ended=False)
    assert trial is not None
    with heartbeat(trial):  # one beat, then the "worker" stops beating
        pass
    time.sleep(3.5)  # longer than the 2 s grace period: stale by any measure
    return trial


def test_a_trial_whose_worker_went_quiet_fails_as_worker_died_and_is_requeued(tmp_path):
    study = _study(tmp_path)
    trial = _beat_once_then_go_quiet(study)
    assert sweep_stale(study)
    dead = study.get_trials(deepcopy=False)[trial.number]
    assert dead.state == TrialState.FAIL and dead.user_attrs["fail_reason"] == WORKER_DIED
    assert dead.user_attrs["retried"] is True and not counts_toward_budget(dead)  # its retry is the result
    assert dead.user_attrs["crash"] == 1 and "crash 1, max_retry 2" in dead.user_attrs["error"]
    (retry,) = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert retry.system_attrs["failed_trial"] == trial.number and retry.system_attrs["fixed_params"] == {"x": 1.0}
    assert retry.system_attrs["retry_history"] == [trial.number] and retry.system_attrs["crashes"] == 1
    assert not {"retried", "crash", "fail_reason"} & set(retry.user_attrs)  # the dead attempt's, not the retry's


def test_the_trial_this_process_runs_is_alive_however_late_its_heartbeat(tmp_path):
    study = _study(tmp_path)
    trial = _beat_once_then_go_quiet(study)  # e.g. a starved machine: the beat thread did not get the CPU
    assert sweep_stale(study, alive={trial.number})
    (t,) = study.get_trials(deepcopy=False)
    assert t.state == TrialState.RUNNING and "fail_reason" not in t.user_attrs


def test_a_worker_looking_between_the_sweepers_fail_and_its_requeue_starts_no_extra_trial(tmp_path):
    # A sweeper (any process's) fails the dead trial, then queues its retry: two writes. A worker asking for a
    # trial in between saw a free place in the budget and started a new trial besides the retry (budget 1, two
    # results). The dead trial keeps its place until its retry exists.
    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.set_user_attr("trial_budget", 1)
    first = next_trial(study, open_ended=False)
    assert first is not None
    first.suggest_float("x", 0.0, 1.0)
    for key, value in {"fail_reason": WORKER_DIED, "crash": 1, "retried": True}.items():  # sweep_stale's writes
        storage.set_trial_user_attr(first._trial_id, key, value)
    storage.set_trial_state_values(first._trial_id, state=TrialState.FAIL)
    assert next_trial(study, open_ended=False) is None  # the retry is due: no place for a new trial
    RequeueStaleTrial()(study, storage.get_trial(first._trial_id))  # the sweeper's second write
    retry = next_trial(study, open_ended=False)
    assert retry is not None and system_attrs(retry)["failed_trial"] == first.number
    assert next_trial(study, open_ended=False) is None
    assert len(study.get_trials(deepcopy=False)) == 2


def test_a_trial_out_of_retries_counts_once_against_the_budget(tmp_path):
    study = _study(tmp_path, max_retry=0)
    trial = _beat_once_then_go_quiet(study)
    assert sweep_stale(study)
    trials = study.get_trials(deepcopy=False)
    assert [t.number for t in trials if counts_toward_budget(t)] == [trial.number]
    (dead,) = trials
    assert dead.user_attrs["fail_reason"] == WORKER_DIED and "died 1 times (max_retry 0)" in dead.user_attrs["error"]
