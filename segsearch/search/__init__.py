"""The only package that imports Optuna: storage, sampling, pruning, studies, trials."""

from ._budget import Budget, check_budget
from ._factories import build_pruner, build_sampler
from ._objective import (
    OptunaReporter,
    Outcome,
    TrialEnv,
    resolve_trial_config,
    run_trial,
    system_attrs,
    trial_root,
)
from ._requeue import WORKER_DIED, RequeueStaleTrial, best_value, pop_next, requeue, sweep_stale
from ._space import grid_points, params_to_settings, sample
from ._storage import (
    ENV_VAR,
    ResilientRDBStorage,
    StorageError,
    is_embedded,
    is_transient,
    make_storage,
    mask_url,
    resolve_storage_url,
)
from ._study import (
    REQUEUED,
    UID_ATTR,
    SpaceChanged,
    counts_toward_budget,
    enqueue_settings,
    open_study,
    stored_config,
    top_up_budget,
)

__all__ = [
    "ENV_VAR",
    "REQUEUED",
    "WORKER_DIED",
    "RequeueStaleTrial",
    "ResilientRDBStorage",
    "OptunaReporter",
    "Outcome",
    "SpaceChanged",
    "StorageError",
    "TrialEnv",
    "UID_ATTR",
    "Budget",
    "best_value",
    "check_budget",
    "build_pruner",
    "build_sampler",
    "counts_toward_budget",
    "enqueue_settings",
    "grid_points",
    "is_embedded",
    "is_transient",
    "make_storage",
    "mask_url",
    "open_study",
    "params_to_settings",
    "pop_next",
    "requeue",
    "resolve_storage_url",
    "resolve_trial_config",
    "run_trial",
    "sample",
    "stored_config",
    "sweep_stale",
    "system_attrs",
    "top_up_budget",
    "trial_root",
]
