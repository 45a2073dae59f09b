"""Create or resume a study: the space hash guards it, the trial budget makes the trial count exact.

The budget is a study attribute (``trial_budget``: ``n_trials``, plus one per ``segsearch enqueue``d trial). A
worker creates a new trial only under the study's lock and only while done + running + queued trials are
below it, so any number of workers on one storage run exactly ``n_trials`` trials between them, and the
storage (and optuna-dashboard) holds real trials only. Studies made before this held the budget as WAITING
"token" trials; workers still pop those, and views count them as budget.
"""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

import optuna
from optuna.trial import TrialState

from ..config import (
    SearchSpaceFile,
    describe_changes,
    objective_label,
    space_fingerprint,
    space_hash,
)
from ..errors import SpaceChanged
from ._factories import build_pruner, build_sampler
from ._grow import VERSIONS_ATTR, FilledView, classify, orphans, record_version
from ._multi import ViewSampler
from ._space import grid_points, settings_to_params, validate_settings

log = logging.getLogger(__name__)

CONFIG_ATTR = "segsearch_config"
UID_ATTR = "segsearch_uid"  # unique per study, unlike its name: trial folders record it (a new study of an old name)
HASH_ATTR = "space_hash"
FINGERPRINT_ATTR = "space_fingerprint"
REQUEUED = "requeued"  # fail reasons after which the trial is handed back, not counted
PAUSED_ATTR = "paused_at_epoch"  # a trial handed back by its worker (Ctrl-C, SIGTERM): WAITING to resume in place
INFEASIBLE_ATTR = "infeasible"  # user attr: the configuration cannot run here (out of memory at the smallest batch)
BUDGET_ATTR = "trial_budget"  # the study's n_trials (the latest launch's); absent: open-ended




def config_json(cfg: SearchSpaceFile) -> str:
    """The config as stored with the study: no storage URL (it may hold a password)."""
    data = json.loads(cfg.model_dump_json())
    data["study"]["storage"] = None
    return json.dumps(data)


def open_study(storage: Any, cfg: SearchSpaceFile, create: bool = True) -> optuna.Study:
    kwargs = dict(study_name=cfg.study.name, storage=storage, sampler=build_sampler(cfg.study),
                  pruner=build_pruner(cfg.study, cfg.train.epochs))
    if not create:  # a worker joining a study: its own random stream, or N workers would repeat each other
        study = optuna.load_study(**kwargs)
        study.sampler.reseed_rng()
        if study.user_attrs.get(VERSIONS_ATTR):
            study.sampler = ViewSampler(study.sampler, lambda s: FilledView(s, cfg))
        return study
    study = optuna.create_study(directions=[optuna.study.StudyDirection[d.upper()] for d in cfg.study.directions],
                                load_if_exists=True, **kwargs)
    if study.get_trials(deepcopy=False):  # a resumed launch must not replay the draws of the first
        study.sampler.reseed_rng()
    with warnings.catch_warnings():  # the dashboard's axis: "val mIoU (class mean)", not "Objective 0"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([objective_label(cfg), *cfg.study.minimize])
    if UID_ATTR not in study.user_attrs:
        import uuid

        study.set_user_attr(UID_ATTR, uuid.uuid4().hex)
    stored = study.user_attrs.get(HASH_ATTR)
    new_hash = space_hash(cfg)
    if stored is None:
        study.set_user_attr(HASH_ATTR, new_hash)
        study.set_user_attr(FINGERPRINT_ATTR, space_fingerprint(cfg))
        study.set_user_attr(CONFIG_ATTR, config_json(cfg))
    elif stored != new_hash:
        _grow_space(study, cfg, stored, new_hash)
        study = optuna.load_study(**kwargs)  # a fresh cache: the stored distributions were rewritten
    else:
        study.set_user_attr(CONFIG_ATTR, config_json(cfg))  # volatile keys (budget, pruner) may change
    if study.user_attrs.get(VERSIONS_ATTR):  # a grown space: the sampler sees earlier trials re-expressed in it
        study.sampler = ViewSampler(study.sampler, lambda s: FilledView(s, cfg))
    return study


def _grow_space(study: optuna.Study, cfg: SearchSpaceFile, stored: str, new_hash: str) -> None:
    """Accept a space that grew (``_grow``) as the study's new version; refuse any other change, naming it and
    the finished trials it would orphan."""
    old_fp, new_fp = study.user_attrs.get(FINGERPRINT_ATTR, {}), space_fingerprint(cfg)
    growth = classify(old_fp, new_fp, cfg)
    trials = study.get_trials(deepcopy=False)
    if not growth.ok:
        changes = growth.refused or describe_changes(old_fp, new_fp)
        lost = orphans(trials, cfg)
        raise SpaceChanged(
            f"study {cfg.study.name!r} was created with a different search space (hash {stored}, now {new_hash}):\n  "
            + "\n  ".join(changes[:20])
            + ("\nOnly growing the space is accepted on a running study: adding choices, widening ranges, searching "
               "a parameter its earlier trials ran with a value of.")
            + (f"\nThe new space cannot express {len(lost)} finished trial(s): {', '.join(map(str, lost[:30]))}."
               if lost else "")
            + "\nRevert the change, give the study a new study.name, or launch with --fork NEW_NAME to copy the "
              "finished trials that fit into a new study.")
    from ._storage import widen_choices

    for name, spec in cfg.search.items():  # added choices: the stored trials' distributions widened to match
        old_choices = old_fp.get(f"search.{name}.choices")
        if spec.type == "categorical" and old_choices is not None and old_choices != spec.choices:
            widen_choices(study, name, list(spec.choices or []))
    version = record_version(study, growth, new_hash, len(trials))
    study.set_user_attr(HASH_ATTR, new_hash)
    study.set_user_attr(FINGERPRINT_ATTR, new_fp)
    study.set_user_attr(CONFIG_ATTR, config_json(cfg))
    log.info("study %s: search space version %d (%d earlier trials kept): %s", cfg.study.name, version, len(trials),
             "; ".join(growth.added))


def stored_config(study: optuna.Study) -> SearchSpaceFile:
    raw = study.user_attrs.get(CONFIG_ATTR)
    if raw is None:
        raise ValueError(f"study {study.study_name!r} was not created by segsearch (no stored search space)")
    return SearchSpaceFile.model_validate(json.loads(raw))


def counts_toward_budget(t: optuna.trial.FrozenTrial) -> bool:
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return (t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") not in (None, REQUEUED)
            and not t.user_attrs.get("retried"))  # a dead attempt whose retry carries on is not a result


def enqueued_chains(trials: list[optuna.trial.FrozenTrial]) -> int:
    """How many trials users added with ``segsearch enqueue`` (each extends the budget by one)."""
    return len({t.system_attrs.get("failed_trial", t.number) for t in trials if t.user_attrs.get("enqueued")})


def is_budget_placeholder(t: optuna.trial.FrozenTrial) -> bool:
    """A WAITING trial that only holds a place in the budget (no settings of its own): views show the count,
    not the trial."""
    return t.state == TrialState.WAITING and bool(t.user_attrs.get("token")) and "failed_trial" not in t.system_attrs


def top_up_budget(study: optuna.Study, cfg: SearchSpaceFile, portfolio: bool = True) -> int:
    """Record the trial budget (``study.n_trials``) and queue a new study's baseline and portfolio (grid: the
    grid's points; ``portfolio`` False: the baseline alone, for a launch with no room to search). Returns how
    many trials the budget still pays for (open-ended: how many were queued)."""
    trials = study.get_trials(deepcopy=False)
    if cfg.study.sampler.name == "grid":
        return _enqueue_grid(study, cfg, trials)
    if cfg.study.n_trials is None:
        if study.user_attrs.get(BUDGET_ATTR) is not None:
            study.set_user_attr(BUDGET_ATTR, None)
        return _enqueue_start(study, cfg, None, portfolio) if not trials else 0
    if study.user_attrs.get(BUDGET_ATTR) != cfg.study.n_trials:
        study.set_user_attr(BUDGET_ATTR, cfg.study.n_trials)
    left = trials_left(study, trials)
    if not trials and left:
        _enqueue_start(study, cfg, left, portfolio)
    return left or 0


def _enqueue_start(study: optuna.Study, cfg: SearchSpaceFile, left: int | None, portfolio: bool) -> int:
    """A new study's first trials: the baseline, then (``portfolio``) the shipped portfolio's entries that fit the
    space and the budget. Returns how many were queued."""
    from ._portfolio import portfolio_params

    n = int(_enqueue_baseline(study, cfg))
    for params in portfolio_params(cfg) if portfolio else []:
        if left is not None and n >= left:
            break
        study.enqueue_trial(params, user_attrs={"portfolio": True}, skip_if_exists=False)
        n += 1
    return n


def budget_left(study: optuna.Study, trials: list[optuna.trial.FrozenTrial] | None = None) -> int:
    """What views show as "N more in the trial budget": trials it still pays for that nobody has configured yet."""
    trials = study.get_trials(deepcopy=False) if trials is None else trials
    return sum(is_budget_placeholder(t) for t in trials) + (trials_left(study, trials) or 0)


def trials_left(study: optuna.Study, trials: list[optuna.trial.FrozenTrial] | None = None) -> int | None:
    """How many new trials the budget still pays for (None: open-ended). Done, running and queued trials count,
    and each ``segsearch enqueue``d trial adds one to the budget."""
    budget = study.user_attrs.get(BUDGET_ATTR)
    if budget is None:
        return None
    trials = study.get_trials(deepcopy=False) if trials is None else trials
    pending = sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials) + len(retries_due(trials))
    done = sum(counts_toward_budget(t) for t in trials)
    return max(0, int(budget) + enqueued_chains(trials) - done - pending)


def retries_due(trials: list[optuna.trial.FrozenTrial]) -> list[int]:
    """Dead trials (``retried``) whose retry is not in the storage yet: a sweeper, in this process or any
    other, fails the trial first and queues its retry a moment later. Their budget is taken until it is,
    or a worker looking in between would start a new trial as well as the retry."""
    queued = {n for t in trials for n in t.system_attrs.get("retry_history", ())}
    return [t.number for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("retried")
            and t.number not in queued]


def _enqueue_baseline(study: optuna.Study, cfg: SearchSpaceFile) -> bool:
    """A new study's first trial: the recipe (or the YAML's baseline) expressed in the space."""
    from ._baseline import baseline_params

    params = baseline_params(cfg)
    if params is None:
        return False
    study.enqueue_trial(params, user_attrs={"baseline": True}, skip_if_exists=False)
    return True


def _enqueue_grid(study: optuna.Study, cfg: SearchSpaceFile, trials: list) -> int:
    """Every grid point not yet done or queued becomes a WAITING trial: workers pop them atomically,
    so several workers never train the same point twice (no race inside the grid sampler)."""
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


def enqueue_settings(study: optuna.Study, cfg: SearchSpaceFile, settings: dict[str, Any],
                     source: str = "cli") -> optuna.trial.FrozenTrial:
    """Queue a user's own training settings as the next trial; it extends the budget by one.

    ``settings`` are TrainConfig fields (``{"architecture": "unet", "lr": 3e-4, "loss_params": {...}}``),
    validated against TrainConfig and, for searched keys, against the search space.
    """
    typed = validate_settings(cfg, settings)
    params = settings_to_params(typed, cfg.search)
    study.enqueue_trial(params, user_attrs={"enqueued": True, "enqueued_from": source}, skip_if_exists=False)
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    return max(waiting, key=lambda t: t.number)


