"""Multi-objective studies: accuracy first, deployment costs after it, and pruning on the accuracy.

Optuna refuses ``trial.report`` and ``trial.should_prune`` in a study with more than one objective
(optuna#3450). segsearch reports the accuracy objective itself (the storage's intermediate values, as
``report`` writes them) and asks the study's pruner about a view of the study (``AccuracyView``) that has
the accuracy's direction and holds only the trials that cost at most what this one costs, on every cost
objective: the only trials that can dominate it. So a trial is pruned when its learning curve is behind
those of trials at least as cheap, and a cheap model that learns slowly is not pruned for being behind
expensive ones: it may be the front's cheap end (bench/bench_pareto.py measures both ways on recorded
curves). The costs are measured once per trial before it trains and never change, so there is nothing to
prune on in them. Without patching Optuna: the view answers ``direction``, ``best_trial`` and
``get_trials`` and passes everything else to the study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState


def accuracy(t: FrozenTrial) -> float | None:
    """The trial's accuracy objective (the first), or None while it has no value."""
    values = t.values
    return None if not values else values[0]


class AccuracyView:
    """A study as its pruner sees it: every attribute of the study, with the accuracy objective's direction,
    and with ``within`` (cost name -> this trial's cost) only the trials that cost at most as much on each."""

    def __init__(self, study: optuna.Study, within: dict[str, float] | None = None) -> None:
        self._study, self._within = study, within or {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        trials = self._study.get_trials(deepcopy=deepcopy, states=states)
        if not self._within:
            return trials
        return [t for t in trials if all(t.user_attrs.get(k) is not None and t.user_attrs[k] <= v
                                         for k, v in self._within.items())]

    @property
    def direction(self) -> StudyDirection:
        return self._study.directions[0]

    @property
    def best_trial(self) -> FrozenTrial:  # among the trials at most as costly (Wilcoxon compares with it)
        best = best_trial(self._study, self.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if best is None:
            raise ValueError("no trial is complete yet")
        return best


class ViewSampler(optuna.samplers.BaseSampler):
    """A sampler that is given a view of the study (``view(study)``) instead of the study itself."""

    def __init__(self, sampler: optuna.samplers.BaseSampler, view: Callable[[Any], Any]) -> None:
        self.sampler, self._view = sampler, view

    def __str__(self) -> str:
        return str(self.sampler)

    def infer_relative_search_space(self, study: Any, trial: FrozenTrial) -> Any:
        return self.sampler.infer_relative_search_space(self._view(study), trial)  # type: ignore[arg-type]

    def sample_relative(self, study: Any, trial: FrozenTrial, search_space: Any) -> Any:
        return self.sampler.sample_relative(self._view(study), trial, search_space)  # type: ignore[arg-type]

    def sample_independent(self, study: Any, trial: FrozenTrial, param_name: str, param_distribution: Any) -> Any:
        return self.sampler.sample_independent(self._view(study), trial, param_name,  # type: ignore[arg-type]
                                               param_distribution)

    def before_trial(self, study: Any, trial: FrozenTrial) -> None:
        self.sampler.before_trial(self._view(study), trial)  # type: ignore[arg-type]

    def after_trial(self, study: Any, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self.sampler.after_trial(self._view(study), trial, state, values)  # type: ignore[arg-type]

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()


def accuracy_ranks_pruned(sampler: optuna.samplers.BaseSampler) -> ViewSampler:
    """A sampler for a multi-objective study whose pruned trials have learning curves. Optuna's TPE ranks pruned
    trials by their last reported value in ``study.direction``, which a multi-objective study cannot answer
    (segsearch reports the accuracy there; Optuna never does): it is given the study as ``AccuracyView``, so
    pruned trials rank by how far and how well their accuracy got, complete ones by their Pareto rank."""
    return ViewSampler(sampler, AccuracyView)


def report(trial: optuna.Trial, value: float, step: int) -> None:
    """``trial.report`` for any study: in a multi-objective one the accuracy's learning curve."""
    if len(trial.study.directions) == 1:
        trial.report(value, step)
    else:
        trial.storage.set_trial_intermediate_value(trial._trial_id, step, float(value))


def should_prune(trial: optuna.Trial, pareto: bool = True) -> bool:
    """``trial.should_prune`` for any study: a multi-objective one is pruned on its accuracy, against the trials
    that cost at most what it costs (``pareto`` False: against every trial, as a single-objective study)."""
    study = trial.study
    if len(study.directions) == 1:
        return trial.should_prune()
    frozen = study._storage.get_trial(trial._trial_id)
    costs = (study.metric_names or [])[1:]  # the cost objectives' names, set when the study was made
    within = {c: float(frozen.user_attrs[c]) for c in costs if frozen.user_attrs.get(c) is not None} if pareto else {}
    return bool(study.pruner.prune(AccuracyView(study, within), frozen))  # type: ignore[arg-type]  # a Study in all it reads


def best_trial(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> FrozenTrial | None:
    """The complete trial with the best accuracy (in a multi-objective study, within its constraints), or None."""
    done = [t for t in (trials if trials is not None else study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            if t.state == TrialState.COMPLETE and accuracy(t) is not None]
    if not done:
        return None
    sign = 1.0 if study.directions[0] == StudyDirection.MAXIMIZE else -1.0
    return max(done, key=lambda t: (sign * float(accuracy(t)), -t.number))  # type: ignore[arg-type]


def pareto_front(points: Iterable[tuple[int, float, tuple[float, ...]]], maximize: bool = True) -> set[int]:
    """The numbers of the points ``(number, accuracy, costs)`` that no other point dominates (at least as
    accurate, at most as costly on every cost, strictly better on one; accuracy ``maximize``-d, costs
    minimized): the accuracy-vs-cost trade-offs a user picks from."""
    pts = [(n, ((a if maximize else -a), *(-c for c in costs))) for n, a, costs in points]  # all maximized

    def dominates(p: tuple[float, ...], q: tuple[float, ...]) -> bool:
        return all(x >= y for x, y in zip(p, q, strict=True)) and p != q

    return {n for n, p in pts if not any(dominates(q, p) for _, q in pts)}
