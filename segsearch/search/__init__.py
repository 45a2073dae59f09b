"""The only package that imports Optuna: storage, sampling, pruning, studies, trials."""

from ._budget import MIN_SEARCH_TRIALS, SEARCH_ROOM, TRIAL_EPOCHS_ATTR, Budget, check_budget, trial_epochs_for
from ._factories import build_pruner, build_sampler
from ._multi import AccuracyView, accuracy, best_trial, pareto_front
from ._objective import (
    OptunaReporter,
    Outcome,
    TrialEnv,
    planned_epochs,
    replay_settings,
    resolve_trial_config,
    run_trial,
    trial_root,
    trial_settings,
    typical_epoch,
)
from ._requeue import (
    WORKER_DIED,
    RequeueStaleTrial,
    best_value,
    heartbeat,
    heartbeat_timing,
    is_finished,
    next_trial,
    pause,
    pop_next,
    reported_steps,
    requeue,
    sweep_stale,
    system_attrs,
)
from ._retention import KEEP, retain
from ._space import grid_points, params_to_settings, sample
from ._storage import (
    ENV_VAR,
    OpenedStorage,
    ResilientRDBStorage,
    StorageError,
    describe,
    is_embedded,
    is_transient,
    load_study,
    make_storage,
    mask_url,
    open_storage,
    resolve_storage_url,
    study_id,
    study_lock,
)
from ._study import (
    INFEASIBLE_ATTR,
    PAUSED_ATTR,
    REQUEUED,
    UID_ATTR,
    SpaceChanged,
    budget_left,
    counts_toward_budget,
    enqueue_settings,
    is_budget_placeholder,
    open_study,
    retries_due,
    stored_config,
    top_up_budget,
)


def _optuna_logs_like_ours() -> None:
    """Optuna's log lines go through the root handler (``HH:MM:SS LEVEL message``), not Optuna's own format."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()


_optuna_logs_like_ours()

__all__ = [
    "AccuracyView",
    "accuracy",
    "best_trial",
    "pareto_front",
    "KEEP",
    "retain",
    "retries_due",
    "describe",
    "ENV_VAR",
    "INFEASIBLE_ATTR",
    "PAUSED_ATTR",
    "REQUEUED",
    "WORKER_DIED",
    "RequeueStaleTrial",
    "ResilientRDBStorage",
    "OptunaReporter",
    "Outcome",
    "SpaceChanged",
    "StorageError",
    "TrialEnv",
    "planned_epochs",
    "typical_epoch",
    "UID_ATTR",
    "Budget",
    "MIN_SEARCH_TRIALS",
    "SEARCH_ROOM",
    "TRIAL_EPOCHS_ATTR",
    "trial_epochs_for",
    "best_value",
    "check_budget",
    "build_pruner",
    "build_sampler",
    "counts_toward_budget",
    "enqueue_settings",
    "budget_left",
    "is_budget_placeholder",
    "grid_points",
    "is_embedded",
    "is_transient",
    "load_study",
    "study_id",
    "study_lock",
    "OpenedStorage",
    "make_storage",
    "open_storage",
    "mask_url",
    "open_study",
    "params_to_settings",
    "pop_next",
    "pause",
    "requeue",
    "resolve_storage_url",
    "replay_settings",
    "resolve_trial_config",
    "trial_settings",
    "run_trial",
    "sample",
    "stored_config",
    "sweep_stale",
    "system_attrs",
    "heartbeat",
    "heartbeat_timing",
    "is_finished",
    "next_trial",
    "reported_steps",
    "top_up_budget",
    "trial_root",
]
