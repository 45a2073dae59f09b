"""The final stage: retrain the best trial(s), evaluate on the test split, write self-describing model folders.

``finalize`` runs the same ``train`` as the search with fixed settings (the best trial's, the
YAML's ``final`` section for the schedule and augmentation), keeps the best epoch by the
objective on validation, and writes::

    studies/<study>/final/            one model (top_k 1)
        model.pt  model.json  config.yaml  splits.json  metrics.json  metrics.jsonl  last.pt  best.pt
    studies/<study>/final/            an ensemble (top_k K > 1)
        ensemble.json  metrics.json  member_0/ ... member_<K-1>/   (each a model folder as above)

``load_model`` reads either kind back as a module whose ``forward`` takes float NCHW images in
[0, 1] and returns logits, with ``predict(image)`` for whole images of any size.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import rundir
from ..config import ConfigError, DataConfig, KeptEpoch, SearchSpaceFile, TrainConfig
from ..data import Splits, load_splits
from ..training import Reporter, RunSpec, resolve_device, train
from ._evaluate import _num, evaluate_model
from ._folder import COMBINE, _write_model_folder, splits_from_folder
from ._threshold import choose_threshold

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- the retrain


def finalize(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies",
             trial: int | None = None, top_k: int | None = None, resume: bool = True, epochs: int | None = None,
             out: str | Path | None = None, device: str | None = None, augmentation: str | None = None,
             reporters: Sequence[Reporter] = (), live: bool | None = None, deadline: float | None = None,
             budget: str | float | None = None, pick: str | None = None) -> Path:
    """Retrain the best trial (or ``trial``, or the ``top_k`` best distinct ones) and evaluate on test.

    ``epochs`` and ``augmentation`` override the YAML's ``final`` section. Interrupted runs resume
    from ``last.pt`` in their folder unless ``resume`` is False. Returns the model folder (or the
    ensemble folder) that ``load_model`` reads.

    ``pick`` chooses by a rule over accuracy and deployment costs instead of the best accuracy, e.g. ``max miou
    where latency_ms <= 20`` (``_pick``); with ``top_k`` the K first distinct configurations by the rule.

    ``budget`` (seconds or '20m', from now) or ``deadline`` (a ``time.time()``) bounds the stage. When
    the time left cannot pay for a full retrain, the model continues from the trial's last epoch's
    checkpoint with the final augmentation for the epochs that fit, and the trial's weights are
    kept if those epochs do not beat them on validation.
    """
    import time

    from ..config import parse_duration
    from ._pick import parse_rule

    rule = parse_rule(pick) if pick else None  # a rule that cannot be read fails before anything is opened
    if rule is not None and trial is not None:
        raise ConfigError("give --trial or --pick, not both")
    if budget is not None:
        try:
            deadline = time.time() + parse_duration(budget)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    from ..search import UID_ATTR, load_study, stored_config

    studies_dir = Path(studies_dir)
    study = load_study(study_name, storage, studies_dir)
    cfg = stored_config(study)
    if device:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"device": device})})
    if augmentation:
        cfg = cfg.model_copy(update={"final": cfg.final.model_copy(update={"augmentation": augmentation})})
    k = top_k if top_k is not None else cfg.final.top_k
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    chosen = pick_trials(study, trial, k, rule)
    if rule is not None:
        log.info("final: --pick %r chose trial %s", str(rule), ", ".join(str(t.number) for t in chosen))
    out = Path(out) if out is not None else studies_dir / study_name / "final"
    _check_kind(out, ensemble=len(chosen) > 1)
    splits = load_splits(cfg.data, studies_dir)
    uid = study.user_attrs.get(UID_ATTR)
    if len(chosen) == 1:
        _retrain(cfg, chosen[0], splits, out, resume, epochs, reporters, live, deadline, uid)
    else:
        members = [_retrain(cfg, t, splits, out / f"member_{i}", resume, epochs, reporters, live,
                            _share(deadline, len(chosen) - i), uid) for i, t in enumerate(chosen)]
        _write_ensemble(out, members, cfg)
    if cfg.final.export:
        from ._export import export_model

        export_model(out)
    return out


def pick_trials(study: Any, trial: int | None, k: int, rule: Any = None) -> list[Any]:
    """The named trial, or the ``k`` best complete trials with distinct settings (best first; by ``rule``, a
    ``_pick.Rule``, when given)."""
    from optuna.trial import TrialState

    from ..search import stored_config

    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if _value(t) is not None]
    if trial is not None:
        found = [t for t in complete if t.number == trial]
        if not found:
            numbers = ", ".join(str(t.number) for t in complete) or "none"
            raise ConfigError(f"trial {trial} of study {study.study_name!r} is not a complete trial; "
                              f"complete trials: {numbers}")
        return found
    if not complete:
        raise ConfigError(f"study {study.study_name!r} has no complete trial to finalize")
    maximize = study.directions[0].name == "MAXIMIZE"
    cfg = stored_config(study)
    if rule is not None:
        from ._pick import apply_rule

        ranked = apply_rule(rule, complete, cfg.study.objective, maximize)
    else:
        ranked = sorted(complete, key=lambda t: -float(t.values[0]) if maximize else float(t.values[0]))
    picked, seen = [], set()
    for t in ranked:
        key = json.dumps(_trial_settings(t, cfg), sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            picked.append(t)
    if len(picked) < k:
        log.warning("top_k %d asked for, but the study has only %d distinct complete configurations", k, len(picked))
    return picked[:k]


def _value(t: Any) -> float | None:
    """The trial's accuracy objective (a multi-objective trial's first value)."""
    return t.values[0] if t.values else None


def _trial_settings(t: Any, cfg: SearchSpaceFile) -> dict[str, Any]:
    from ..search import replay_settings

    return replay_settings(t, cfg)


def final_train_config(cfg: SearchSpaceFile, t: Any, epochs: int | None = None) -> TrainConfig:
    """The trial's settings on top of the YAML's train section, with the final seed and schedule."""
    merged = {**cfg.train.model_dump(), **_trial_settings(t, cfg), "seed": cfg.final.seed,
              "epochs": epochs or cfg.final.epochs}
    return TrainConfig.model_validate(merged)


def final_data_config(cfg: SearchSpaceFile) -> DataConfig:
    """The data section with the final augmentation and mosaic (validated like the YAML)."""
    try:
        return DataConfig.model_validate({**cfg.data.model_dump(), "augmentation": cfg.final.augmentation,
                                          "mosaic": cfg.final.mosaic})
    except ValueError as exc:
        raise ConfigError(f"final: {exc}") from None


def _share(deadline: float | None, members_left: int) -> float | None:
    """An ensemble member's deadline: an equal share of the time left."""
    import time

    if deadline is None:
        return None
    now = time.time()
    return now + (deadline - now) / members_left


# seconds kept back for writing and evaluating the model folder (a continuation keeps back _WRITE_RESERVE and
# its measured evaluation time, ``check_passes``); full augmentation costs a bit more per epoch
_EVAL_RESERVE, _WRITE_RESERVE, _FULL_AUG_COST, _CONTINUE_LR = 10.0, 5.0, 1.05, 0.3
# a continuation shorter than this is not trained: the three measured (1, 1 and 5 epochs, bench/LATEST.md) all
# scored below the trial's own weights on validation, which were kept; the time was spent for nothing
_MIN_CONTINUE = 3
_CHECKPOINT_NAMES = {rundir.LAST: "last epoch's", rundir.STABLE: "peak-rate (before its decay)"}


def plan_final(t: Any, tcfg: TrainConfig, deadline: float | None) -> tuple[TrainConfig, Path | None, str]:
    """Without a budget, retrain from scratch for ``final.epochs``. Under a budget, continue the trial's most
    trained weights (its last epoch's checkpoint: a trial still learning when its schedule ended has learned
    most there) for every epoch that fits (re-planned after each epoch from their real time; a budget left
    unspent is a worse model, and the best epoch by validation is what is kept): the same time buys the
    trial's epochs plus these, where a retrain
    would start from nothing (measured on real data: a 51-epoch retrain ended below the 20-epoch trial it
    copied, bench/LATEST.md). A trial without a checkpoint is retrained for the epochs that fit; fewer than
    ``_MIN_CONTINUE`` epochs: use the trial's best weights as they are. A ``scheduler: wsd`` trial continues from
    the end of its peak-rate phase (``stable.pt``) at that rate, as one WSD schedule whose decay is the final
    model's, instead of a warm restart of an annealed trial (bench/LATEST.md, 'Continuing from the peak rate'). Returns the train settings, the weights
    to start from, and how."""
    import time

    if deadline is None:
        return tcfg, None, "retrain"
    left = deadline - time.time() - _EVAL_RESERVE
    per_epoch = float(t.user_attrs.get("seconds_per_epoch") or 0) * _FULL_AUG_COST
    if per_epoch <= 0:
        return tcfg, None, "retrain"
    trial_epochs = int(t.user_attrs.get("epochs_run") or 0)
    fit = int(left // per_epoch)
    best, last = _trial_checkpoint(t, rundir.BEST), _trial_checkpoint(t, rundir.LAST)
    if best is None:
        return tcfg.model_copy(update={"epochs": max(1, fit)}), None, "retrain"
    if fit < _MIN_CONTINUE:
        return tcfg, best, "trial_weights"
    if tcfg.scheduler == "wsd":  # from the weights before the trial's decay, at the peak rate: no warm restart
        return tcfg.model_copy(update={"epochs": fit}), _trial_checkpoint(t, rundir.STABLE) or last or best, "continue"
    # a second schedule at least as long as the trial's is a warm restart at the trial's rate; a short one refines
    restart = _still_learning(t) or fit >= trial_epochs > 0
    lr = tcfg.lr if restart else tcfg.lr * _CONTINUE_LR
    return tcfg.model_copy(update={"epochs": fit, "lr": lr}), last or best, "continue"


def _still_learning(t: Any) -> bool:
    """The trial ended on its best epoch, or still predicting one class: it had not converged, so it
    continues at its own learning rate (a converged one at ``_CONTINUE_LR`` of it, to refine)."""
    a = t.user_attrs
    return bool(a.get("last_collapsed")) or (a.get("best_epoch") is not None and a.get("best_epoch") == a.get("epochs_run"))


@dataclass(frozen=True)
class _Own:
    """A trial's own weights as the final model keeps them: a checkpoint file, the epoch and its validation score."""

    path: Path | None
    epoch: int | None
    value: float | None

    def write(self, dest: Path) -> None:
        import shutil

        import torch

        assert self.path is not None
        if self.path.name == rundir.BEST:  # already the weights and their epoch: a copy, not a load and a save
            shutil.copyfile(self.path, dest)
            return
        state = torch.load(self.path, map_location="cpu", weights_only=False)
        torch.save({"model": state["model"], "epoch": state["epoch"]}, dest)


def _trial_own(t: Any, setting: KeptEpoch, lr: float) -> _Own:
    """The trial's weights the final model would keep (``final.checkpoint``, ``training.keeps_last``): its
    last epoch's (``last.pt``) when its schedule had annealed there, else its best epoch's (``best.pt``)."""
    import torch

    from ..training import keeps_last

    best, last = _trial_checkpoint(t, rundir.BEST), _trial_checkpoint(t, rundir.LAST)
    own = _Own(best, t.user_attrs.get("best_epoch"), _value(t))
    if last is None or setting == "best" or own.epoch == t.user_attrs.get("epochs_run"):
        return own  # (best.pt holds the last epoch already: no need to load last.pt, optimizer state and all)
    result = torch.load(last, map_location="cpu", weights_only=False).get("result") or {}
    history = list(result.get("history") or [])
    top = next((h for h in history if h.epoch == result.get("best_epoch")), None)
    if history and history[-1].epoch != own.epoch and keeps_last(history, lr, setting, top):
        return _Own(last, history[-1].epoch, history[-1].objective)
    return own


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _trial_checkpoint(t: Any, name: str = rundir.BEST) -> Path | None:
    run_dir = t.user_attrs.get("run_dir")
    path = Path(run_dir) / name if run_dir else None
    return path if path is not None and path.is_file() else None


def _retrain(cfg: SearchSpaceFile, t: Any, splits: Splits, run_dir: Path, resume: bool, epochs: int | None,
             reporters: Sequence[Reporter], live: bool | None, deadline: float | None = None,
             study_uid: str | None = None) -> Path:
    from ..tracking import Progress
    from ..training import Fanout, MetricsFile

    tcfg, data = final_train_config(cfg, t, epochs), final_data_config(cfg)
    tcfg, init, how = plan_final(t, tcfg, deadline)
    run_dir.mkdir(parents=True, exist_ok=True)
    fresh = _prepare_run_dir(run_dir, tcfg, data, resume, {"study_uid": study_uid, "trial": t.number})
    done = run_dir / rundir.TRAINING
    if done.is_file() and not fresh:
        log.info("%s: training already finished; re-evaluating", run_dir)
    elif how == "trial_weights":
        assert init is not None  # plan_final gives trial_weights only with the trial's best.pt
        own = _trial_own(t, cfg.final.checkpoint, tcfg.lr)
        log.info("final: the time left pays for fewer than %d epochs; the model is trial %d's own weights (epoch %s, "
                 "%s on validation)", _MIN_CONTINUE, t.number, own.epoch, _fmt(own.value))
        own.write(run_dir / rundir.BEST)
        done.write_text(json.dumps({"how": how, "from_trial": t.number, "best_epoch": own.epoch,
                                    "best_value": own.value}, indent=2))
    else:
        spec = RunSpec(train=tcfg, data=data, splits=splits, run_dir=run_dir, objective=cfg.study.objective,
                       maximize=cfg.study.direction == "maximize", resume=resume and not fresh, keep_best=True,
                       keep=cfg.final.checkpoint, stable_checkpoint=False,
                       # under a budget the schedule anneals to the deadline, where most is learned: no early stop
                       patience=cfg.final.patience if deadline is None else None, init_weights=init, fit_to_deadline=how == "continue",
                       deadline=None if deadline is None else deadline - _WRITE_RESERVE,
                       tail_passes=check_passes(cfg, splits))
        what = "retrain" if how == "retrain" else f"continue trial {t.number}'s checkpoint"
        if how == "continue":
            log.info("final: continuing trial %d's %s checkpoint for the %d epoch(s) the budget pays for, with %s "
                     "augmentation at lr %.3g", t.number,
                     _CHECKPOINT_NAMES.get(init.name if init is not None else "", "best"),
                     tcfg.epochs, data.augmentation if isinstance(data.augmentation, str) else "custom", tcfg.lr)
        with Progress(1, worker="final ", live=live, deadline=deadline) as progress:
            progress.trial_start(t.number, what, tcfg.epochs)
            result = train(spec, Fanout([MetricsFile(run_dir), progress, *reporters]))
        own = _trial_own(t, cfg.final.checkpoint, final_train_config(cfg, t, epochs).lr)
        kept = own.path is not None and not _improves_on(result.best_value, own.value,
                                                         cfg.study.direction == "maximize")
        if kept:  # the final epochs did not beat the trial's own weights on validation: never worse than it
            log.info("final: the %s reached %.4f on validation, trial %d's own weights (epoch %d) %.4f: keeping "
                     "the trial's", how, result.best_value, t.number, own.epoch, own.value)
            own.write(run_dir / rundir.BEST)
        summary = {"how": how, "from_trial": t.number, "kept_trial_weights": kept,
                   "best_epoch": result.best_epoch, "best_value": result.best_value,
                   "epochs_run": result.history[-1].epoch if result.history else 0,
                   "resumed_from": result.resumed_from, "stopped": result.stopped, "n_params": result.n_params,
                   "seconds_per_epoch": result.seconds_per_epoch, "best": asdict(result.best) if result.best else None}
        done.write_text(json.dumps(summary, indent=2, default=str))
    _write_model_folder(run_dir, cfg, t, tcfg, data, splits)
    device = str(resolve_device(tcfg.device))  # the checks run where the model trained (a GPU when there is one)
    choose_tta(run_dir, splits, cfg.final.tta, device)
    choose_threshold(run_dir, splits, cfg.final.threshold, device)
    metrics = evaluate_model(run_dir, splits=splits, device=device)
    iv = metrics.get("miou_interval") or {}
    log.info("final model (trial %d): test %s %.4f%s, Dice %.4f%s", t.number, metrics["metric"], metrics["miou"],
             f" (95% interval {iv['low']:.3f}-{iv['high']:.3f})" if iv else "", metrics["mdice"],
             " -- COLLAPSED: it predicts one class everywhere" if metrics["collapsed"] else "")
    return run_dir


def check_passes(cfg: SearchSpaceFile, splits: Splits) -> float:
    """The checks that follow the final model's training, in validation passes: the flip check (``final.tta:
    auto``: without and with flips, 1 + 3 passes), the threshold sweep (binary or multilabel with
    ``final.threshold: auto``: one pass, 3 with flips) and the test evaluation (3 passes with flips) scaled by
    the test split's size. A budget keeps their time back from training (nuclei at 8 minutes: 18 s, where a
    fixed 12 s had been kept)."""
    per = 1 if cfg.final.tta == "off" or cfg.data.flips == "none" else 3
    test = len(splits.test) / max(1, len(splits.val)) if splits.test else 1.0
    sweep = cfg.final.threshold == "auto" and cfg.data.mode != "multiclass"
    return (4 if per == 3 and cfg.final.tta == "auto" else 0) + (per if sweep else 0) + per * test


def choose_tta(run_dir: Path, splits: Splits, setting: str = "auto", device: str = "cpu") -> bool:
    """Decide the model folder's flip test-time augmentation (nnU-Net's mirroring: the mean over the image,
    its horizontal and its vertical flip). ``auto`` keeps it only when it scores higher on validation
    (flips are wrong where a class depends on the side, e.g. left vs right arm); ``on`` / ``off`` force it.
    Recorded in ``model.json`` (``tta``, ``tta_val``); ``load_model`` and ``predict`` follow it."""
    meta_file = run_dir / rundir.MODEL
    meta = json.loads(meta_file.read_text())
    if not meta.get("flips", True):  # trained without flips (data.flips): nothing to average over
        log.info("final: flip test-time augmentation off (data.flips allows no flip)")
        meta["tta"] = False
        meta.pop("tta_val", None)
    elif setting == "auto" and splits.val:
        off = _num(evaluate_model(run_dir, "val", splits, device=device, write=False, tta=False)["miou"]) or 0.0
        on = _num(evaluate_model(run_dir, "val", splits, device=device, write=False, tta=True)["miou"]) or 0.0
        meta["tta"], meta["tta_val"] = on > off, {"without": off, "with": on}
        log.info("final: flip test-time augmentation %s (validation %.4f with flips, %.4f without)",
                 "on" if on > off else "off", on, off)
    else:
        meta["tta"] = setting == "on"
        meta.pop("tta_val", None)
    meta_file.write_text(json.dumps(meta, indent=2))
    return bool(meta["tta"])


def _improves_on(value: float, reference: float | None, maximize: bool) -> bool:
    if reference is None or math.isnan(reference):
        return True
    if math.isnan(value):
        return False
    return value > reference if maximize else value < reference


def _prepare_run_dir(run_dir: Path, tcfg: TrainConfig, data: DataConfig, resume: bool,
                     owner: dict[str, Any] | None = None) -> bool:
    """Refuse to resume a run made with other settings or by another study (``owner``: the study's unique
    id and the trial); with ``resume`` False clear the old run.

    Returns True when the run starts from scratch."""
    settings = {"train": json.loads(tcfg.model_dump_json()), "data": json.loads(data.model_dump_json()),
                "owner": owner or {}}
    stamp = run_dir / rundir.SETTINGS
    if not resume:
        for name in (rundir.LAST, rundir.BEST, rundir.STABLE, rundir.TRAINING, rundir.METRICS):
            (run_dir / name).unlink(missing_ok=True)
    elif stamp.is_file() and (run_dir / rundir.LAST).is_file():
        old = json.loads(stamp.read_text())
        if old != settings:
            changed = _diff(old, settings)
            raise ConfigError(f"{run_dir} holds a final run with other settings ({'; '.join(changed[:5])}); "
                              "pass --no-resume (resume=False) to start over, or --out for another folder")
    fresh = not (run_dir / rundir.LAST).is_file()
    stamp.write_text(json.dumps(settings, indent=2))
    return fresh


def _diff(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def _check_kind(out: Path, ensemble: bool) -> None:
    other = out / (rundir.MODEL if ensemble else rundir.ENSEMBLE)
    if other.is_file():
        kind = "a single model" if ensemble else "an ensemble"
        raise ConfigError(f"{out} already holds {kind}; give another folder with --out (out=...)")


def _write_ensemble(out: Path, members: list[Path], cfg: SearchSpaceFile) -> None:
    doc = {"format": 1, "kind": "ensemble", "study": cfg.study.name, "combine": cfg.final.combine,
           "threshold": cfg.train.threshold,  # of the combined probabilities; the members' own were chosen alone
           "members": [m.name for m in members],
           "trials": [json.loads((m / rundir.MODEL).read_text())["trial"] for m in members]}
    (out / rundir.ENSEMBLE).write_text(json.dumps(doc, indent=2))
    splits = splits_from_folder(members[0])
    device = str(resolve_device(cfg.train.device))
    results = {c: evaluate_model(out, splits=splits, combine=c, device=device, write=False) for c in COMBINE}
    singles = [json.loads((m / rundir.TEST_METRICS).read_text()) for m in members]
    best_single = max(singles, key=lambda m: m["miou"])
    summary = {**results[cfg.final.combine],
               "combine": {c: {"miou": r["miou"], "mdice": r["mdice"]} for c, r in results.items()},
               "members": [{"folder": m.name, "trial": s["trial"], "miou": s["miou"], "mdice": s["mdice"]}
                           for m, s in zip(members, singles, strict=True)],
               "best_single": {"trial": best_single["trial"], "miou": best_single["miou"]},
               "ensemble_beats_best_single": {c: r["miou"] > best_single["miou"] for c, r in results.items()}}
    (out / rundir.TEST_METRICS).write_text(json.dumps(summary, indent=2))
    beats = summary["ensemble_beats_best_single"][cfg.final.combine]
    log.info("ensemble of %d: test mIoU %.4f (mean), %.4f (vote); best single %.4f: ensemble %s", len(members),
             results["mean"]["miou"], results["vote"]["miou"], best_single["miou"],
             "beats it" if beats else "does not beat it")
