"""The Python API. The CLI is a thin layer over these functions."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import rundir
from .errors import ConfigError

if TYPE_CHECKING:  # imported where used: an error path (a typo in a name) loads no pydantic models
    from .config import SearchSpaceFile

log = logging.getLogger("segsearch")


@dataclass
class LaunchResult:
    study: str
    storage: str  # masked
    seconds: float
    states: dict[str, int] = field(default_factory=dict)
    best: dict[str, Any] | None = None
    interrupted: bool = False
    final: str | None = None  # the model folder when final.auto finalized the study
    budget_left: int = 0  # trials the budget still pays for that nobody has configured yet (not trials)
    trade_off: list[str] = field(default_factory=list)  # the costs the Pareto front weighs accuracy against
    front: list[dict[str, Any]] = field(default_factory=list)  # a multi-objective study's Pareto front
    space_versions: list[dict[str, Any]] = field(default_factory=list)  # a grown space's versions (the first: 1)
    no_search: dict[str, Any] | None = None  # the latest --budget launch had no room to search (api._no_search)


def preflight(cfg: SearchSpaceFile, studies_dir: Path) -> Any:
    """Everything that can be checked before a study is touched. Raises ConfigError / DataError."""
    from .components import WeightsUnavailable, check_architecture, check_encoder, ensure_weights
    from .data import preflight as data_preflight
    from .search import build_pruner, build_sampler, grid_points

    def choices(key: str) -> list[Any]:
        spec = cfg.search.get(key)
        if spec is not None and spec.type == "categorical":  # choices: set for a categorical (ParamSpec checks)
            return list(cast(list[Any], spec.choices))
        return [getattr(cfg.train, key)]

    try:
        build_sampler(cfg.study)
        build_pruner(cfg.study, cfg.train.epochs)
        if cfg.study.sampler.name == "grid":
            grid_points(cfg.search)
        for enc in choices("encoder"):
            for weights in choices("encoder_weights"):
                check_encoder(enc, weights)
        ok_pairs, errors = 0, []
        for arch in choices("architecture"):
            for enc in choices("encoder"):
                try:
                    check_architecture(arch, enc, cfg.train.encoder_depth, cfg.data.size_hw, cfg.data.num_classes,
                                       cfg.data.in_channels, dict(cfg.train.architecture_params))
                    ok_pairs += 1
                except ValueError as exc:
                    errors.append(str(exc))
        if errors and (ok_pairs == 0 or "architecture" not in cfg.search and "encoder" not in cfg.search):
            raise ValueError(errors[0])
        for e in dict.fromkeys(errors):  # once per problem, not once per encoder it shows with
            log.warning("%s; such trials end infeasible (reason 'incompatible') and the sampler learns to avoid them", e)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for enc in choices("encoder"):
        for weights in choices("encoder_weights"):
            try:
                ensure_weights(enc, weights)
            except WeightsUnavailable as exc:
                raise ConfigError(str(exc)) from None
    return data_preflight(cfg.data, studies_dir)


def _needs_class_weights(cfg: SearchSpaceFile) -> bool:
    """Whether any trial of the space can want automatic class weights (``training``'s rule, applied to every
    loss the space can pick, with each ``class_weights`` choice it offers): then they are computed once."""
    from .training import wants_auto_class_weights

    spec = cfg.search.get("loss")
    losses = [str(c) for c in cast(list[Any], spec.choices)] if spec is not None else [cfg.train.loss]
    for loss in losses:
        children = (spec.children or {}).get(loss, {}) if spec is not None else {}
        options = children["class_weights"].choices or [] if "class_weights" in children else []
        candidates = [{**cfg.train.loss_params}] + [{"class_weights": c} for c in options]
        if any(wants_auto_class_weights(loss, params) for params in candidates):
            return True
    return False


def make_env(cfg: SearchSpaceFile, splits: Any, studies_dir: Path, use_wandb: bool = True,
             deadline: float | None = None, epoch_estimate: float | None = None, solo: bool = False,
             trial_epochs: int | None = None, progress: Any = None) -> Any:
    """The worker's trial environment, built once: W&B runs when enabled, prediction previews always, and the
    live ``progress`` display when given."""
    from .final import check_passes
    from .search import TrialEnv
    from .tracking import Tracker

    weights = None
    if _needs_class_weights(cfg):
        from .data import SegDataset, class_pixel_counts, loss_class_weights

        ds = SegDataset(splits.train, cfg.data, None, [0.0], [1.0], cache=False)
        weights = loss_class_weights(class_pixel_counts(ds), cfg.data)
    tracker = Tracker.for_study(cfg, splits, studies_dir / cfg.study.name, use_wandb)
    shown = (progress,) if progress is not None else ()

    def reporters(trial: Any, tcfg: Any, run_dir: Path) -> list[Any]:
        return [*tracker.reporters(trial, tcfg, run_dir), *shown]

    return TrialEnv(cfg=cfg, splits=splits, studies_dir=studies_dir, class_weights=weights, deadline=deadline,
                    epoch_estimate=epoch_estimate, solo=solo, data=_solo_data(cfg) if solo else None,
                    tail_passes=check_passes(cfg, splits) if solo else 0.0,
                    trial_epochs=trial_epochs, extra_reporters=reporters, on_outcome=(tracker.on_outcome,))


def _solo_data(cfg: SearchSpaceFile) -> Any:
    """The data the baseline trains on when there is no room to search: the final augmentation without
    mosaic, i.e. seed 001's recipe (mosaic pays off over long schedules, not over a handful of epochs)."""
    from .final import final_data_config

    return final_data_config(cfg).model_copy(update={"mosaic": 0.0})


def _describe_and_warm_start(study: Any, cfg: SearchSpaceFile, splits: Any, spec: str | None,
                             found: dict[str, Any]) -> None:
    """Record a new study's data description (what later warm starts compare), then queue the warm start."""
    from .search._study import trials_left
    from .search._warm import DESCRIPTOR_ATTR, describe_data, warm_start

    here = describe_data(cfg, splits)
    study.set_user_attr(DESCRIPTOR_ATTR, here)
    if spec and cfg.study.sampler.name == "grid":
        log.warning("--warm-start: a grid study runs its grid; no warm start")
    elif spec:
        warm_start(study, cfg, spec, found, here, trials_left(study))


def _fork(cfg: SearchSpaceFile, name: str, storage: str | None, studies_dir: Path) -> SearchSpaceFile:
    """Copy the finished trials of ``cfg``'s study that fit ``cfg``'s space into a new study ``name``; returns
    the config renamed to it."""
    from .config import StudyConfig
    from .search import load_study, open_storage, study_lock
    from .search._grow import fork

    try:
        StudyConfig.model_validate({**cfg.study.model_dump(), "name": name})
    except ValueError:
        raise ConfigError(f"--fork {name!r}: not a study name (letters, digits, _ . -, up to 100)") from None
    if name == cfg.study.name:
        raise ConfigError(f"--fork {name!r}: give a new name, not the study's own")
    source = load_study(cfg.study.name, storage, studies_dir)
    renamed = cfg.model_copy(update={"study": cfg.study.model_copy(update={"name": name})})
    opened = open_storage(name, storage, studies_dir, renamed.study)
    with study_lock(opened.storage, name):
        try:
            _, copied, left = fork(source, renamed, opened.storage)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    log.info("--fork: study %s holds %d finished trial(s) of %s (%s); %d do not fit the new space and stay behind "
             "(%s)", name, len(copied), cfg.study.name, ", ".join(map(str, copied)) or "none", len(left),
             ", ".join(map(str, left)) or "none")
    return renamed


SEARCH_MODES = ("auto", "always", "never")


def _affords_search(plan: Any, per_epoch: float | None, cfg: SearchSpaceFile, search: str = "auto") -> bool:
    return _no_search(plan, per_epoch, cfg, search) is None


def _no_search(plan: Any, per_epoch: float | None, cfg: SearchSpaceFile, search: str = "auto"
               ) -> dict[str, Any] | None:
    """None when the search's share of the budget pays for ``SEARCH_ROOM`` full baseline schedules (68 x
    train.epochs). Below that a search only takes epochs away from the one model it can train (measured:
    bench/LATEST.md, 'Search quality on real data'), so the baseline gets the whole budget instead, trained as
    seed 001's recipe (the final augmentation, no mosaic); the returned note (stored on the study as
    ``NO_SEARCH_ATTR``, shown by the launch summary, ``status`` and the report) says how much room there was and
    about which budget would search here. ``search`` (``launch --search``) overrides the rule: ``always``
    searches whatever the room, ``never`` trains the baseline alone."""
    if plan is None:
        return None
    if search == "never":
        log.info("budget: --search never: the baseline trains alone as seed 001's recipe until the budget ends")
        return {"asked": True, "seconds_per_epoch": round(per_epoch, 2) if per_epoch else None}
    if not per_epoch:
        return None
    from .search import SEARCH_ROOM

    now = time.time()
    affordable = (plan.end - now) / per_epoch
    search_epochs = affordable * (1 - cfg.final.budget_share)
    need = SEARCH_ROOM * cfg.train.epochs
    if search_epochs >= need:
        return None
    if search == "always":
        log.warning("budget: --search always: the search's share pays for about %d baseline epochs, %.1f full "
                    "schedules of the %d the rule asks for; searching anyway (with less room no search on real data "
                    "has yet beaten the baseline trained alone: README, 'time budget')", search_epochs,
                    search_epochs / cfg.train.epochs, SEARCH_ROOM)
        return None
    to_search = (now - plan.started) + need * per_epoch / (1 - cfg.final.budget_share)
    note = {"search_epochs": int(search_epochs), "room": round(search_epochs / cfg.train.epochs, 1), "need": SEARCH_ROOM,
            "seconds_per_epoch": round(per_epoch, 2), "budget_to_search": _fmt_minutes(to_search)}
    log.warning("budget: about %d baseline epochs fit, %d of them for the search: fewer than %d full trials "
                "(%d x train.epochs = %d epochs): no search; the baseline trains as seed 001's recipe with the "
                "final augmentation until the budget ends (about --budget %s would search here)", affordable,
                search_epochs, SEARCH_ROOM, SEARCH_ROOM, need, note["budget_to_search"])
    return note


def _fmt_minutes(seconds: float) -> str:
    m = math.ceil(seconds / 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m"


def _trial_epochs(plan: Any, deadline: float | None, per_epoch: float | None, cfg: SearchSpaceFile, solo: bool
                  ) -> int | None:
    """Under a budget, how long a trial trains: a third of the search's epochs (the baseline and two alternatives
    on full schedules), never fewer than ``train.epochs``. Measured on real data, 12-epoch trials ranked slow
    starters (seed 001's recipe among them) as failures that a longer schedule made the best model
    (bench/LATEST.md); the pruner still stops weak trials at its first rungs. The study's first trial re-plans
    this from its second epoch (the estimate comes from two timed steps)."""
    if plan is None or solo or not per_epoch or deadline is None:
        return None
    from .search import trial_epochs_for

    epochs = trial_epochs_for(deadline - time.time(), per_epoch, cfg.train.epochs)
    if epochs > cfg.train.epochs:
        log.info("budget: trials train for up to %d epochs (a third of the search's time; train.epochs: %d)",
                 epochs, cfg.train.epochs)
    return epochs


def _apply_overrides(cfg: SearchSpaceFile, device: str | None, n_trials: int | None, timeout: float | None
                     ) -> SearchSpaceFile:
    study_upd = {k: v for k, v in (("n_trials", n_trials), ("timeout", timeout)) if v is not None}
    if study_upd:
        cfg = cfg.model_copy(update={"study": cfg.study.model_copy(update=study_upd)})
    if device:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"device": device})})
    return cfg


def launch(config: str | Path | SearchSpaceFile, storage: str | None = None, studies_dir: str | Path = "studies",
           device: str | None = None, n_trials: int | None = None, timeout: float | None = None,
           workers: int = 1, gpus: list[str] | None = None, use_wandb: bool = True, live: bool | None = None,
           budget: str | float | None = None, started: float | None = None, fork: str | None = None,
           warm_start: str | None = None, search: str = "auto") -> LaunchResult:
    """Create or resume the study of a search-space file and run workers until its budget is spent.

    ``budget`` ('8m', '2h', or seconds) bounds the whole launch from ``started`` (default: now; the
    CLI passes its process's start): the search, then the final model from the best trial, which
    this launch then always builds. ``timeout`` bounds only the search. Both stop trials at an epoch
    boundary.

    ``warm_start`` ``auto`` or study names: a new study first tries the best configurations of past studies on
    the nearest data (``segsearch.search._warm``), right after its baseline.

    ``fork`` NEW_NAME: copy the finished trials of the config's study that fit its (changed) space into a new
    study NEW_NAME and run that one (a running study accepts only a space that grew).

    ``search`` under a budget: ``auto`` searches only where the budget has room for it (``_no_search``),
    ``always`` searches anyway, ``never`` trains the baseline alone for the whole budget.
    """
    if search not in SEARCH_MODES:
        raise ConfigError(f"--search {search!r}: choose one of {', '.join(SEARCH_MODES)}")
    started = time.time() if started is None else started
    t0 = time.monotonic() - (time.time() - started)
    studies_dir = Path(studies_dir)
    cfg = _config(config, studies_dir)  # a bad YAML is refused before torch and Optuna are imported
    cfg = _apply_overrides(cfg, device, n_trials, timeout)
    # the first line comes before the imports and the data scan, which take seconds to a minute on a busy machine
    log.info("study %s: loading torch, smp and Optuna, then checking the space and the data in %s", cfg.study.name,
             cfg.data.root if cfg.data.root is not None else "the generated demo scenes")
    from .search import (
        NO_SEARCH_ATTR,
        Budget,
        check_budget,
        open_storage,
        open_study,
        study_lock,
        top_up_budget,
    )
    from .search._baseline import baseline_params

    try:  # a YAML baseline outside the space is refused before anything is written
        baseline_params(cfg)
    except ValueError as exc:
        where = f"{config}: " if isinstance(config, str | Path) else ""
        raise ConfigError(f"{where}study.baseline: {exc}") from None
    budget = budget if budget is not None else cfg.study.budget
    if search == "never" and budget is None:
        raise ConfigError("--search never trains the baseline alone for a wall-clock budget: give --budget (or "
                          "study.budget), or run the baseline alone with --n-trials 1 (a new study's first trial)")
    try:
        plan = Budget.parse(budget, started, cfg) if budget is not None else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    splits = preflight(cfg, studies_dir)
    per_epoch = None
    if plan is not None:
        try:
            per_epoch = check_budget(plan, cfg, len(splits.train), len(splits.val))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    no_search = _no_search(plan, per_epoch, cfg, search)
    solo = no_search is not None
    deadline = cast(Budget, plan).end - _SOLO_RESERVE if solo else _search_deadline(plan, started, cfg.study.timeout)
    if fork:
        cfg = _fork(cfg, fork, storage, studies_dir)
    found = None
    if warm_start:  # a study named there that does not exist is refused before this one is created
        from .search import resolve_storage_url
        from .search._warm import check_sources

        found = check_sources(warm_start, resolve_storage_url(cfg.study.name, storage, cfg.study.storage, studies_dir),
                              studies_dir, cfg.study.name)
    opened = open_storage(cfg.study.name, storage, studies_dir, cfg.study)
    url = opened.url
    cfg = cfg.model_copy(update={"study": cfg.study.model_copy(update={"storage": None})})  # no password downstream
    with study_lock(opened.storage, cfg.study.name):  # two launches at once: one tops up, the other sees it done
        study = open_study(opened.storage, cfg)
        new = not study.get_trials(deepcopy=False)
        added = top_up_budget(study, cfg, portfolio=not solo)
        if plan is not None and (solo or NO_SEARCH_ATTR in study.user_attrs):  # the latest budget launch's
            study.set_user_attr(NO_SEARCH_ATTR, no_search)
        if not new and warm_start:
            log.warning("--warm-start applies to a new study; %s already has trials", cfg.study.name)
        if new:
            _describe_and_warm_start(study, cfg, splits, warm_start if not solo else None, found or {})
    log.info("study %s on %s: %s", cfg.study.name, opened.shown, _trials_line(added, solo, deadline is not None,
                                                                         cfg.study.n_trials is None))
    if (gpus or workers > 1) and not solo:
        from .pool import run_pool

        interrupted = run_pool(cfg.study.name, url, studies_dir, workers=workers, gpus=gpus, use_wandb=use_wandb,
                               timeout=None if deadline is None else max(1.0, deadline - time.time()),
                               device=device)
    else:
        interrupted = _run_worker(study, cfg, splits, studies_dir, use_wandb, 1 if solo else None, None, live,
                                  deadline=deadline, epoch_estimate=per_epoch, solo=solo,
                                  trial_epochs=_trial_epochs(plan, deadline, per_epoch, cfg, solo))
    res = summarize(study, opened.shown, time.monotonic() - t0, interrupted)
    if (cfg.final.auto or plan is not None) and not interrupted and res.best is not None:
        from .final import finalize

        res.final = str(finalize(cfg.study.name, storage=url, studies_dir=studies_dir, device=device, live=live,
                                 deadline=plan.end if plan is not None else None, resume=plan is None))
        res.seconds = time.monotonic() - t0
    return res


# seconds left at the end of a solo run for handing the trial back and writing the model folder; the time its
# evaluation takes is measured during the run and kept back too (``final.check_passes``)
_SOLO_RESERVE = 5.0


def _search_deadline(plan: Any, started: float, timeout: float | None) -> float | None:
    ends = [e for e in (plan.search_end if plan is not None else None,
                        started + timeout if timeout else None) if e is not None]
    return min(ends) if ends else None


def _trials_line(added: int, solo: bool, timed: bool, open_ended: bool) -> str:
    """What the launch will run, in the words ``status`` uses: the trial budget (``study.n_trials``) is not the
    time budget, which decides how many of those trials start."""
    if solo:
        return "the baseline alone trains for the time budget (no search)"
    if open_ended:
        return "no trial budget (study.n_trials: null): trials start until " + ("the time limit ends" if timed
                                                                                  else "stopped")
    return f"{added} more in the trial budget (study.n_trials)" + ("; the time limit decides how many start"
                                                                    if timed else "")


def _run_worker(study: Any, cfg: SearchSpaceFile, splits: Any, studies_dir: Path, use_wandb: bool,
                max_trials: int | None, timeout: float | None, live: bool | None, name: str = "",
                deadline: float | None = None, epoch_estimate: float | None = None, solo: bool = False,
                trial_epochs: int | None = None) -> bool:
    from .tracking import Progress
    from .worker import Worker

    if timeout is not None:
        deadline = min(d for d in (deadline, time.time() + timeout) if d is not None)
    with Progress(cfg.study.n_trials, worker=name, live=live, deadline=deadline) as progress:
        env = make_env(cfg, splits, studies_dir, use_wandb, deadline, epoch_estimate, solo, trial_epochs, progress)
        summary = Worker(study, env, progress, max_trials=max_trials, timeout=timeout).run()
    if summary.fatal:  # a full disk: every next trial would fail the same way; the message says what to do
        from .errors import SegsearchError

        raise SegsearchError(summary.fatal)
    return summary.interrupted


def attach_worker(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies",
                  device: str | None = None, max_trials: int | None = None, use_wandb: bool = True,
                  live: bool | None = None, timeout: float | None = None) -> LaunchResult:
    """Join an existing study from any machine; its search space is read from the study itself."""
    from .search import open_storage, open_study, stored_config

    t0 = time.monotonic()
    studies_dir = Path(studies_dir)
    loaded = open_storage(study_name, storage, studies_dir, existing=True).load(study_name)
    cfg = _apply_overrides(stored_config(loaded), device, None, None)
    opened = open_storage(study_name, storage, studies_dir, cfg.study)  # with the study's heartbeat settings
    study = open_study(opened.storage, cfg, create=False)
    from .data import load_splits

    splits = load_splits(cfg.data, studies_dir)
    interrupted = _run_worker(study, cfg, splits, studies_dir, use_wandb, max_trials, timeout, live,
                              name=f"[{os.getpid()}] ")
    return summarize(study, opened.shown, time.monotonic() - t0, interrupted)


def load_study(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies") -> Any:
    """An existing study by name (``storage``, else SEGSEARCH_STORAGE, else ``studies_dir/<name>/study.db``)."""
    embedded = Path(studies_dir) / study_name / rundir.STUDY_DB
    if not storage and not os.environ.get("SEGSEARCH_STORAGE") and not embedded.exists():
        # answered before Optuna and SQLAlchemy are imported: a typo costs a fraction of a second
        raise ConfigError(f"no study {study_name!r}: {embedded.resolve()} does not exist (give --storage or "
                          "--studies-dir)")
    from .search import load_study as load

    return load(study_name, storage, studies_dir)


def status(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies"
           ) -> tuple[LaunchResult, list[dict[str, Any]]]:
    """The study's summary (trials by state, the best trial) and one row per trial, best first."""
    study = load_study(study_name, storage, studies_dir)
    from .results import best_first, study_config, trade_off, trial_rows

    res = summarize(study, "", 0.0)
    cfg = study_config(study)
    res.trade_off = res.trade_off or trade_off(cfg)
    return res, best_first(trial_rows(study, cfg), study)


def clean(study_name: str, keep: str | None = None, storage: str | None = None, studies_dir: str | Path = "studies"
          ) -> tuple[int, str]:
    """Apply a retention policy (``keep``, default the study's ``study.keep``) to the study's finished trials:
    ``best`` drops their resume checkpoints, ``none`` their weights too (the best trial keeps both).
    Returns the bytes freed and the policy applied."""
    study = load_study(study_name, storage, studies_dir)
    from .search import retain, stored_config

    used = keep or stored_config(study).study.keep
    try:
        return retain(study, used), used
    except ValueError as exc:  # an unknown policy, with the valid choices
        raise ConfigError(f"--{exc}") from None


def list_studies(storage: str | None = None, studies_dir: str | Path = "studies") -> dict[str, str]:
    """Study name -> where it lives: the embedded ``studies_dir/<name>/study.db`` files, and the studies of
    ``storage`` (or SEGSEARCH_STORAGE) when given."""
    found = {d.name: str(d / rundir.STUDY_DB) for d in sorted(Path(studies_dir).glob("*"))
             if (d / rundir.STUDY_DB).is_file()}
    url = storage or os.environ.get("SEGSEARCH_STORAGE")
    if url:
        import optuna

        from .search import make_storage, mask_url

        for name in optuna.study.get_all_study_names(make_storage(url)):
            found.setdefault(name, mask_url(url))
    return found


def plan(data_dir: str | Path, budget: str | None = None, out: str | Path | None = None, force: bool = False
         ) -> Any:
    """Fingerprint a folder of images and masks and write a search-space YAML fitted to it (and the budget)
    plus its ``.fingerprint.json``. Returns ``(yaml_path, plan)``; ``segsearch.plan.table(plan)`` describes it."""
    from .plan import plan_dataset

    return plan_dataset(data_dir, budget, out, force)


def _config(config: str | Path | SearchSpaceFile, studies_dir: str | Path = "studies") -> SearchSpaceFile:
    """A YAML, or a dataset folder: planned with defaults first (the YAML goes to studies/_plans/<folder>.yaml,
    kept when it exists so that a relaunch resumes the same study)."""
    from .config import SearchSpaceFile, load_config

    if isinstance(config, SearchSpaceFile):
        return config
    path = Path(config)
    if not path.is_dir():
        return load_config(path)
    from .plan import plan_dataset, study_name

    target = Path(studies_dir) / "_plans" / f"{study_name(path.resolve().name)}.yaml"
    if not target.is_file():
        plan_dataset(path, None, target)
        log.info("%s is a folder: planned a search for it in %s (segsearch plan DATA_DIR writes one to edit)",
                 path, target)
    return load_config(target)


def inspect(config: str | Path, out: str | Path | None = None, studies_dir: str | Path = "studies"
            ) -> dict[str, Any]:
    """Integrity check and EDA of the YAML's dataset: problems by file, class shares, sizes, plots, class weights.
    Writes ``summary.md`` and plots to ``out`` (default ``studies/_inspect/<study>``); returns the report."""
    from .data import inspect_dataset

    cfg = _config(config, studies_dir)
    out_dir = Path(out) if out is not None else Path(studies_dir) / "_inspect" / cfg.study.name
    report = inspect_dataset(cfg.data, out_dir, Path(studies_dir))
    return {**report, "out": str(out_dir)}


def prepare(config: str | Path, out: str | Path | None = None, studies_dir: str | Path = "studies") -> Any:
    """Stratified, grouped train/val/test split CSVs of the YAML's dataset (use them with ``data.layout: csv``)."""
    from .data import prepare_splits

    return prepare_splits(_config(config, studies_dir).data, out, Path(studies_dir))


def enqueue(study_name: str, settings: dict[str, Any], storage: str | None = None,
            studies_dir: str | Path = "studies", source: str = "api") -> Any:
    """Queue your own training settings as the study's next trial (it extends the budget by one); searched
    keys must lie in the study's space. Returns the queued trial."""
    from .search import enqueue_settings, stored_config

    study = load_study(study_name, storage, studies_dir)
    try:
        return enqueue_settings(study, stored_config(study), settings, source=source)
    except ValueError as exc:
        raise ConfigError(f"cannot enqueue into study {study_name!r}: {exc}") from None


def report(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies",
           out: str | Path | None = None, images: int = 4) -> Any:
    """Write the study's report (report.md/.html, trials.csv, plots); returns what was written."""
    from .results import write_report

    return write_report(load_study(study_name, storage, studies_dir), studies_dir, out, images)


def dashboard(study_name: str | None = None, storage: str | None = None, studies_dir: str | Path = "studies",
              host: str = "127.0.0.1", port: int = 8080, artifacts: str | Path | None = None, previews: bool = True,
              announce: Any = log.info) -> None:
    """Serve optuna-dashboard on a study's storage with prediction previews, until interrupted.
    ``announce(text)`` receives the URL and any notes before serving starts."""
    from .results import add_missing_previews, dashboard_url, resolve, serve

    target = resolve(study_name, storage, studies_dir, artifacts)
    if target.study is not None:  # the labelled learning curves and per-class IoU, fresh
        from .tracking import save_dashboard_plots

        try:
            save_dashboard_plots(target.study)
        except Exception as exc:
            announce(f"note: dashboard plots not written: {exc}")
    if previews and target.study is not None and target.artifacts is not None:
        try:
            add_missing_previews(target.study, studies_dir, target.artifacts)
        except Exception as exc:
            announce(f"note: prediction previews not added: {exc}")
    announce(f"optuna-dashboard: {dashboard_url(host, port, target.study)}  (Ctrl-C to stop)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        announce("warning: the dashboard has no authentication; anyone who reaches this port can read and "
                 "change the study")
    try:
        serve(target, host, port)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}") from None


def finalize(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies", export: bool = False,
             **kwargs: Any) -> Path:
    """Retrain the best trial (or ``trial``, or the ``top_k`` best) into a model folder, evaluate it on the test
    split, and with ``export`` also write TorchScript and ONNX. ``kwargs``: as ``segsearch.final.finalize``
    (trial, top_k, resume, epochs, out, device, augmentation, budget, live)."""
    from .final import export_model
    from .final import finalize as run

    path = run(study_name, storage=storage, studies_dir=studies_dir, **kwargs)
    if export:
        export_model(path)
    return path


def evaluate(model: str | Path, split: str = "test", combine: str | None = None, device: str = "auto",
             tta: bool | None = None) -> dict[str, Any]:
    """Metrics of a model or ensemble folder on its test (or val) split; the test figures go to metrics.json.
    ``device``: auto (a GPU when there is one), cpu, cuda, cuda:N, mps."""
    from .final import evaluate_model

    if split not in ("test", "val"):
        raise ConfigError(f"split must be test or val, got {split!r}")
    return _model_call(evaluate_model, model, split=split, combine=combine, device=_device(device), tta=tta,
                       write=split == "test" and combine is None and tta is None)


def export(model: str | Path, formats: Any = None, images: Any = None) -> dict[str, Any]:
    """TorchScript and ONNX files of a model folder, each checked against PyTorch on real images (export.json)."""
    from .final import FORMATS, export_model

    return _model_call(export_model, model, formats=formats or FORMATS, images=images)


def predict(model: str | Path, inputs: Any, out: str | Path, tile: int | None = None, overlap: float = 0.5,
            tta: bool | None = None, overlays: bool = True, whole: bool = False, combine: str | None = None,
            device: str = "auto") -> list[Any]:
    """Segment images and folders of images of any size into ``out`` (index masks and colour overlays).
    ``device``: auto (a GPU when there is one), cpu, cuda, cuda:N, mps."""
    from .final import load_model, predict_paths

    if not 0 <= overlap < 1:
        raise ConfigError(f"overlap must be in [0, 1), got {overlap}")
    loaded = _model_call(load_model, model, combine=combine, device=_device(device))
    return _model_call(predict_paths, loaded, inputs, out, tile=tile, overlap=overlap, tta=tta, overlays=overlays,
                       whole=whole)


def _device(name: str) -> str:
    """The torch device a model command runs on; one that is not valid here is the user's to fix."""
    from .config import check_device
    from .training import resolve_device

    try:
        return str(resolve_device(check_device(name)))
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"--device {name}: {exc}") from None


def _model_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A model folder's missing files and bad values are the user's to fix: ConfigError with the message."""
    try:
        return fn(*args, **kwargs)
    except (FileNotFoundError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(str(exc)) from None


def demo_data(out: str | Path, n_images: int = 120, size: int = 64, seed: int = 0) -> Path:
    """Write the generated demo dataset (textured scenes, 5 imbalanced classes) to ``out``."""
    from .data import make_demo_dataset

    return make_demo_dataset(out, n_images, size, seed)


def summarize(study: Any, storage: str, seconds: float, interrupted: bool = False) -> LaunchResult:
    from .search import budget_left, is_budget_placeholder

    res = LaunchResult(study.study_name, storage, seconds, interrupted=interrupted)
    trials = study.get_trials(deepcopy=False)
    res.budget_left = budget_left(study, trials)
    from .results import state_name

    for t in trials:
        if not is_budget_placeholder(t):
            res.states[state_name(t)] = res.states.get(state_name(t), 0) + 1
    from .search import NO_SEARCH_ATTR, accuracy, best_trial

    res.space_versions = list(study.user_attrs.get("space_versions") or [])
    res.no_search = study.user_attrs.get(NO_SEARCH_ATTR)
    if len(study.directions) > 1:  # the Pareto front over every objective (costs minimized)
        from .search import pareto_front

        names = (study.metric_names or [])[1:]
        res.trade_off = list(names)
        sign = -1.0 if study.directions[0].name == "MAXIMIZE" else 1.0
        done = [t for t in trials if t.state.name == "COMPLETE" and t.values]
        front = pareto_front(((t.number, t.values[0], tuple(t.values[1:])) for t in done), sign < 0)
        res.front = [{"number": t.number, "value": t.values[0], **dict(zip(names, t.values[1:], strict=False))}
                     for t in sorted(done, key=lambda t: sign * t.values[0]) if t.number in front]
    b = best_trial(study)
    if b is not None:
        res.best = {"number": b.number, "value": accuracy(b), "params": b.params,
                    "metric": (study.metric_names or ["mIoU"])[0].removeprefix("val "),
                    **{k: b.user_attrs.get(k) for k in ("val_miou", "val_mdice", "collapsed", "best_epoch", "n_params",
                                                         "seconds_per_epoch", "per_class_iou")}}
    return res


def configure_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("optuna", "sqlalchemy", "alembic", "urllib3", "httpx", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)
    import warnings

    warnings.filterwarnings("ignore", message=".*Heartbeat.*")
    warnings.filterwarnings("ignore", category=FutureWarning)


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=str, indent=2)
