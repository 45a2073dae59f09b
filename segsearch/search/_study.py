"""Create or resume a study: the space hash guards it, budget tokens make the trial count exact.

The budget is held as WAITING trials ("tokens") that workers pop atomically, so any number of
workers on one storage run exactly ``n_trials`` trials between them.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
from optuna.trial import TrialState

from ..config import SearchSpaceFile, describe_changes, space_fingerprint, space_hash
from ._factories import build_pruner, build_sampler
from ._space import grid_points

CONFIG_ATTR = "segsearch_config"
HASH_ATTR = "space_hash"
FINGERPRINT_ATTR = "space_fingerprint"
REQUEUED = "requeued"  # fail reasons after which the trial is handed back, not counted


class SpaceChanged(ValueError):
    """The YAML no longer matches the study it names."""


def config_json(cfg: SearchSpaceFile) -> str:
    """The config as stored with the study: no storage URL (it may hold a password)."""
    data = json.loads(cfg.model_dump_json())
    data["study"]["storage"] = None
    return json.dumps(data)


def open_study(storage: Any, cfg: SearchSpaceFile, create: bool = True) -> optuna.Study:
    kwargs = dict(study_name=cfg.study.name, storage=storage, sampler=build_sampler(cfg.study),
                  pruner=build_pruner(cfg.study, cfg.train.epochs))
    if not create:
        return optuna.load_study(**kwargs)
    study = optuna.create_study(direction=cfg.study.direction, load_if_exists=True, **kwargs)
    stored = study.user_attrs.get(HASH_ATTR)
    new_hash = space_hash(cfg)
    if stored is None:
        study.set_user_attr(HASH_ATTR, new_hash)
        study.set_user_attr(FINGERPRINT_ATTR, space_fingerprint(cfg))
        study.set_user_attr(CONFIG_ATTR, config_json(cfg))
    elif stored != new_hash:
        changes = describe_changes(study.user_attrs.get(FINGERPRINT_ATTR, {}), space_fingerprint(cfg))
        raise SpaceChanged(
            f"study {cfg.study.name!r} was created with a different search space (hash {stored}, now {new_hash}):\n  "
            + "\n  ".join(changes[:20])
            + "\nRevert the change, or give the study a new study.name."
        )
    else:
        study.set_user_attr(CONFIG_ATTR, config_json(cfg))  # volatile keys (budget, pruner) may change
    return study


def stored_config(study: optuna.Study) -> SearchSpaceFile:
    raw = study.user_attrs.get(CONFIG_ATTR)
    if raw is None:
        raise ValueError(f"study {study.study_name!r} was not created by segsearch (no stored search space)")
    return SearchSpaceFile.model_validate(json.loads(raw))


def counts_toward_budget(t: optuna.trial.FrozenTrial) -> bool:
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") not in (None, REQUEUED)


def top_up_budget(study: optuna.Study, cfg: SearchSpaceFile) -> int:
    """Enqueue waiting trials so that done + running + waiting reaches the budget. Returns how many."""
    trials = study.get_trials(deepcopy=False)
    if cfg.study.sampler.name == "grid":
        return _enqueue_grid(study, cfg, trials)
    if cfg.study.n_trials is None:
        return 0
    pending = sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    done = sum(counts_toward_budget(t) for t in trials)
    missing = max(0, cfg.study.n_trials - done - pending)
    for _ in range(missing):
        study.enqueue_trial({}, user_attrs={"token": True})
    return missing


def _enqueue_grid(study: optuna.Study, cfg: SearchSpaceFile, trials: list) -> int:
    seen = [t.system_attrs.get("fixed_params", t.params) for t in trials if t.state != TrialState.FAIL
            or t.user_attrs.get("fail_reason") not in (None, REQUEUED)]
    points = grid_points(cfg.search)
    if cfg.study.n_trials is not None:
        points = points[: cfg.study.n_trials]
    added = 0
    for p in points:
        if p not in seen:
            study.enqueue_trial(p, user_attrs={"grid": True})
            added += 1
    return added


def budget_left(study: optuna.Study) -> int:
    return sum(t.state == TrialState.WAITING for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
