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


# the arguments that count epochs, per pruner: scaled to a trial's own schedule (``ScheduledPruner``)
EPOCH_ARGS = {"median": ("n_warmup_steps",), "percentile": ("n_warmup_steps",), "asha": ("min_resource",),
              "successive_halving": ("min_resource",)}


def build_pruner(cfg: StudyConfig, epochs: int) -> optuna.pruners.BasePruner:
    """The study's pruner, its settings written for trials of ``epochs`` (``train.epochs``). A pruner that
    counts epochs (ASHA's first rung, the median's warm-up) is wrapped in a ``ScheduledPruner``, which scales
    them to a longer trial's own schedule."""
    pruner = _pruner(cfg, epochs)
    if cfg.pruner.name == "hyperband" or any(isinstance(cfg.pruner.args.get(a), int)
                                             for a in EPOCH_ARGS.get(cfg.pruner.name, ())):
        return ScheduledPruner(cfg, epochs, pruner)
    return pruner


def _pruner(cfg: StudyConfig, epochs: int, scale: float = 1.0) -> optuna.pruners.BasePruner:
    p = cfg.pruner
    where = f"study.pruner ({p.name}) args"
    args = {k: (max(1, round(v * scale)) if k in EPOCH_ARGS.get(p.name, ()) and isinstance(v, int) else v)
            for k, v in p.args.items()}
    P = optuna.pruners
    if p.name == "none":
        return P.NopPruner()
    if p.name == "median":
        return _make(P.MedianPruner, args, where)
    if p.name == "percentile":
        return _make(P.PercentilePruner, {"percentile": 25.0, **args}, where)
    if p.name in ("asha", "successive_halving"):
        return _make(P.SuccessiveHalvingPruner, args, where)
    if p.name == "hyperband":
        return _make(P.HyperbandPruner, _hyperband_args(dict(p.args), epochs, scale), where)
    if p.name == "wilcoxon":
        return _make(P.WilcoxonPruner, args, where)
    raise ValueError(f"unknown pruner {p.name!r}")


def _hyperband_args(given: dict[str, Any], epochs: int, scale: float) -> dict[str, Any]:
    """Hyperband's settings for trials planned for ``epochs`` (``scale`` times ``train.epochs``): its first rung
    (``min_resource``, default 1) scaled like ASHA's, and ``max_resource`` (default ``train.epochs``) kept at the
    same multiple of it, so the brackets (their number follows max / min) are the same at every scale and a
    trial lands in the same bracket whatever its schedule."""
    low, top = given.get("min_resource", 1), given.get("max_resource", max(1, round(epochs / scale)))
    if not isinstance(low, int) or scale == 1.0:
        return {"max_resource": top, **given}
    scaled = max(1, round(low * scale))
    out = {**given, "min_resource": scaled}
    if isinstance(top, int):  # not "auto"
        out["max_resource"] = max(scaled, round(scaled * top / low))
    return out


EPOCHS_FITTED_ATTR = "epochs_fitted"  # trial user attribute: the epochs a trial was re-planned for under a budget


def planned_epochs_of(trial: optuna.trial.FrozenTrial) -> int | None:
    """The epochs a running trial is planned for: re-planned under a budget (``epochs_fitted``), else its
    settings' (``settings.epochs``); None before they are recorded."""
    fitted = trial.user_attrs.get(EPOCHS_FITTED_ATTR)
    if isinstance(fitted, int):
        return fitted
    epochs = (trial.user_attrs.get("settings") or {}).get("epochs")
    return epochs if isinstance(epochs, int) else None


class ScheduledPruner(optuna.pruners.BasePruner):
    """The study's pruner at the same point of every trial's schedule. Its epoch settings are written for
    ``train.epochs`` (the shipped median pruner's warm-up: 6 of 12 epochs, half the cosine schedule); a trial
    planned longer (a ``--budget`` launch plans 96-epoch trials and more) is judged at the same fraction of its
    own schedule: from epoch 48 of 96, not 6 (ASHA: rungs at 48, 96, ... not 6, 12, 24, 48; Hyperband's
    brackets likewise). On 24-epoch curves of real data a trial's rank at epoch 6 told little of its rank at the
    end (Spearman -0.03 to 0.64 over four datasets); at epoch 12 it did better (0.67-0.76; bench/LATEST.md,
    'Pruning longer trials'). Trials shorter than ``train.epochs`` (squeezed by a deadline) keep the settings as
    written."""

    def __init__(self, cfg: StudyConfig, epochs: int, pruner: optuna.pruners.BasePruner) -> None:
        self._cfg, self._epochs = cfg, epochs
        self._by_epochs: dict[int, optuna.pruners.BasePruner] = {epochs: pruner}

    def for_epochs(self, planned: int) -> optuna.pruners.BasePruner:
        planned = max(planned, self._epochs)
        if planned not in self._by_epochs:
            self._by_epochs[planned] = _pruner(self._cfg, planned, planned / self._epochs)
        return self._by_epochs[planned]

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.for_epochs(planned_epochs_of(trial) or self._epochs).prune(study, trial)
