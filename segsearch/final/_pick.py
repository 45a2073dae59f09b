"""``finalize --pick``: choose the trial to finalize by a rule over its accuracy and deployment costs, e.g.
``max miou where latency_ms <= 20`` or ``min latency_ms where miou >= 0.7 and peak_memory_mb < 500``.

A rule is ``max|min METRIC`` with optional ``where`` conditions ``METRIC OP NUMBER`` joined by ``and``.
METRIC: the study's accuracy objective (``miou`` or ``mdice``; ``value`` is the same), ``val_miou``,
``val_mdice``, or a cost measured before training (``latency_ms``, ``peak_memory_mb``, ``params_m``, ``flops_g``),
or ``seconds_per_epoch``. Ties go to the more accurate, then the earlier trial. The argmax of accuracy under cost
bounds is on the Pareto front, so a rule picks from it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError

METRICS = ("miou", "mdice", "value", "val_miou", "val_mdice", "latency_ms", "peak_memory_mb", "params_m", "flops_g",
           "seconds_per_epoch")
_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                   ">": operator.gt, "==": operator.eq}
_COND = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|==|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*$", re.I)
_HELP = ('a rule is "max|min METRIC [where METRIC <=|<|>=|>|== NUMBER [and ...]]", e.g. '
         '"max miou where latency_ms <= 20"; METRIC: ' + ", ".join(METRICS))


@dataclass(frozen=True)
class Rule:
    best: str  # max or min
    metric: str
    conditions: tuple[tuple[str, str, float], ...]

    def __str__(self) -> str:
        where = " and ".join(f"{m} {op} {v:g}" for m, op, v in self.conditions)
        return f"{self.best} {self.metric}" + (f" where {where}" if where else "")


def parse_rule(text: str) -> Rule:
    """The rule in ``text``; a ConfigError naming the part that is wrong and the valid form otherwise."""
    head, _, where = text.strip().partition(" where ")
    words = head.split()
    if len(words) != 2 or words[0].lower() not in ("max", "min"):
        raise ConfigError(f"--pick {text!r}: it must start with max or min and one metric; {_HELP}")
    best, metric = words[0].lower(), _metric(words[1], text)
    conditions = []
    for part in re.split(r"\s+and\s+", where.strip(), flags=re.I) if where.strip() else []:
        m = _COND.match(part)
        if not m:
            raise ConfigError(f"--pick {text!r}: cannot read the condition {part.strip()!r}; {_HELP}")
        conditions.append((_metric(m.group(1), text), m.group(2), float(m.group(3))))
    return Rule(best, metric, tuple(conditions))


def _metric(name: str, text: str) -> str:
    if name.lower() not in METRICS:
        from ..config._registry import did_you_mean

        raise ConfigError(f"--pick {text!r}: unknown metric {name!r}{did_you_mean(name, METRICS)}; valid: "
                          + ", ".join(METRICS))
    return name.lower()


def metric_of(t: Any, metric: str, objective: str) -> float | None:
    """A trial's value of ``metric``: the accuracy objective from its values, the rest from its attributes."""
    if metric == "value" or metric == objective:
        return t.values[0] if t.values else None
    key = {"miou": "val_miou", "mdice": "val_mdice"}.get(metric, metric)
    v = t.user_attrs.get(key)
    return None if v is None else float(v)


def apply_rule(rule: Rule, trials: Sequence[Any], objective: str, maximize: bool) -> list[Any]:
    """The trials that meet every condition, best by the rule first. A ConfigError names the closest miss
    when none does."""
    def meets(t: Any) -> bool:
        for m, op, bound in rule.conditions:
            v = metric_of(t, m, objective)
            if v is None or not _OPS[op](v, bound):
                return False
        return metric_of(t, rule.metric, objective) is not None

    kept = [t for t in trials if meets(t)]
    if not kept:
        seen = "; ".join(f"trial {t.number}: " + ", ".join(f"{m} {_show(metric_of(t, m, objective))}"
                                                           for m in dict.fromkeys([rule.metric, *(c[0] for c in rule.conditions)]))
                         for t in trials[:8])
        raise ConfigError(f"--pick {str(rule)!r}: no complete trial meets it ({seen or 'no complete trial'})")
    sign = -1.0 if rule.best == "max" else 1.0
    acc = 1.0 if maximize else -1.0

    def key(t: Any) -> tuple[float, float, int]:
        return (sign * float(metric_of(t, rule.metric, objective)),  # type: ignore[arg-type]  # meets() checked
                -acc * float(t.values[0] if t.values else 0.0), t.number)

    return sorted(kept, key=key)


def _show(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"
