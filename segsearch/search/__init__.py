"""The only package that imports Optuna: storage, sampling, pruning, studies, trials."""

from ._factories import build_pruner, build_sampler
from ._objective import Outcome, OptunaReporter, TrialEnv, resolve_trial_config, run_trial, system_attrs, trial_root
from ._requeue import best_value, requeue, sweep_stale
from ._space import grid_points, params_to_settings, sample
from ._storage import ENV_VAR, StorageError, is_embedded, make_storage, mask_url, resolve_storage_url
from ._study import (
    REQUEUED,
    SpaceChanged,
    counts_toward_budget,
    open_study,
    stored_config,
    top_up_budget,
)

__all__ = [
    "ENV_VAR",
    "REQUEUED",
    "OptunaReporter",
    "Outcome",
    "SpaceChanged",
    "StorageError",
    "TrialEnv",
    "best_value",
    "build_pruner",
    "build_sampler",
    "counts_toward_budget",
    "grid_points",
    "is_embedded",
    "make_storage",
    "mask_url",
    "open_study",
    "params_to_settings",
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
