"""Samplers and pruners by name; wrong arguments are reported with the valid ones."""

from __future__ import annotations

import inspect
from typing import Any

import optuna

from ..config import StudyConfig


def _make(cls: Any, args: dict[str, Any], where: str) -> Any:
    try:
        return cls(**args)
    except TypeError as exc:
        params = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        raise ValueError(f"{where}: {exc}; valid arguments: {', '.join(params)}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def build_sampler(cfg: StudyConfig) -> optuna.samplers.BaseSampler:
    """The study's sampler. A seed is combined with the study's name, so two studies with the same
    seed do not draw the same points; TPE lies constantly about running trials (parallel workers). A
    multi-objective study's sampler ranks pruned trials by their accuracy (``AccuracyRanksPruned``)."""
    sampler = _sampler(cfg)
    if cfg.multi_objective:
        from ._multi import accuracy_ranks_pruned

        return accuracy_ranks_pruned(sampler)
    return sampler


def _sampler(cfg: StudyConfig) -> optuna.samplers.BaseSampler:
    s = cfg.sampler
    where = f"study.sampler ({s.name}) args"
    seeded = {"seed": study_seed(s.seed, cfg.name), **s.args}
    S = optuna.samplers
    if s.name == "tpe":
        return _make(S.TPESampler, {"constant_liar": True, **seeded}, where)
    if s.name in ("random", "grid"):  # grid points are enqueued as waiting trials, see _study
        return _make(S.RandomSampler, seeded, where)
    if s.name == "gp":
        return _make(S.GPSampler, seeded, where)
    if s.name == "cmaes":
        return _make(S.CmaEsSampler, seeded, where)
    if s.name == "nsga2":
        return _make(S.NSGAIISampler, seeded, where)
    if s.name == "qmc":
        return _make(S.QMCSampler, seeded, where)
    raise ValueError(f"unknown sampler {s.name!r}")


def study_seed(seed: int | None, name: str) -> int | None:
    if seed is None:
        return None
    import zlib

    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def build_pruner(cfg: StudyConfig, epochs: int) -> optuna.pruners.BasePruner:
    p = cfg.pruner
    where = f"study.pruner ({p.name}) args"
    P = optuna.pruners
    if p.name == "none":
        return P.NopPruner()
    if p.name == "median":
        return _make(P.MedianPruner, p.args, where)
    if p.name == "percentile":
        return _make(P.PercentilePruner, {"percentile": 25.0, **p.args}, where)
    if p.name in ("asha", "successive_halving"):
        return _make(P.SuccessiveHalvingPruner, p.args, where)
    if p.name == "hyperband":
        return _make(P.HyperbandPruner, {"max_resource": epochs, **p.args}, where)
    if p.name == "wilcoxon":
        return _make(P.WilcoxonPruner, p.args, where)
    raise ValueError(f"unknown pruner {p.name!r}")
