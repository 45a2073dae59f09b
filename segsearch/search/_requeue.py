"""The trial queue shared by all workers of a study.

* ``pop_next``: take the next WAITING trial atomically (retries first, then user-enqueued trials,
  then grid points, then budget tokens).
* ``requeue``: hand a trial back as a WAITING copy with the same parameters; it runs in the same
  trial folder and so resumes from its checkpoint.
* ``RequeueStaleTrial``: the storage's heartbeat-stale callback: a trial whose worker died is
  re-queued, up to ``max_retry`` crashes, after which it is recorded as failed (``worker_died``).
* ``sweep_stale``: fail trials whose heartbeat stopped, unless this process itself just lost the
  database (then heartbeats everywhere may merely be late).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from typing import Any, cast

import optuna
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

log = logging.getLogger(__name__)

WORKER_DIED = "worker_died"
_DROP = {"fail_reason", "error", "token", "resumed_from_epoch", "retried", "crash"}  # the attempt's, not the retry's


def pause(trial: optuna.Trial) -> bool:
    """Hand a running trial back in place: it goes back to WAITING with its number, parameters, reported epochs,
    folder and checkpoint, and the next worker resumes it as the same trial (one row in every view, one
    continuous curve in the dashboard). False when it had already been finished elsewhere (declared dead)."""
    from ._study import PAUSED_ATTR

    try:
        trial.set_user_attr(PAUSED_ATTR, int(trial.user_attrs.get("epochs_run") or 0))
        return bool(trial.storage.set_trial_state_values(trial._trial_id, state=TrialState.WAITING))
    except optuna.exceptions.UpdateFinishedTrialError:
        return False


def requeue(study: optuna.Study, trial: FrozenTrial, crashed: bool = False) -> None:
    """Queue a WAITING copy of ``trial`` (same parameters, same trial folder, reported epochs kept)."""
    root = trial.system_attrs.get("failed_trial", trial.number)
    system: dict[str, Any] = {
        "failed_trial": root,
        "retry_history": [*trial.system_attrs.get("retry_history", []), trial.number],
        "fixed_params": {**trial.system_attrs.get("fixed_params", {}), **trial.params},
        "crashes": trial.system_attrs.get("crashes", 0) + int(crashed),
    }
    study.add_trial(optuna.create_trial(
        state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        user_attrs={k: v for k, v in trial.user_attrs.items() if k not in _DROP},
        system_attrs=system, intermediate_values=trial.intermediate_values,
    ))


class RequeueStaleTrial:
    """``heartbeat_stale_trial_callback`` for ``RDBStorage`` (Optuna's kept heartbeat API)."""

    def __init__(self, max_retry: int | None = 2) -> None:
        if max_retry is not None and max_retry < 0:
            raise ValueError(f"max_retry must be >= 0 or None, got {max_retry}")
        self.max_retry = max_retry

    def will_requeue(self, trial: FrozenTrial) -> bool:
        """Whether a stale ``trial`` gets a retry (rather than being recorded as failed for good)."""
        return self.max_retry is None or trial.system_attrs.get("crashes", 0) + 1 <= self.max_retry

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        crashes = trial.system_attrs.get("crashes", 0) + 1
        if self.will_requeue(trial):
            log.warning("trial %d: its worker stopped sending heartbeats; re-queued to resume from its checkpoint",
                        trial.number)
            requeue(study, trial, crashed=True)
            return
        log.warning("trial %d: its worker died %d times; recorded as failed (%s)", trial.number, crashes, WORKER_DIED)
        if trial.user_attrs.get("fail_reason") == WORKER_DIED:
            return  # sweep_stale recorded it on the trial itself: a copy would count against the budget twice
        study.add_trial(optuna.create_trial(
            state=TrialState.FAIL, params=trial.params, distributions=trial.distributions,
            user_attrs={**{k: v for k, v in trial.user_attrs.items() if k not in _DROP}, "fail_reason": WORKER_DIED,
                        "error": f"the worker running this trial died {crashes} times (max_retry {self.max_retry})"},
            system_attrs={"failed_trial": trial.system_attrs.get("failed_trial", trial.number), "crashes": crashes,
                          "retry_history": [*trial.system_attrs.get("retry_history", []), trial.number]},
            intermediate_values=trial.intermediate_values,
        ))


def _priority(t: FrozenTrial) -> tuple[int, int]:
    if "failed_trial" in t.system_attrs or "paused_at_epoch" in t.user_attrs:
        rank = 0  # a paused or crashed trial: resume it first
    elif t.user_attrs.get("enqueued"):
        rank = 1  # a user's own configuration (segsearch enqueue)
    elif t.user_attrs.get("token"):
        rank = 3
    else:
        rank = 2  # grid points and other enqueued trials
    return rank, t.number


def pop_next(study: optuna.Study) -> int | None:
    """Atomically move the next WAITING trial to RUNNING and return its id (None when none is waiting).

    A heartbeat is recorded before the trial is claimed, so a worker that dies right after claiming
    it (or whose claim committed while its connection dropped) still leaves a trial that goes stale.
    """
    storage = study._storage
    beat = cast(BaseHeartbeat, storage).record_heartbeat if is_heartbeat_enabled(storage) else (lambda _id: None)
    waiting = storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,))
    for t in sorted(waiting, key=_priority):
        try:
            beat(t._trial_id)
            if storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
                return t._trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def sweep_stale(study: optuna.Study, quiet_seconds: float = 0.0, alive: Collection[int] = ()) -> bool:
    """Fail stale RUNNING trials and hand each to the storage's callback (which re-queues it), as Optuna's
    ``fail_stale_trials`` does, except for the trials in ``alive`` (numbers of the trials this process is
    running: a late heartbeat of its own, e.g. on a starved machine, is no death). A failed attempt records
    ``fail_reason: worker_died`` and ``crash`` (1 for the chain's first death; its retry's ``retry_history`` names
it). Returns False when skipped because this process saw a database error within
    the last ``quiet_seconds`` (then heartbeats everywhere may merely be late)."""
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    if time.monotonic() - getattr(backend, "last_error_at", float("-inf")) < quiet_seconds:
        return False
    if not is_heartbeat_enabled(storage):
        return True
    failed = []
    heartbeats = cast(BaseHeartbeat, storage)  # is_heartbeat_enabled
    callback = heartbeats.get_heartbeat_stale_trial_callback()
    for trial_id in heartbeats._get_stale_trial_ids(study._study_id):
        try:
            stale = storage.get_trial(trial_id)
            if stale.number in alive:
                continue
            storage.set_trial_user_attr(trial_id, "fail_reason", WORKER_DIED)
            crash = stale.system_attrs.get("crashes", 0) + 1  # this chain's crash number: 1 for its first death
            storage.set_trial_user_attr(trial_id, "crash", crash)
            if isinstance(callback, RequeueStaleTrial) and callback.will_requeue(stale):
                storage.set_trial_user_attr(trial_id, "retried", True)  # its retry carries on: not a result
                storage.set_trial_user_attr(trial_id, "error", f"its worker died (crash {crash}, max_retry "
                                            f"{callback.max_retry}); a retry resumes its checkpoint")
            elif isinstance(callback, RequeueStaleTrial):
                storage.set_trial_user_attr(trial_id, "error", f"the worker running this trial died {crash} times "
                                            f"(max_retry {callback.max_retry})")
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another process failed it first
    for trial_id in failed:
        if callback is not None:
            callback(study, storage.get_trial(trial_id))
    return True


def best_value(study: optuna.Study) -> float | None:
    """The best accuracy objective of the study's complete trials (the first objective of a multi-objective one)."""
    from ._multi import accuracy, best_trial

    best = best_trial(study)
    return None if best is None else accuracy(best)


# ---- the rest of Optuna's internals that segsearch needs, in one place (with _storage.py)

def system_attrs(trial: optuna.Trial | FrozenTrial) -> dict[str, Any]:
    """A trial's system attributes (fresh from the storage for a live trial)."""
    if isinstance(trial, FrozenTrial):
        return trial.system_attrs
    return trial.storage.get_trial_system_attrs(trial._trial_id)


def reported_steps(trial: optuna.Trial) -> set[int]:
    """The epochs a live trial (or the chain it resumes) has already reported."""
    return set(trial.storage.get_trial(trial._trial_id).intermediate_values)


def is_finished(trial: optuna.Trial) -> bool:
    """Whether the storage holds the live trial as finished (e.g. declared dead by another worker)."""
    return trial.storage.get_trial(trial._trial_id).state.is_finished()


def next_trial(study: optuna.Study, open_ended: bool) -> optuna.Trial | None:
    """A WAITING trial, atomically claimed; else a new one when ``open_ended`` (no trial budget) or while the
    study's trial budget pays for one (checked and spent under the study's lock, so workers on several
    machines never overspend it)."""
    study._thread_local.cached_all_trials = None  # other processes may have added trials
    trial_id = pop_next(study)
    if trial_id is None and open_ended:
        trial_id = _create(study)
    elif trial_id is None:
        from ._storage import study_lock
        from ._study import trials_left

        with study_lock(study._storage, study.study_name):
            left = trials_left(study)  # None: no budget attribute (a grid's points are all queued)
            if left is not None and left > 0:
                trial_id = _create(study)
    return None if trial_id is None else optuna.Trial(study, trial_id)


def _create(study: optuna.Study) -> int:
    """A new RUNNING trial with a heartbeat recorded at once: a worker that dies right after creating it
    still leaves a trial that goes stale and is re-queued."""
    storage = study._storage
    trial_id = storage.create_new_trial(study._study_id)
    if is_heartbeat_enabled(storage):
        cast(BaseHeartbeat, storage).record_heartbeat(trial_id)
    return trial_id


def heartbeat(trial: optuna.Trial) -> Any:
    """A context manager that beats the trial's heartbeat while it runs (Optuna's own thread)."""
    from optuna.storages._heartbeat import get_heartbeat_thread

    return get_heartbeat_thread(trial._trial_id, trial.storage)


def heartbeat_timing(study: optuna.Study) -> tuple[float, float]:
    """(heartbeat interval, seconds without a beat after which a trial counts as dead) of the study's storage."""
    backend = getattr(study._storage, "_backend", study._storage)
    interval = cast(BaseHeartbeat, backend).get_heartbeat_interval() or 30
    return interval, (getattr(backend, "grace_period", None) or 2 * interval)
