"""Read a search-space YAML, expand its shorthands and validate it whole.

Errors name the file, the line, the field, the offending value and the valid choices.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from ._registry import did_you_mean
from ._schema import SearchSpaceFile


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> SearchSpaceFile:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such search-space file")
    return load_config_text(path.read_text(encoding="utf-8"), str(path), overrides)


def load_config_text(text: str, source: str = "<config>", overrides: dict[str, Any] | None = None) -> SearchSpaceFile:
    try:
        raw = yaml.load(text, Loader=_Loader)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with sections study, data, train, search")
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    try:
        if isinstance(raw.get("search"), dict):
            raw["search"] = {k: _expand_param(v, f"search.{k}") for k, v in raw["search"].items()}
    except ConfigError as exc:
        raise ConfigError(f"{source}:{_line(node, str(exc).split(':')[0].split('.'))}: {exc}") from None
    try:
        return SearchSpaceFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, source, node)) from None


def _set_dotted(raw: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    cur = raw
    for k in keys[:-1]:
        cur = cur.setdefault(k, {})
    cur[keys[-1]] = value


def _expand_param(value: Any, where: str) -> dict[str, Any]:
    """Turn the shorthands into ParamSpec dicts.

    ``[a, b]`` is categorical; ``{low, high}`` is int when both bounds are ints, else float;
    ``{choices: {a: {...}, b: null}}`` is categorical with conditional children.
    """
    if isinstance(value, list):
        return {"type": "categorical", "choices": value}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: {value!r} is a fixed value; give a list of choices or {{low, high}} "
            "(fixed settings belong in the train section)"
        )
    spec = dict(value)
    choices = spec.get("choices")
    if isinstance(choices, dict):
        spec["choices"] = list(choices)
        spec["children"] = {
            str(choice): {k: _expand_param(v, f"{where}.{choice}.{k}") for k, v in (sub or {}).items()}
            for choice, sub in choices.items()
            if sub
        }
    if "type" not in spec:
        if "choices" in spec:
            spec["type"] = "categorical"
        elif "low" in spec and "high" in spec:
            ints = all(isinstance(spec[b], int) and not isinstance(spec[b], bool) for b in ("low", "high"))
            spec["type"] = "int" if ints and not isinstance(spec.get("step", 1), float) else "float"
    return spec


def _line(node: yaml.Node | None, loc: list[str] | tuple) -> int:
    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    node, line = v, k.start_mark.line + 1
                    break
            else:
                if key in ("choices", "children"):
                    continue
                break
        elif isinstance(node, yaml.SequenceNode) and str(key).isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        elif key in ("children",):
            continue
        else:
            break
    return line


def _format(exc: ValidationError, source: str, node: yaml.Node | None) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
        loc = [p for p in loc if p not in ("tagged-union",)]
        msg = str(err["msg"]).removeprefix("Value error, ")
        m = re.match(r"^([A-Za-z_][\w.]*): ", msg)
        if not loc and m:  # whole-file checks name their field at the start of the message
            loc, msg = m.group(1).split("."), msg[m.end():]
        dotted = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            msg = f"unknown key {loc[-1]!r}"
            if allowed:
                msg += f"; valid keys here: {', '.join(allowed)}{did_you_mean(loc[-1], allowed)}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], dict):
            msg = f"{msg} (got {err['input']!r})"
        lines.append(f"{source}:{_line(node, loc)}: {dotted}: {msg}")
    return "\n".join(lines)


def _allowed_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] | None = SearchSpaceFile
    from ._schema import ParamSpec

    for key in loc:
        if model is None:
            return []
        field = model.model_fields.get(key)
        if field is None:
            if model is SearchSpaceFile or key.isdigit():
                return []
            # dict-valued fields (search.<param>, children.<choice>.<param>) hold ParamSpecs
            model = ParamSpec
            continue
        ann = field.annotation
        model = next(
            (a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)),
            None,
        )
        if model is None and key in ("search", "children"):
            model = ParamSpec
    return sorted(model.model_fields) if model is not None else []


# Keys whose change does not change what a trial means: they may differ on resume.
_VOLATILE = {("study", "n_trials"), ("study", "portfolio"), ("study", "constraints"), ("deploy",), ("study", "timeout"), ("study", "budget"), ("study", "keep"), ("study", "storage"), ("study", "sampler"),
             ("study", "pruner"), ("study", "heartbeat_interval"), ("study", "grace_period"),
             ("study", "max_retry"), ("train", "device"), ("train", "num_workers"), ("data", "cache"),
             ("data", "skip_bad"), ("train", "checkpoint_interval"), ("wandb",), ("final",)}


def space_fingerprint(cfg: SearchSpaceFile) -> dict[str, Any]:
    """The parts of a config that define what a trial means, flattened to dotted keys."""
    data = json.loads(cfg.model_dump_json())
    flat: dict[str, Any] = {}

    def walk(obj: Any, path: tuple[str, ...]) -> None:
        if any(path[: len(v)] == v for v in _VOLATILE):
            return
        if path == ("study", "minimize") and not obj:  # single-objective: hashed as before the key existed
            return
        if path == ("data", "flips") and obj == "auto":  # the default: studies made before the key still resume
            return
        if isinstance(obj, dict) and obj:
            for k, v in obj.items():
                walk(v, (*path, str(k)))
        else:
            flat[".".join(path)] = obj

    walk(data, ())
    return flat


def space_hash(cfg: SearchSpaceFile) -> str:
    blob = json.dumps(space_fingerprint(cfg), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            changes.append(f"{key}: removed (was {old[key]!r})")
        elif key not in old:
            changes.append(f"{key}: added ({new[key]!r})")
        elif old[key] != new[key]:
            changes.append(f"{key}: {old[key]!r} -> {new[key]!r}")
    return changes
