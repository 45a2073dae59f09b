"""Handing a trial back: a waiting copy with the same parameters that resumes from its checkpoint."""

from __future__ import annotations

import warnings

import optuna
from optuna.trial import FrozenTrial, TrialState

_DROP = {"fail_reason", "error", "token"}


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
    system = {"failed_trial": trial.system_attrs.get("failed_trial", trial.number),
              "retry_history": [*trial.system_attrs.get("retry_history", []), trial.number],
              "fixed_params": trial.params}
    study.add_trial(optuna.create_trial(
        state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        user_attrs={k: v for k, v in trial.user_attrs.items() if k not in _DROP},
        system_attrs=system, intermediate_values=trial.intermediate_values,
    ))


def sweep_stale(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def best_value(study: optuna.Study) -> float | None:
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    if not done:
        return None
    pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
    return pick(t.value for t in done)
