"""Growing a running study's search space: a new version of the space that every finished trial still fits.

Accepted, as a new version (recorded in the study's ``space_versions`` user attribute, shown by ``status``):

- a choice added to a categorical parameter (a new encoder, a new loss with its own conditional parameters);
- a numeric range widened (``low`` lowered, ``high`` raised; the scale and step unchanged);
- a parameter newly searched whose fixed value (``train.<name>``, what every earlier trial ran with) is inside
  its new range or choices.

Finished trials stay, count toward the budget and stay in the reports. The sampler sees them re-expressed in the
new space (``FilledView``): a newly searched parameter at the value they ran with. Anything else (a choice
removed, a range narrowed, another setting changed) is refused with the trials it would orphan;
``launch --fork NEW_NAME`` copies the trials that fit into a new study instead.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..config import SearchSpaceFile

VERSIONS_ATTR = "space_versions"


@dataclass
class Growth:
    """How a new space differs from a study's: what it adds, and what it changes that is not growth."""

    added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.added) and not self.refused


def classify(old: dict[str, Any], new: dict[str, Any], new_cfg: SearchSpaceFile) -> Growth:
    """Compare two space fingerprints (``space_fingerprint``: flat dotted keys)."""
    g = Growth()
    old_params = {k.split(".")[1] for k in old if k.startswith("search.")}
    new_params = {k.split(".")[1] for k in new if k.startswith("search.")}
    for name in sorted(old_params - new_params):
        g.refused.append(f"search.{name}: no longer searched")
    for name in sorted(new_params - old_params):
        spec = new_cfg.search[name]
        fixed = getattr(new_cfg.train, name, None)
        if _inside(fixed, spec) and not (spec.type == "categorical" and spec.children.get(str(fixed))):
            g.added.append(f"search.{name}: now searched (earlier trials: {fixed!r})")
        else:
            g.refused.append(f"search.{name}: now searched, but the value earlier trials ran with "
                             f"(train.{name}: {fixed!r}) is not in it")
    for key in sorted(set(old) | set(new)):
        parts = key.split(".")
        if parts[0] == "search" and parts[1] not in (old_params & new_params):
            continue  # a whole parameter added or removed: above
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a == b:
            continue
        if parts[0] == "search" and len(parts) == 3 and parts[2] == "choices" and isinstance(a, list) \
                and isinstance(b, list) and set(map(str, a)) < set(map(str, b)):
            g.added.append(f"search.{parts[1]}: choice(s) {[c for c in b if c not in a]} added")
        elif parts[0] == "search" and len(parts) == 3 and parts[2] in ("low", "high") \
                and isinstance(a, int | float) and isinstance(b, int | float) \
                and (b < a if parts[2] == "low" else b > a):
            g.added.append(f"search.{parts[1]}.{parts[2]}: widened {a!r} -> {b!r}")
        elif parts[0] == "search" and len(parts) > 3 and parts[2] == "children" and _new_choice_child(
                parts, old, new):
            continue  # the conditional parameters of a choice that is itself added (reported with it)
        elif parts[0] == "search" and len(parts) == 3 and parts[2] == "children" and a == {} and b is _MISSING:
            continue  # the first choice with conditional parameters (its keys are checked on their own)
        else:
            g.refused.append(f"{key}: {_show(a)} -> {_show(b)}")
    return g


_MISSING = object()


def _show(v: Any) -> str:
    return "(none)" if v is _MISSING else repr(v)


def _new_choice_child(parts: list[str], old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``search.P.children.CHOICE...`` belongs to a choice that the new space adds."""
    choice = parts[3]
    before = old.get(f"search.{parts[1]}.choices") or []
    after = new.get(f"search.{parts[1]}.choices") or []
    return choice not in map(str, before) and choice in map(str, after)


def _inside(value: Any, spec: Any) -> bool:
    if value is None:
        return False
    if spec.type == "categorical":
        return value in (spec.choices or [])
    return isinstance(value, int | float) and spec.low <= value <= spec.high


def orphans(trials: Sequence[FrozenTrial], cfg: SearchSpaceFile) -> list[int]:
    """Finished trials whose settings the space ``cfg`` cannot express (a value outside it, a parameter it lacks)."""
    return [t.number for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and not fits(t, cfg)]


def _spec(cfg: SearchSpaceFile, key: str) -> Any:
    """The ParamSpec of an Optuna param name (``lr``, or a child as ``loss.focal.gamma``), or None."""
    parts = key.split(".")
    spec = cfg.search.get(parts[0])
    if spec is not None and len(parts) == 3:
        spec = spec.children.get(parts[1], {}).get(parts[2])
    return spec


def distribution(spec: Any) -> optuna.distributions.BaseDistribution:
    """The distribution a trial of this space draws ``spec`` from (as ``_space._suggest`` asks for it)."""
    D = optuna.distributions
    if spec.type == "categorical":
        return D.CategoricalDistribution(list(spec.choices or []))
    if spec.type == "int":
        return D.IntDistribution(int(spec.low), int(spec.high), step=int(spec.step or 1), log=spec.log)
    return D.FloatDistribution(float(spec.low), float(spec.high), step=spec.step, log=spec.log)


def fits(t: FrozenTrial, cfg: SearchSpaceFile) -> bool:
    from ._space import _check_in_space

    for key, value in t.params.items():
        spec = _spec(cfg, key)
        if spec is None:
            return False
        try:
            _check_in_space(key, value, spec)
        except ValueError:
            return False
    return True


def defaults(cfg: SearchSpaceFile) -> dict[str, Any]:
    """The value a trial made before a parameter was searched ran with: ``train.<name>``."""
    return {name: getattr(cfg.train, name) for name in cfg.search if getattr(cfg.train, name, None) is not None}


def filled(t: FrozenTrial, cfg: SearchSpaceFile, dists: dict[str, Any]) -> FrozenTrial:
    """``t`` re-expressed in the space: each searched parameter it lacks at the value it ran with."""
    missing = {k: v for k, v in defaults(cfg).items() if k not in t.params and k in dists}
    if not missing:
        return t
    t = copy.copy(t)
    t.params = {**t.params, **missing}
    t.distributions = {**t.distributions, **{k: dists[k] for k in missing}}
    return t


class FilledView:
    """A study whose finished trials are seen re-expressed in the current space (what a sampler is given)."""

    def __init__(self, study: Any, cfg: SearchSpaceFile) -> None:
        self._study, self._cfg = study, cfg

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        trials = self._study.get_trials(deepcopy=deepcopy, states=states)
        dists: dict[str, Any] = {}
        for t in trials:  # the newest trials' distributions: those of the current space
            dists.update(t.distributions)
        return [filled(t, self._cfg, dists) for t in trials]

    def _get_trials(self, deepcopy: bool = True, states: Any = None, use_cache: bool = False) -> list[FrozenTrial]:
        return self.get_trials(deepcopy=deepcopy, states=states)


def record_version(study: optuna.Study, growth: Growth, new_hash: str, n_trials: int) -> int:
    """Append the new version to the study's ``space_versions``; returns its number (the first space is 1)."""
    versions = list(study.user_attrs.get(VERSIONS_ATTR) or [{"version": 1, "from_trial": 0}])
    number = int(versions[-1]["version"]) + 1
    versions.append({"version": number, "hash": new_hash, "from_trial": n_trials, "changes": growth.added})
    study.set_user_attr(VERSIONS_ATTR, versions)
    return number


def fork(study: optuna.Study, cfg: SearchSpaceFile, storage: Any) -> tuple[optuna.Study, list[int], list[int]]:
    """A new study named ``cfg.study.name`` in ``storage`` holding copies of ``study``'s finished trials that fit
    ``cfg``'s space. Returns it with the numbers of the trials copied and of those left behind."""
    from ._study import open_study

    new = open_study(storage, cfg)
    if new.get_trials(deepcopy=False):
        raise ValueError(f"--fork: study {cfg.study.name!r} already exists with trials; give a new name")
    copied, left = [], []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        if not fits(t, cfg):
            left.append(t.number)
            continue
        attrs = {**t.user_attrs, "forked_from": {"study": study.study_name, "trial": t.number}}
        # the new space's distributions: Optuna's storage refuses a later draw from other choices than these
        dists = {k: distribution(_spec(cfg, k)) for k in t.params}
        new.add_trial(optuna.trial.create_trial(
            state=t.state, values=t.values, params=t.params, distributions=dists, user_attrs=attrs,
            intermediate_values=t.intermediate_values,
            system_attrs={k: v for k, v in t.system_attrs.items()
                          if k == "fixed_params" or k.startswith("constraints")}))  # infeasible stays infeasible
        copied.append(t.number)
    return new, copied, left
