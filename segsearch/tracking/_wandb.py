"""Seeing each trial: a Weights & Biases run per trial, and a prediction preview attached to the Optuna trial.

``Tracker.for_study(...)`` gives both, for ``api.make_env`` to build the ``TrialEnv`` with: a ``Reporter`` per
trial that logs every epoch to W&B (``reporters``) and an outcome hook (``on_outcome``) that, when the trial ends, predicts a few validation images from its ``best.pt``, writes
``<run_dir>/predictions.png``, uploads it as an Optuna artifact (shown by optuna-dashboard), logs the images
with mask overlays to W&B and closes the W&B run with the trial's final state.

Tracking never fails a trial: any wandb error is logged and W&B is dropped for that trial. With mode
``auto`` the runs go online only when an API key is configured and the W&B host answers; otherwise they
are written offline under ``studies/<study>/wandb`` for ``wandb sync`` later.
"""

from __future__ import annotations

import json
import logging
import netrc
import os
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlparse

import optuna
from optuna.trial import TrialState

from .. import rundir
from .._secrets import mask_url, masked_argv
from ..config import SearchSpaceFile, TrainConfig, WandbConfig, objective_label
from ..data import Splits
from ..search import REQUEUED, UID_ATTR, Outcome, system_attrs
from ..training import EpochResult, Reporter, RunSpec

log = logging.getLogger(__name__)

PREVIEW_IMAGES = 4  # validation images in the Optuna artifact when wandb.log_images is 0
FINISH_TIMEOUT = 60.0  # seconds a run's finish (upload) may block the worker
_MODES = ("online", "offline", "disabled")


def resolve_mode(cfg: WandbConfig) -> str:
    """``auto``: WANDB_MODE when set, else online only with an API key and a host that answers, else offline."""
    if cfg.mode != "auto":
        return cfg.mode
    env = os.environ.get("WANDB_MODE", "").lower()
    if env in _MODES or env == "dryrun":
        return "offline" if env == "dryrun" else env
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or "api.wandb.ai"
    if not _has_api_key(host):
        log.info("W&B: no API key (WANDB_API_KEY or `wandb login`): logging offline")
        return "offline"
    if not _reachable(host):
        log.info("W&B: %s does not answer: logging offline", host)
        return "offline"
    return "online"


def _has_api_key(host: str) -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        auth = netrc.netrc(os.environ.get("NETRC") or None).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(auth and auth[2])


def _reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Tracker:
    """Per-worker state: the open W&B run of each running trial and where previews go."""

    def __init__(self, cfg: SearchSpaceFile, splits: Splits, study_dir: Path, mode: str) -> None:
        self.cfg, self.splits, self.study_dir, self.mode = cfg, splits, study_dir, mode
        self.runs: dict[int, WandbRun] = {}
        self.wandb_dir = study_dir  # wandb adds its own "wandb/" folder
        self.artifacts = study_dir / "artifacts"
        if mode != "disabled":
            hint = f"; upload later: wandb sync {self.wandb_dir / 'wandb'}/offline-run-*" if mode == "offline" else ""
            log.info("W&B: %s, one run per trial in project %s%s", mode, cfg.wandb.project, hint)

    @classmethod
    def for_study(cls, cfg: SearchSpaceFile, splits: Splits, study_dir: Path, use_wandb: bool = True) -> Tracker:
        """W&B runs per trial unless ``use_wandb`` is false or the mode resolves to disabled; previews always."""
        mode = resolve_mode(cfg.wandb) if use_wandb and cfg.wandb.enabled else "disabled"
        return cls(cfg, splits, study_dir, mode)

    def reporters(self, trial: optuna.Trial, tcfg: TrainConfig, run_dir: Path) -> Sequence[Reporter]:
        if self.mode == "disabled":
            return ()
        run = WandbRun(self, trial, tcfg)
        self.runs[trial.number] = run
        return (run,)

    def on_outcome(self, trial: optuna.Trial, outcome: Outcome) -> None:
        run = self.runs.pop(trial.number, None)
        run_dir = Path(trial.user_attrs.get("run_dir", self.study_dir / "trials" / f"{trial.number:05d}"))
        paused = outcome.reason == REQUEUED  # handed back: the same run resumes with the trial
        preds = [] if paused else _guarded(f"trial {trial.number}: prediction preview",
                                           lambda: self.preview(trial, run_dir)) or []
        if self.mode == "disabled":
            return
        if run is None:  # the trial failed before training started: still give it a run with its state
            run = WandbRun(self, trial, None)
        run.finish(trial, outcome, preds)

    def preview(self, trial: optuna.Trial, run_dir: Path) -> list[Any]:
        """Predict a few validation images, write ``predictions.png`` and, for a multiclass trial, the validation
        ``confusion.png`` of its best epoch; attach both to the Optuna trial (optuna-dashboard shows them)."""
        from optuna.artifacts import FileSystemArtifactStore, upload_artifact

        from ._previews import confusion_figure, confusion_names, predict_samples, prediction_grid

        store = FileSystemArtifactStore(str(self.artifacts))
        epoch = trial.user_attrs.get("best_epoch")
        cm = system_attrs(trial).get("confusion")
        if cm:
            png = confusion_figure(cm, confusion_names(self.cfg.data, len(cm)), run_dir / rundir.CONFUSION,
                                   f"trial {trial.number}, epoch {epoch}: share of each true class")
            self.artifacts.mkdir(parents=True, exist_ok=True)
            upload_artifact(artifact_store=store, file_path=str(png), study_or_trial=trial, mimetype="image/png")
        n = self.cfg.wandb.log_images or PREVIEW_IMAGES
        preds = predict_samples(run_dir, self.splits.val, n)
        if not preds:
            return []
        png = prediction_grid(preds, self.cfg.data, run_dir / rundir.PREVIEW,
                              title=f"trial {trial.number}, epoch {epoch}")
        self.artifacts.mkdir(parents=True, exist_ok=True)
        upload_artifact(artifact_store=store, file_path=str(png), study_or_trial=trial, mimetype="image/png")
        return preds

    def fall_back_offline(self) -> None:
        if self.mode == "online":
            log.warning("W&B: online init failed; logging the remaining trials offline")
            self.mode = "offline"


class WandbRun(Reporter):
    """One trial's W&B run. Every wandb call is guarded: on error the run is dropped, the trial goes on."""

    def __init__(self, tracker: Tracker, trial: optuna.Trial, tcfg: TrainConfig | None) -> None:
        self.tracker, self.trial, self.tcfg = tracker, trial, tcfg
        self.run: Any = None
        self.dead = False
        self.names = list(tracker.cfg.data.classes)

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        self._start()
        self._call("summary", lambda run: run.summary.update({"n_params": n_params,
                                                              "resumed_from_epoch": start_epoch}))

    def epoch_end(self, r: EpochResult, is_best: bool) -> None:
        self._call("log", lambda run: run.log(epoch_metrics(r, self.names)))

    def finish(self, trial: optuna.Trial, outcome: Outcome, preds: Sequence[Any]) -> None:
        self._start()
        if preds and self.tracker.cfg.wandb.log_images:
            self._call("images", lambda run: run.log(
                {"epoch": trial.user_attrs.get("best_epoch") or 0,
                 "predictions": wandb_images(preds, self.tracker.cfg)}))
        self._call("summary", lambda run: run.summary.update(outcome_summary(trial, outcome)))
        if outcome.state == TrialState.PRUNED:
            tag = "infeasible" if trial.user_attrs.get("infeasible") else "pruned"
            self._call("tags", lambda run: setattr(run, "tags", (*run.tags, tag)))
        run, self.run = self.run, None
        if run is not None:  # a paused trial is no failure: its run ends cleanly and resumes under the same id
            _finish_with_timeout(run, 1 if outcome.state == TrialState.FAIL and outcome.reason != REQUEUED else 0)

    def _start(self) -> None:
        if self.run is not None or self.dead:
            return
        for mode in dict.fromkeys((self.tracker.mode, "offline")):
            try:
                self.run = _init(self.tracker, self.trial, self.tcfg, mode)
                return
            except Exception as exc:
                log.warning("trial %d: wandb.init (%s) failed: %s", self.trial.number, mode,
                            mask_url(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__)
                if mode == "online":
                    self.tracker.fall_back_offline()
        self.dead = True

    def _call(self, what: str, fn: Callable[[Any], Any]) -> None:
        if self.run is None:
            return
        try:
            fn(self.run)
        except Exception as exc:
            log.warning("trial %d: wandb %s failed (%s); W&B dropped for this trial", self.trial.number, what,
                        mask_url(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__)
            run, self.run, self.dead = self.run, None, True
            _guarded("wandb finish", lambda: run.finish(exit_code=1))


def _init(tracker: Tracker, trial: optuna.Trial, tcfg: TrainConfig | None, mode: str) -> Any:
    import wandb

    cfg = tracker.cfg
    w = cfg.wandb
    tracker.wandb_dir.mkdir(parents=True, exist_ok=True)
    with masked_argv():  # W&B records the command line in the run's metadata
        run = wandb.init(
            # one run per trial: a paused trial that resumes (in this process or another) continues the same run
            id=run_id(trial), resume="allow",
            project=w.project, entity=w.entity, group=w.group or cfg.study.name, name=f"trial-{trial.number}",
            job_type="trial", tags=list(w.tags), config=run_config(trial, tcfg, cfg), dir=str(tracker.wandb_dir),
            mode=cast(Literal["online", "offline", "disabled"], mode), reinit="create_new",
            settings=wandb.Settings(init_timeout=w.init_timeout, silent=True, console="off"),
        )
    run.define_metric("epoch")
    for pattern in ("train/*", "val/*", "lr", "epoch_seconds", "predictions"):
        run.define_metric(pattern, step_metric="epoch")
    return run


def run_id(trial: optuna.Trial) -> str:
    """The trial's W&B run id: the study's unique id and the trial number (a new study of an old name gets new runs)."""
    uid = str(trial.study.user_attrs.get(UID_ATTR) or trial.study.study_name)
    return f"{uid[:12]}-trial-{trial.number}"


def run_config(trial: optuna.Trial, tcfg: TrainConfig | None, cfg: SearchSpaceFile) -> dict[str, Any]:
    """The trial's full resolved settings (sampled and fixed) plus study and data context; no storage URL."""
    settings = json.loads(tcfg.model_dump_json()) if tcfg is not None else {}
    study = cfg.study
    doc = {
        **settings,
        "trial": trial.number,
        "sampled": sorted(trial.params),
        "params": dict(trial.params),
        "study": {"name": study.name, "objective": study.objective, "objective_label": objective_label(cfg),
                  "direction": study.direction, "minimize": list(study.minimize),
                  "sampler": study.sampler.model_dump(), "pruner": study.pruner.model_dump()},
        "data": json.loads(cfg.data.model_dump_json()),
    }
    return _masked(doc)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items() if k != "storage"}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return mask_url(value) if isinstance(value, str) else value


def class_names(classes: Sequence[str], n: int) -> list[str]:
    """Names of ``n`` per-class scores (background dropped when it is not scored)."""
    return list(classes[-n:]) if n < len(classes) else list(classes)


def epoch_metrics(r: EpochResult, classes: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"epoch": r.epoch, "train/loss": r.train_loss, "val/objective": r.objective,
                           "val/miou": r.miou, "val/mdice": r.mdice, "val/collapsed": int(r.collapsed), "lr": r.lr,
                           "epoch_seconds": r.seconds}
    for name, v in zip(class_names(classes, len(r.per_class_iou)), r.per_class_iou, strict=False):
        row[f"val/iou/{name}"] = v
    for name, v in zip(class_names(classes, len(r.per_class_dice)), r.per_class_dice, strict=False):
        row[f"val/dice/{name}"] = v
    return row


def outcome_summary(trial: optuna.Trial, outcome: Outcome) -> dict[str, Any]:
    """The trial's final state for the run summary: complete, pruned or failed with its reason."""
    ua = trial.user_attrs
    doc: dict[str, Any] = {"state": outcome.state.name.lower(), "objective": outcome.value}
    if outcome.reason == REQUEUED:
        doc = {"state": "paused", "paused_at_epoch": ua.get("epochs_run") or 0}
    elif outcome.state == TrialState.FAIL or ua.get("infeasible"):  # infeasible: pruned, can't run here
        doc["state"] = "infeasible" if ua.get("infeasible") else doc["state"]
        doc["fail_reason"] = outcome.reason
        doc["error"] = mask_url(outcome.message or "")[-1000:]
    for key in ("best_epoch", "epochs_run", "val_miou", "val_mdice", "collapsed", "seconds_per_epoch", "n_params",
                "train_memory_mb", "precision", "seed", "image_size", "latency_ms", "peak_memory_mb", "params_m", "flops_g"):
        if ua.get(key) is not None:
            doc[key] = ua[key]
    if ua.get("per_class_iou"):
        doc["best/iou"] = ua["per_class_iou"]
    return doc


def wandb_images(preds: Sequence[Any], cfg: SearchSpaceFile) -> list[Any]:
    """wandb.Image per prediction with ground-truth and predicted masks (W&B's mask overlay)."""
    import numpy as np
    import wandb

    from ._previews import mask_names

    names = mask_names(cfg.data)
    labels = {i: n for i, n in enumerate(names)} | {len(names): "ignored"}

    def mask(m: np.ndarray) -> dict[str, Any]:
        return {"mask_data": np.where(m < 0, len(names), m).astype(np.uint8), "class_labels": labels}

    return [wandb.Image(p.image, caption=p.name, masks={"ground_truth": mask(p.truth), "predictions": mask(p.pred)})
            for p in preds]


def _finish_with_timeout(run: Any, exit_code: int) -> None:
    """Finish (and, online, upload) in a helper thread so a dead network never holds the worker."""
    t = threading.Thread(target=lambda: _guarded("wandb finish", lambda: run.finish(exit_code=exit_code)),
                         daemon=True, name="wandb-finish")
    t.start()
    t.join(FINISH_TIMEOUT)
    if t.is_alive():
        log.warning("W&B: finishing a run takes over %.0f s; continuing (run `wandb sync` later)", FINISH_TIMEOUT)


def _guarded(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        log.warning("%s failed", what, exc_info=True)
        return None


__all__ = ["Tracker", "WandbRun", "epoch_metrics", "outcome_summary", "resolve_mode", "run_config"]
