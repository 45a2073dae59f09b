"""segsearch's shipped portfolio: configurations a new study tries right after its baseline, before the sampler
takes over (``study.portfolio: auto``, with the TPE sampler; off by default: on mri_struct at 20 minutes it
lost to the sampler's own draws, bench/LATEST.md). ``portfolio.json`` is written by
``bench/portfolio.py`` from the recorded learning curves of the development datasets and says which data chose
each entry. Each entry is expressed in the study's space: its searched values where the space has them, numbers
clipped into their range, keys it does not name as the baseline picks them; an entry whose architecture,
encoder or loss the space searches without offering it is dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import ParamSpec, SearchSpaceFile
from ._baseline import _pick, baseline_params, clip

PORTFOLIO = Path(__file__).with_name("portfolio.json")


def portfolio_params(cfg: SearchSpaceFile, force: bool = False) -> list[dict[str, Any]]:
    """The portfolio's entries as Optuna params of this space, without duplicates of the baseline or each other
    (``force``: whatever ``study.portfolio`` and the sampler say: a warm start with no past study to start from)."""
    if not force and (cfg.study.portfolio == "none" or cfg.study.sampler.name != "tpe"):
        return []
    seen = [baseline_params(cfg) or {}]
    out = []
    for entry in json.loads(PORTFOLIO.read_text())["configs"]:
        params = express(cfg, entry)
        if params is not None and params not in seen:
            seen.append(params)
            out.append(params)
    return out


def express(cfg: SearchSpaceFile, entry: dict[str, Any]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for key, spec in cfg.search.items():
        value = _value(key, spec, entry.get(key), getattr(cfg.train, key, None))
        if value is _MISSING:
            return None
        if value is None:
            continue
        params[key] = value
        given = entry.get(f"{key}_params", {}) if isinstance(entry.get(f"{key}_params"), dict) else {}
        for child, sub in spec.children.get(str(value), {}).items():
            v = _value(f"{key}.{value}.{child}", sub, given.get(child), None)
            if v is not _MISSING and v is not None:
                params[f"{key}.{value}.{child}"] = v
            elif (v := _pick(f"{key}.{value}.{child}", sub, None)) is not None:
                params[f"{key}.{value}.{child}"] = v
    return params


_MISSING = object()


def _value(name: str, spec: ParamSpec, want: Any, fixed: Any) -> Any:
    if want is None:
        return _pick(name, spec, fixed)
    if spec.type == "categorical":
        return want if want in list(spec.choices or []) else _MISSING
    return clip(spec, want)
