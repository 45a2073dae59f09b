"""The stale-trial sweep on a real SQLite storage with heartbeats: a dead worker's trial is failed with a
reason and re-queued; a trial this process is running is never declared dead, however late its beat."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from segsearch.search import (
    WORKER_DIED,
    counts_toward_budget,
    heartbeat,
    make_storage,
    next_trial,
    sweep_stale,
)


def _study(tmp_path: Path) -> optuna.Study:
    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=2)
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
