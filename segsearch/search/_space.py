"""Sampling a search space into plain trial settings, and expanding it into a grid."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Protocol, cast

from ..config import ParamSpec, SearchSpaceFile, TrainConfig


class Suggester(Protocol):
    """The part of ``optuna.Trial`` that sampling uses (a FixedTrial works too)."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...
    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float: ...


def sample(trial: Suggester, space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """Draw one value per parameter; a choice's children are drawn only when it is chosen.

    Children land in ``<param>_params`` (``loss: focal`` -> ``loss_params.gamma``), and their
    Optuna names are ``<param>.<choice>.<child>`` so each branch keeps its own distribution.
    """
    out: dict[str, Any] = {}
    for name, spec in space.items():
        value = _suggest(trial, name, spec)
        out[name] = value
        children = spec.children.get(str(value), {})
        if children:
            out[f"{name}_params"] = {
                child: _suggest(trial, f"{name}.{value}.{child}", sub) for child, sub in children.items()
            }
    return out


def _suggest(trial: Suggester, name: str, spec: ParamSpec) -> Any:
    if spec.type == "categorical":
        return trial.suggest_categorical(name, list(spec.choices or []))
    low, high = cast(float, spec.low), cast(float, spec.high)  # set for numeric parameters (ParamSpec checks)
    if spec.type == "int":
        return trial.suggest_int(name, int(low), int(high), step=int(spec.step or 1), log=spec.log)
    return trial.suggest_float(name, float(low), float(high), step=spec.step, log=spec.log)


def grid_points(space: Mapping[str, ParamSpec]) -> list[dict[str, Any]]:
    """Every point of a finite space as Optuna params (``{"loss": "focal", "loss.focal.gamma": 2.0}``)."""
    per_param: list[list[dict[str, Any]]] = []
    for name, spec in space.items():
        options: list[dict[str, Any]] = []
        for value in _values(name, spec):
            children = spec.children.get(str(value), {})
            child_grids = grid_points({f"{name}.{value}.{c}": s for c, s in children.items()}) if children else [{}]
            options.extend({name: value, **g} for g in child_grids)
        per_param.append(options)
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*per_param)]


def _values(name: str, spec: ParamSpec) -> list[Any]:
    if spec.type == "categorical":
        return list(spec.choices or [])
    if spec.step is None:
        raise ValueError(f"search.{name}: a grid needs a 'step' for numeric parameters (or a list of values)")
    low, high = cast(float, spec.low), cast(float, spec.high)  # set for numeric parameters (ParamSpec checks)
    n = int(round((high - low) / spec.step)) + 1
    vals = [low + i * spec.step for i in range(n)]
    return [int(v) for v in vals] if spec.type == "int" else [round(v, 12) for v in vals]


def params_to_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's flat params back to trial settings (the inverse of the naming in ``sample``)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if "." in key:
            parent, _choice, child = key.split(".", 2)
            out.setdefault(f"{parent}_params", {})[child] = value
        else:
            out[key] = value
    return out


def validate_settings(cfg: SearchSpaceFile, settings: dict[str, Any]) -> dict[str, Any]:
    """Check keys and values against TrainConfig; returns the given keys with typed values."""
    from pydantic import ValidationError

    fields = set(TrainConfig.model_fields)
    if not settings:
        raise ValueError("nothing to enqueue: give --set key=value (TrainConfig fields) or --from-yaml")
    for key in settings:
        if key not in fields:
            raise ValueError(f"unknown training setting {key!r}; valid: {', '.join(sorted(fields))}")
    try:
        checked = TrainConfig.model_validate({**cfg.train.model_dump(), **settings})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        value = settings.get(str(err["loc"][0])) if err["loc"] else None
        raise ValueError(f"{key}={value!r}: {str(err['msg']).removeprefix('Value error, ')}") from None
    return {k: getattr(checked, k) for k in settings}


def settings_to_params(settings: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """TrainConfig settings to Optuna fixed params: searched keys by their Optuna names (children as
    ``loss.focal.gamma``), other keys kept as settings that the trial applies on top of the space."""
    params: dict[str, Any] = {}
    for key, value in settings.items():
        spec = space.get(key)
        parent = key.removesuffix("_params")
        if spec is not None:
            _check_in_space(key, value, spec)
            params[key] = value
        elif key.endswith("_params") and parent in space and space[parent].children:
            choice = settings.get(parent)
            children = space[parent].children.get(str(choice), {}) if choice is not None else {}
            for child, v in dict(value).items():
                if child not in children:
                    valid = ", ".join(children) or "none"
                    raise ValueError(f"{key}.{child}: {parent} {choice!r} is searched with conditional "
                                     f"parameters ({valid}); give {parent}=<choice> and one of those")
                _check_in_space(f"{key}.{child}", v, children[child])
                params[f"{parent}.{choice}.{child}"] = v
        else:
            params[key] = value
    return params


def _check_in_space(key: str, value: Any, spec: Any) -> None:
    if spec.type == "categorical":
        if value not in (spec.choices or []):
            raise ValueError(f"{key}={value!r} is not in the study's search space; choices: {spec.choices}")
    elif not (spec.low <= value <= spec.high):
        raise ValueError(f"{key}={value!r} is outside the study's search range [{spec.low}, {spec.high}]")
