"""One trial, start to finish. ``run_trial`` is the one place that decides a trial's fate:
complete, pruned, infeasible (out of memory at the smallest batch, a broken deployment bound, too slow for
the budget, an architecture smp cannot build for this data: pruned with a violated constraint, which TPE
learns from), or failed with a reason (nan_loss, data_error, weights, error),
or handed back (``requeued``) when its worker is asked to stop."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from .. import rundir
from ..config import DataConfig, SearchSpaceFile, TrainConfig
from ..data import DataError, Splits
from ..errors import DiskFull, is_disk_full
from ..training import (
    EpochResult,
    Fanout,
    MetricsFile,
    NonFiniteLoss,
    Reporter,
    RunSpec,
    StopTraining,
    train,
    warm_epoch_seconds,
)
from ._budget import TRIAL_EPOCHS_ATTR, trial_epochs_for
from ._factories import EPOCHS_FITTED_ATTR
from ._multi import report, should_prune
from ._overrun import ScheduleGuard, TooSlow
from ._requeue import reported_steps, system_attrs
from ._space import params_to_settings, sample
from ._study import INFEASIBLE_ATTR, PAUSED_ATTR, REQUEUED, UID_ATTR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialEnv:
    cfg: SearchSpaceFile
    splits: Splits
    studies_dir: Path
    class_weights: list[float] | None = None
    deadline: float | None = None  # time.time() by which trials must stop (launch --budget / --timeout)
    epoch_estimate: float | None = None  # seconds per epoch of the baseline, measured before the search
    solo: bool = False  # the budget affords no search: the baseline alone trains until the deadline
    trial_epochs: int | None = None  # under a budget: a trial's planned epochs (>= train.epochs), scaled to it
    data: DataConfig | None = None  # the data settings trials train with, when not the YAML's (solo: final's)
    tail_passes: float = 0.0  # solo: the final stage's checks after the run, in validation passes (kept back)
    extra_reporters: Callable[[optuna.Trial, TrainConfig, Path], Sequence[Reporter]] = lambda *a: ()
    stop: threading.Event = field(default_factory=threading.Event)  # set by the worker: stop at the epoch's end
    on_outcome: tuple[Callable[[optuna.Trial, Outcome], None], ...] = ()

    @property
    def epochs(self) -> int:
        """The epochs a trial is planned for: ``trial_epochs`` under a budget, else ``train.epochs``."""
        return self.trial_epochs or self.cfg.train.epochs

    @property
    def study_dir(self) -> Path:
        return self.studies_dir / self.cfg.study.name


@dataclass(frozen=True)
class Outcome:
    state: TrialState
    value: float | None = None  # the accuracy objective
    reason: str | None = None
    message: str | None = None
    costs: tuple[float, ...] = ()  # a multi-objective study's cost objectives (study.minimize), in its order

    @property
    def values(self) -> float | list[float] | None:
        """What ``study.tell`` takes: the value, or the accuracy and the costs in a multi-objective study."""
        return self.value if not self.costs or self.value is None else [self.value, *self.costs]


def trial_root(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The first trial of a retry chain: its folder holds the checkpoint a retry resumes from."""
    return int(system_attrs(trial).get("failed_trial", trial.number))


def claim_run_dir(run_dir: Path, owner: dict[str, Any]) -> None:
    """Make ``run_dir`` this trial chain's: a folder written by another study (an old study of the same
    name, whose database was deleted) or by no known one is moved aside, never resumed."""
    import time

    file = run_dir / rundir.OWNER
    if run_dir.is_dir() and any(run_dir.iterdir()):
        try:
            found = json.loads(file.read_text())
        except (OSError, ValueError):
            found = None
        if found != owner:
            aside = run_dir.with_name(f"{run_dir.name}.other-study-{time.strftime('%Y%m%d-%H%M%S')}")
            run_dir.rename(aside)
            log.warning("%s was written by another study (%s), not by this study's trial %d: moved aside to %s; "
                        "this trial starts fresh", run_dir, (found or {}).get("study_uid", "unknown"),
                        owner["trial_root"], aside)
    run_dir.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(owner))


def trial_seed(base: int, root: int) -> int:
    return (base * 1_000_003 + root) % 2**31


# A trial that predicts one class with a flat training loss and an unchanged validation score is dead, not slow:
# in the recorded curves of real data (bench/data/curves*.json, 571 runs from scratch) 9 runs did so for 3 epochs;
# 8 never left the one-class level and one (skin, fpn/lovasz) left it after 10 epochs to end at 0.60, where that
# dataset's best run reached 0.93. On mri_struct at 60 minutes one such trial (fpn, dice, loss 1.0000 from epoch
# 5) ran its whole 100-epoch schedule, a tenth of the search, because the median pruner waits for 5 finished
# trials (bench/LATEST.md, 'Stuck trials'). A slow starter predicts one class too, but its loss falls.
STUCK_EPOCHS, STUCK_FLAT = 3, 5e-3


def stuck(recent: Sequence[EpochResult]) -> bool:
    """The last ``STUCK_EPOCHS`` epochs all predicted one class, scored the same on validation, and their
    training losses differ by at most ``STUCK_FLAT`` of their size."""
    last = list(recent)[-STUCK_EPOCHS:]
    if len(last) < STUCK_EPOCHS or not all(r.collapsed for r in last):
        return False
    losses, scores = [r.train_loss for r in last], [r.objective for r in last]
    return (max(scores) - min(scores) <= 1e-4
            and max(losses) - min(losses) <= STUCK_FLAT * max(abs(x) for x in losses))


class OptunaReporter(Reporter):
    """Reports the objective each epoch, records trial attributes and asks the pruner; stops a stuck trial
    (``stuck``) whatever the pruner says, unless ``prune_stuck`` is off (the baseline alone, with no search)."""

    def __init__(self, trial: optuna.Trial, classes: Sequence[str], stop: Callable[[], bool],
                 prune_stuck: bool = True) -> None:
        self.trial, self.classes, self._stop, self._prune_stuck = trial, list(classes), stop, prune_stuck
        self.reported = reported_steps(trial)
        self.seconds: list[float] = []
        self.recent: list[EpochResult] = []

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        self.trial.set_user_attr("n_params", n_params)
        if start_epoch:
            self.trial.set_user_attr("resumed_from_epoch", start_epoch)

    def epoch_end(self, r: EpochResult, is_best: bool) -> None:
        self.seconds.append(r.seconds)
        self.recent = [*self.recent, r][-STUCK_EPOCHS:]
        t = self.trial
        t.set_user_attr("epochs_run", r.epoch)
        t.set_user_attr("last_collapsed", r.collapsed)  # still predicting one class at its latest epoch
        t.set_user_attr("seconds_per_epoch", round(warm_epoch_seconds(self.seconds), 4))  # plans later trials
        if is_best:
            self.kept(r)
        if r.epoch not in self.reported:
            report(t, r.objective, r.epoch)
            self.reported.add(r.epoch)
        if should_prune(t):
            raise StopTraining("pruned")
        if self._prune_stuck and stuck(self.recent):
            t.set_user_attr("fail_reason", "stuck")
            log.warning("trial %d is stuck: for %d epochs it has predicted one class, scored the same and kept its "
                        "training loss within %.1f%% of %.4f; stopped as pruned (stuck)", t.number, STUCK_EPOCHS,
                        100 * STUCK_FLAT, r.train_loss)
            raise StopTraining("stuck")

    def kept(self, r: EpochResult) -> None:
        """The epoch whose weights the trial keeps (``best.pt``): its scores stand for the trial."""
        t, names = self.trial, self._names(len(r.per_class_iou))
        t.set_user_attr("best_epoch", r.epoch)
        t.set_user_attr("val_miou", r.miou)
        t.set_user_attr("val_mdice", r.mdice)
        t.set_user_attr("collapsed", r.collapsed)
        t.set_user_attr("per_class_iou", {n: _r(v) for n, v in zip(names, r.per_class_iou, strict=False)})
        t.set_user_attr("per_class_dice", {n: _r(v) for n, v in zip(names, r.per_class_dice, strict=False)})
        if r.confusion is not None:  # the dashboard shows it as the trial's confusion.png, not a nested list
            t.storage.set_trial_system_attr(t._trial_id, "confusion", r.confusion)

    def _names(self, n: int) -> list[str]:
        return self.classes[-n:] if n < len(self.classes) else self.classes

    def stop_requested(self) -> bool:
        return self._stop()


def _r(v: float) -> float | None:
    return None if v != v else round(float(v), 5)


def trial_settings(trial: Any, cfg: SearchSpaceFile, fixed: dict[str, Any] | None) -> dict[str, Any]:
    """A trial's training settings: the space sampled through ``trial`` (a live trial, or an
    ``optuna.trial.FixedTrial`` replaying a finished one's params), plus what an enqueued recipe fixed outside
    the space."""
    settings = sample(trial, cfg.search)
    if fixed:  # enqueued trials (user recipes) may fix settings outside the space
        settings.update(params_to_settings({k: v for k, v in fixed.items() if k not in trial.params}))
    return settings


def replay_settings(t: optuna.trial.FrozenTrial, cfg: SearchSpaceFile) -> dict[str, Any]:
    """A finished trial's settings through the very path it ran with (its params replayed by a FixedTrial),
    plus the batch and accumulation an out-of-memory retry settled on."""
    from ._grow import defaults

    fixed = t.system_attrs.get("fixed_params") or {}
    # a trial from before a parameter was searched (a grown space) ran with its fixed value
    settings = trial_settings(optuna.trial.FixedTrial({**defaults(cfg), **fixed, **t.params}), cfg, fixed)
    fitted: dict[str, Any] = {k: t.user_attrs[k] for k in ("batch_size", "accumulation") if k in t.user_attrs}
    return {**settings, **fitted}


def resolve_trial_config(trial: optuna.Trial, cfg: SearchSpaceFile) -> TrainConfig:
    settings = trial_settings(trial, cfg, system_attrs(trial).get("fixed_params"))
    seed = trial_seed(cfg.train.seed, trial_root(trial))
    merged = {**cfg.train.model_dump(), **settings, "seed": seed}
    return TrainConfig.model_validate(merged)


# the resolved settings people look for first (searched or fixed), stored with every trial
_SHOWN = ("architecture", "encoder", "encoder_weights", "loss", "loss_params", "optimizer", "lr", "batch_size",
          "epochs")


def run_trial(trial: optuna.Trial, env: TrialEnv) -> Outcome:
    cfg = env.cfg
    run_dir = env.study_dir / "trials" / f"{trial_root(trial):05d}"
    try:
        tcfg = resolve_trial_config(trial, cfg)
    except Exception as exc:
        return _fail(trial, "invalid_config", str(exc))
    tcfg = _fit_epochs(trial, tcfg, env)
    trial.set_user_attr("seed", tcfg.seed)
    trial.set_user_attr("settings", {k: getattr(tcfg, k) for k in _SHOWN})
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("image_size", "x".join(map(str, cfg.data.size_hw)))
    try:
        claim_run_dir(run_dir, {"study_uid": trial.study.user_attrs.get(UID_ATTR), "trial_root": trial_root(trial)})
        _write_config(run_dir, trial, tcfg, cfg, env.data or cfg.data)
    except OSError as exc:  # the trial fails with its reason; the search decides whether to go on
        if is_disk_full(exc):
            return _fail(trial, "disk_full", str(exc if isinstance(exc, DiskFull) else DiskFull(run_dir, str(exc))))
        return _fail(trial, "error", f"cannot write the trial folder {run_dir}: {exc}")
    spec = RunSpec(train=tcfg, data=env.data or cfg.data, splits=env.splits, run_dir=run_dir, objective=cfg.study.objective,
                   maximize=cfg.study.direction == "maximize", class_weights=env.class_weights,
                   keep_best=True, deadline=env.deadline, fit_to_deadline=env.solo, tail_passes=env.tail_passes,
                   keep=cfg.final.checkpoint if env.solo else "best",  # a lone baseline is the final model
                   replan=_replanner(trial, tcfg, env))  # best.pt: prediction previews (W&B, dashboard, report)
    reporters = [MetricsFile(run_dir), *env.extra_reporters(trial, tcfg, run_dir),
                 OptunaReporter(trial, cfg.data.classes, env.stop.is_set, prune_stuck=not env.solo)]
    if env.deadline is not None and _sampled_under_a_deadline(trial, env):  # its second epoch's pace decides
        reporters.append(ScheduleGuard(env.deadline))  # whether it can finish its schedule
    outcome = _decide(trial, spec, Fanout(reporters), tcfg, env)
    for hook in env.on_outcome:
        try:
            hook(trial, outcome)
        except Exception:
            log.exception("trial %d: outcome hook failed", trial.number)
    return outcome


def _fit_epochs(trial: optuna.Trial, tcfg: TrainConfig, env: TrialEnv) -> TrainConfig:
    """A trial's schedule (cosine, ...): ``env.epochs`` (under a budget scaled to it), or the epochs that fit in
    the time left when fewer do (a late or a lone trial ends annealed rather than cut off mid-schedule). A
    resumed retry keeps the schedule its first attempt planned."""
    import time

    if trial_root(trial) != trial.number or PAUSED_ATTR in trial.user_attrs:
        planned = trial.user_attrs.get(EPOCHS_FITTED_ATTR)
        return tcfg.model_copy(update={"epochs": int(planned)}) if planned else tcfg
    # a trial's own epochs (an enqueued recipe's) stand; otherwise the planned ones (scaled to a budget)
    epochs = tcfg.epochs if tcfg.epochs != env.cfg.train.epochs else planned_epochs(trial.study, env)
    if env.deadline is not None:
        per_epoch = typical_epoch(trial.study) or env.epoch_estimate
        fit = max(1, int((env.deadline - time.time()) // per_epoch)) if per_epoch else epochs
        if fit < epochs or env.solo:
            log.info("trial %d: %d epochs fit in the time left (planned: %d); its schedule is planned for %d",
                     trial.number, fit, epochs, fit)
            epochs = fit
    if epochs == tcfg.epochs:
        return tcfg
    trial.set_user_attr(EPOCHS_FITTED_ATTR, epochs)
    return tcfg.model_copy(update={"epochs": epochs})


def planned_epochs(study: optuna.Study, env: TrialEnv) -> int:
    """The epochs a trial is planned for: the study's re-planned schedule (set by its first trial's first
    epoch under a budget), else ``env.epochs``."""
    if env.trial_epochs is None:
        return env.epochs
    plan = study.user_attrs.get(TRIAL_EPOCHS_ATTR)  # this launch's (a resumed launch has its own deadline)
    return int(plan["epochs"]) if isinstance(plan, dict) and plan.get("deadline") == env.deadline else env.epochs


def typical_epoch(study: optuna.Study) -> float:
    """The median seconds per epoch of the study's trials so far (0 before any)."""
    secs = sorted(t.user_attrs["seconds_per_epoch"] for t in study.get_trials(deepcopy=False)
                  if t.user_attrs.get("seconds_per_epoch"))
    return secs[len(secs) // 2] if secs else 0.0


def _replanner(trial: optuna.Trial, tcfg: TrainConfig, env: TrialEnv) -> Callable[[float, int], int] | None:
    """Under a budget the search's trial schedule comes from a start-up estimate of two timed steps, which a
    busy core can make 2x too long (bench/LATEST.md, mri_struct run 4). The study's first trial (the baseline)
    re-plans it from its own second epoch (a GPU's first pays for cudnn's autotuning and the loader's start: 13.8 s
    against 1.0 s on an H200): its schedule and every later trial's (a study attribute)."""
    import time

    if (env.solo or env.trial_epochs is None or env.deadline is None or trial_root(trial) != trial.number
            or typical_epoch(trial.study) or tcfg.epochs != env.epochs):
        return None
    deadline, floor = env.deadline, env.cfg.train.epochs

    def replan(epoch_seconds: float, before: int) -> int:
        """Every trial's epochs from the timed epoch's start; this trial's schedule is those after the
        ``before`` epochs it has trained already (what it records, so that a retry resumes on it)."""
        epochs = trial_epochs_for(deadline - time.time() + epoch_seconds, epoch_seconds, floor)
        if epochs != tcfg.epochs:
            log.info("trial %d: an epoch takes %.1f s: trials now train for about %d epochs (planned %d)",
                     trial.number, epoch_seconds, epochs, tcfg.epochs)
        trial.study.set_user_attr(TRIAL_EPOCHS_ATTR, {"epochs": epochs, "deadline": deadline})
        trial.set_user_attr(EPOCHS_FITTED_ATTR, before + epochs)
        return before + epochs

    return replan


def _decide(trial: optuna.Trial, spec: RunSpec, reporter: Reporter, tcfg: TrainConfig, env: TrialEnv) -> Outcome:
    from ..components import WeightsUnavailable, check_architecture
    from ..training import release_memory

    try:  # before any data is loaded: a pair smp cannot build, or an image size it cannot take
        check_architecture(tcfg.architecture, tcfg.encoder, tcfg.encoder_depth, spec.data.size_hw,
                           spec.data.num_classes, spec.data.in_channels, dict(tcfg.architecture_params))
    except ValueError as exc:  # infeasible, not failed: TPE then stops drawing the pair (a FAIL is invisible to it)
        return _infeasible(trial, "incompatible", str(exc), {"compatible": 1.0})
    breaks = _deployment_cost(trial, spec, tcfg, env.cfg) or _too_slow_for_the_budget(trial, tcfg, env)
    if breaks is not None:
        return breaks

    try:
        result = _train_halving_on_oom(trial, spec, reporter)
    except TooSlow as slow:
        return _infeasible(trial, "too_slow", slow.message, {"budget_s": slow.over})
    except StopTraining as stop:
        if stop.reason in ("pruned", "stuck"):
            return Outcome(TrialState.PRUNED, reason=stop.reason)
        return Outcome(TrialState.FAIL, reason=REQUEUED, message="worker stopped; trial paused")  # not a failure
    except NonFiniteLoss as exc:
        return _fail(trial, "nan_loss", str(exc))
    except DataError as exc:
        return _fail(trial, "data_error", str(exc))
    except WeightsUnavailable as exc:
        return _fail(trial, "weights", str(exc))
    except DiskFull as exc:
        return _fail(trial, "disk_full", str(exc))
    except (ValueError, KeyError) as exc:
        if "encoder" in str(exc) or "support" in str(exc) or "divisible" in str(exc):
            return _infeasible(trial, "incompatible", str(exc), {"compatible": 1.0})
        return _fail(trial, "error", _last(exc))
    except Exception as exc:
        if is_disk_full(exc):
            return _fail(trial, "disk_full", str(DiskFull(spec.run_dir, str(exc).splitlines()[0][:300])))
        if _is_oom(exc):
            release_memory()
            return _infeasible(trial, "oom", f"out of memory at batch {_MIN_BATCH}x{spec.train.batch_size // _MIN_BATCH}"
                               " accumulated steps and above: " + str(exc).splitlines()[0][:300], {"memory": 1.0})
        log.debug("trial %d failed", trial.number, exc_info=True)
        return _fail(trial, "error", _last(exc))
    finally:
        release_memory()
    trial.set_user_attr("train_memory_mb", round(result.peak_memory_mb, 1))  # training's peak (deployment's: peak_memory_mb)
    trial.set_user_attr("precision", result.precision)  # amp: auto resolves per machine
    if result.stopped == "budget":  # the launch's time ran out: the epochs it ran stand as its result
        trial.set_user_attr("stopped", "budget")
    if result.best is None:
        return _fail(trial, "error", "no epoch finished")
    costs = tuple(float(trial.user_attrs[c]) for c in env.cfg.study.minimize)  # measured before training
    return Outcome(TrialState.COMPLETE, value=result.best_value, costs=costs)


def _deployment_cost(trial: optuna.Trial, spec: RunSpec, tcfg: TrainConfig, cfg: SearchSpaceFile) -> Outcome | None:
    """Measure the model where it will be deployed (``deploy``: latency, peak memory, parameters, FLOPs) before it trains,
    record it, and give every bound of ``study.constraints`` to Optuna as a constraint. A model that breaks a
    bound is infeasible at once: no epoch is spent on it. A resumed trial keeps its first measurement."""
    from ..components import COST_METRICS, build_model, constraint_values, measure_cost
    from ..training import release_memory, resolve_device

    bounds: dict[str, Any] = {str(k): v for k, v in cfg.study.constraints.items()}
    known: dict[str, float] = {k: trial.user_attrs[k] for k in COST_METRICS if k in trial.user_attrs}
    if not known:
        d = cfg.deploy
        size = spec.data.size_hw if d.image_size is None else (
            (d.image_size, d.image_size) if isinstance(d.image_size, int) else tuple(d.image_size))
        try:
            net = build_model(tcfg.architecture, tcfg.encoder, None, tcfg.encoder_depth, spec.data.in_channels,
                              spec.data.num_classes, dict(tcfg.architecture_params))
            cost = measure_cost(net, spec.data.in_channels, (int(size[0]), int(size[1])),
                                resolve_device(d.device or tcfg.device), d.batch_size, d.warmup, d.repeats)
        except Exception as exc:
            if _is_oom(exc):
                return _infeasible(trial, "oom", f"out of memory running one deployment batch: {exc}"[:400],
                                   {"memory": 1.0})
            if bounds or cfg.study.minimize:  # the bounds or objectives need it: the trial fails, the search goes on
                return _fail(trial, "error", f"measuring the deployment cost failed: {_last(exc)}")
            log.warning("trial %d: measuring its deployment cost failed: %s", trial.number, exc)
            return None
        finally:
            release_memory()
        known = cost.metrics()
        for key, value in known.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("deploy", {"device": cost.device, "batch_size": cost.batch_size,
                                       "image_size": list(cost.image_size)})
    if not bounds:
        return None
    values = constraint_values(known, bounds)
    broken = {k: v for k, v in values.items() if v > 0}
    if broken:
        why = "; ".join(f"{k} {known[k]:g} > max {bounds[k].max:g}" for k in broken)
        return _infeasible(trial, "constraint", why, values)
    for name, margin in values.items():
        trial.set_constraint(name, margin)
    return None


def _too_slow_for_the_budget(trial: optuna.Trial, tcfg: TrainConfig, env: TrialEnv) -> Outcome | None:
    """Under a launch budget, a sampled configuration slower than the study's typical one starts only if its
    full schedule leaves the search time for one more typical trial, or fits and takes no typical trial's place
    (where only one trial fits either way). Its epoch time is predicted from its
    measured latency and the study's finished trials' seconds per epoch per ms of latency (on mri9 at 20
    minutes one upernet trial at 2.4x the baseline's epoch time took the rest of the search, and the run lost
    to the recipe trained alone: bench/LATEST.md). It ends ``infeasible`` (reason ``too_slow``) with a
    violated ``budget_s`` constraint, so TPE learns which configurations this budget cannot pay for. The
    baseline, enqueued and grid trials always run."""
    import time

    latency, deadline = trial.user_attrs.get("latency_ms"), env.deadline
    if deadline is None or not latency or not _sampled_under_a_deadline(trial, env):
        return None
    ratios = sorted(t.user_attrs["seconds_per_epoch"] / t.user_attrs["latency_ms"]
                    for t in trial.study.get_trials(deepcopy=False)
                    if t.user_attrs.get("seconds_per_epoch") and t.user_attrs.get("latency_ms"))
    typical = typical_epoch(trial.study)
    if not ratios or not typical:
        return None
    per_epoch = ratios[len(ratios) // 2] * float(latency)
    need, usual = per_epoch * tcfg.epochs, typical * tcfg.epochs
    left = deadline - time.time()
    trial.set_user_attr("predicted_seconds_per_epoch", round(per_epoch, 2))
    # it runs when it is no slower than typical, leaves room for one more typical trial, or takes no typical
    # trial's place (only one fits either way: a trial 2% slower than typical is not refused for noise)
    if need <= usual or need <= left - usual or (need <= left and (left - need) // usual + 1 >= left // usual):
        return None
    return _infeasible(trial, "too_slow", f"predicted {per_epoch:.1f} s per epoch ({float(latency):.1f} ms latency; "
                       f"the study's typical epoch: {typical:.1f} s): its {tcfg.epochs} epochs need {need:.0f} s "
                       f"and would leave the search {left - need:.0f} s of the {left:.0f} s left, less than one "
                       f"typical trial ({usual:.0f} s)", {"budget_s": need - (left - usual)})


def _sampled_under_a_deadline(trial: optuna.Trial, env: TrialEnv) -> bool:
    """A search trial the sampler drew, starting fresh, under a deadline: the budget's time rules apply to it
    (the baseline, enqueued and grid trials, and a resumed one, always run)."""
    ua = trial.user_attrs
    return (env.deadline is not None and not env.solo and not any(ua.get(k) for k in ("baseline", "enqueued", "grid"))
            and trial_root(trial) == trial.number and PAUSED_ATTR not in ua)


_MIN_BATCH = 2  # batch norm needs two samples; below this an out-of-memory trial is infeasible


def _train_halving_on_oom(trial: optuna.Trial, spec: RunSpec, reporter: Reporter) -> Any:
    """``train``; out of memory, it tries again at half the batch with twice the gradient accumulation (the same
    effective batch), down to ``_MIN_BATCH``, resuming from the checkpoint it has. The trial records the
    ``batch_size`` and ``accumulation`` it trained with and its ``oom_retries``."""
    from ..training import release_memory

    retries = 0
    while True:
        tcfg = spec.train
        try:
            return train(spec, reporter)
        except Exception as exc:
            if not _is_oom(exc) or tcfg.batch_size // 2 < _MIN_BATCH:
                raise
        release_memory()  # after the except block: until it ends, the traceback holds the failed step's tensors
        retries += 1
        half = tcfg.model_copy(update={"batch_size": tcfg.batch_size // 2, "accumulation": tcfg.accumulation * 2})
        log.warning("trial %d: out of memory at batch %d; trying batch %d x %d accumulated steps (the same "
                    "effective batch)", trial.number, tcfg.batch_size, half.batch_size, half.accumulation)
        trial.set_user_attr("oom_retries", retries)
        trial.set_user_attr("batch_size", half.batch_size)
        trial.set_user_attr("accumulation", half.accumulation)
        spec = dataclasses.replace(spec, train=half)


def _is_oom(exc: BaseException) -> bool:
    import torch

    text = str(exc).lower()
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):  # MemoryError: numpy's "Unable to allocate", Python's own
        return True
    # oneDNN (CPU convolutions) says "could not create a primitive" when it cannot allocate its workspace: under a
    # memory limit 2 of 6 runs of tests/test_launch.py's smallest-batch test ended so instead of an allocator error
    return any(m in text for m in ("out of memory", "can't allocate memory", "cannot allocate memory", "bad_alloc",
                                   "unable to allocate", "insufficient memory", "failed to allocate",
                                   "could not create a primitive"))


def _last(exc: BaseException) -> str:
    tb = traceback.format_exception_only(type(exc), exc)
    return "".join(tb).strip()[-1000:]


def _infeasible(trial: optuna.Trial, reason: str, message: str, constraints: dict[str, float]) -> Outcome:
    """A configuration that cannot run on this machine: recorded as pruned with a violated constraint
    (Optuna's ``set_constraint``), so that TPE counts it among the worst and stops proposing its
    neighbours; a failed trial would be invisible to them and drawn again (optuna#2864)."""
    from .._secrets import mask

    message = mask(message)
    trial.set_user_attr("fail_reason", reason)
    trial.set_user_attr("error", message[-1000:])
    trial.set_user_attr(INFEASIBLE_ATTR, True)
    for key, value in constraints.items():  # > 0: violated
        trial.set_constraint(key, value)
    what = "/".join(str(trial.params[k]) for k in ("architecture", "encoder") if k in trial.params)
    log.warning("trial %d%s is infeasible here (%s): %s; the sampler learns to avoid it", trial.number,
                f" ({what})" if what else "", reason, message.splitlines()[0] if message else "")
    return Outcome(TrialState.PRUNED, reason=reason, message=message)


def _fail(trial: optuna.Trial, reason: str, message: str) -> Outcome:
    from .._secrets import mask

    message = mask(message)
    trial.set_user_attr("fail_reason", reason)
    trial.set_user_attr("error", message[-1000:])
    if reason != REQUEUED:
        log.warning("trial %d failed (%s): %s", trial.number, reason, message.splitlines()[0] if message else "")
    return Outcome(TrialState.FAIL, reason=reason, message=message)


def _write_config(run_dir: Path, trial: optuna.Trial, tcfg: TrainConfig, cfg: SearchSpaceFile,
                  data: DataConfig) -> None:
    from ..config import space_hash
    from ..training import versions

    run_dir.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "study": cfg.study.name,
        "trial": trial.number,
        "space_hash": space_hash(cfg),
        "params": dict(trial.params),
        "train": json.loads(tcfg.model_dump_json()),
        "data": json.loads(data.model_dump_json()),
        "versions": versions(),
    }
    (run_dir / rundir.CONFIG).write_text(yaml.safe_dump(doc, sort_keys=False))
