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

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from ._versions import versions
from .config import ConfigError, DataConfig, SearchSpaceFile, TrainConfig, metric_label, space_hash
from .data import Sample, SegDataset, Splits, build_transform, load_splits
from .training import (
    MetricAccumulator,
    Reporter,
    RunSpec,
    evaluate,
    make_runtime,
    save_atomic,
    train,
)

log = logging.getLogger(__name__)

PALETTE = [(0, 0, 0), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
           (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0),
           (255, 215, 180), (0, 0, 128), (128, 128, 128), (255, 255, 255)]
COMBINE = ("mean", "vote")


# --------------------------------------------------------------------------- the retrain


def finalize(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies",
             trial: int | None = None, top_k: int | None = None, resume: bool = True, epochs: int | None = None,
             out: str | Path | None = None, device: str | None = None, augmentation: str | None = None,
             reporters: Sequence[Reporter] = (), live: bool | None = None, deadline: float | None = None,
             budget: str | float | None = None) -> Path:
    """Retrain the best trial (or ``trial``, or the ``top_k`` best distinct ones) and evaluate on test.

    ``epochs`` and ``augmentation`` override the YAML's ``final`` section. Interrupted runs resume
    from ``last.pt`` in their folder unless ``resume`` is False. Returns the model folder (or the
    ensemble folder) that ``load_model`` reads.

    ``budget`` (seconds or '20m', from now) or ``deadline`` (a ``time.time()``) bounds the stage. When
    the time left cannot pay for a full retrain, the model continues from the trial's last epoch's
    checkpoint with the final augmentation for the epochs that fit, and the trial's weights are
    kept if those epochs do not beat them on validation.
    """
    import time

    from .config import parse_duration

    if budget is not None:
        try:
            deadline = time.time() + parse_duration(budget)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    from . import api
    from .search import UID_ATTR, stored_config

    studies_dir = Path(studies_dir)
    study = api.load_study(study_name, storage, studies_dir)
    cfg = stored_config(study)
    if device:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"device": device})})
    if augmentation:
        cfg = cfg.model_copy(update={"final": cfg.final.model_copy(update={"augmentation": augmentation})})
    k = top_k if top_k is not None else cfg.final.top_k
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    chosen = pick_trials(study, trial, k)
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
        from .export import export_model

        export_model(out)
    return out


def pick_trials(study: Any, trial: int | None, k: int) -> list[Any]:
    """The named trial, or the ``k`` best complete trials with distinct settings (best first)."""
    from optuna.trial import TrialState

    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    if trial is not None:
        found = [t for t in complete if t.number == trial]
        if not found:
            numbers = ", ".join(str(t.number) for t in complete) or "none"
            raise ConfigError(f"trial {trial} of study {study.study_name!r} is not a complete trial; "
                              f"complete trials: {numbers}")
        return found
    if not complete:
        raise ConfigError(f"study {study.study_name!r} has no complete trial to finalize")
    maximize = study.direction.name == "MAXIMIZE"
    ranked = sorted(complete, key=lambda t: -t.value if maximize else t.value)
    picked, seen = [], set()
    for t in ranked:
        key = json.dumps(_trial_settings(t), sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            picked.append(t)
    if len(picked) < k:
        log.warning("top_k %d asked for, but the study has only %d distinct complete configurations", k, len(picked))
    return picked[:k]


def _trial_settings(t: Any) -> dict[str, Any]:
    from .search import params_to_settings

    fixed = t.system_attrs.get("fixed_params") or {}
    return params_to_settings({**fixed, **t.params})


def final_train_config(cfg: SearchSpaceFile, t: Any, epochs: int | None = None) -> TrainConfig:
    """The trial's settings on top of the YAML's train section, with the final seed and schedule."""
    merged = {**cfg.train.model_dump(), **_trial_settings(t), "seed": cfg.final.seed,
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


# seconds kept back for writing and evaluating the model folder; full augmentation costs a bit more per epoch
_EVAL_RESERVE, _FULL_AUG_COST, _CONTINUE_LR = 10.0, 1.05, 0.3


def plan_final(t: Any, tcfg: TrainConfig, deadline: float | None) -> tuple[TrainConfig, Path | None, str]:
    """Retrain from scratch when the time left pays for it, else continue the trial's most trained weights
    (its last epoch's checkpoint: a trial still learning when its schedule ended has learned most there)
    for the epochs that fit, at a lower learning rate; 0 epochs: use the trial's best weights as they are.
    Returns the train settings, the weights to start from, and how."""
    import time

    if deadline is None:
        return tcfg, None, "retrain"
    left = deadline - time.time() - _EVAL_RESERVE
    per_epoch = float(t.user_attrs.get("seconds_per_epoch") or 0) * _FULL_AUG_COST
    if per_epoch <= 0 or tcfg.epochs * per_epoch <= left:
        return tcfg, None, "retrain"
    best, last = _trial_checkpoint(t, "best.pt"), _trial_checkpoint(t, "last.pt")
    fit = int(left // per_epoch)
    if best is None:
        return tcfg.model_copy(update={"epochs": max(1, fit)}), None, "retrain"
    if fit < 1:
        return tcfg, best, "trial_weights"
    lr = tcfg.lr if _still_learning(t) else tcfg.lr * _CONTINUE_LR
    return tcfg.model_copy(update={"epochs": fit, "lr": lr}), last or best, "continue"


def _still_learning(t: Any) -> bool:
    """The trial ended on its best epoch, or still predicting one class: it had not converged, so it
    continues at its own learning rate (a converged one at ``_CONTINUE_LR`` of it, to refine)."""
    a = t.user_attrs
    return bool(a.get("last_collapsed")) or (a.get("best_epoch") is not None and a.get("best_epoch") == a.get("epochs_run"))


def _trial_checkpoint(t: Any, name: str = "best.pt") -> Path | None:
    run_dir = t.user_attrs.get("run_dir")
    path = Path(run_dir) / name if run_dir else None
    return path if path is not None and path.is_file() else None


def _retrain(cfg: SearchSpaceFile, t: Any, splits: Splits, run_dir: Path, resume: bool, epochs: int | None,
             reporters: Sequence[Reporter], live: bool | None, deadline: float | None = None,
             study_uid: str | None = None) -> Path:
    import shutil

    from .progress import Progress
    from .training import Fanout, MetricsFile

    tcfg, data = final_train_config(cfg, t, epochs), final_data_config(cfg)
    tcfg, init, how = plan_final(t, tcfg, deadline)
    run_dir.mkdir(parents=True, exist_ok=True)
    fresh = _prepare_run_dir(run_dir, tcfg, data, resume, {"study_uid": study_uid, "trial": t.number})
    done = run_dir / "training.json"
    if done.is_file() and not fresh:
        log.info("%s: training already finished; re-evaluating", run_dir)
    elif how == "trial_weights":
        log.info("final: no time left to train; the model is trial %d's best checkpoint", t.number)  # init: best.pt
        shutil.copyfile(init, run_dir / "best.pt")
        done.write_text(json.dumps({"how": how, "from_trial": t.number, "best_value": t.value}, indent=2))
    else:
        spec = RunSpec(train=tcfg, data=data, splits=splits, run_dir=run_dir, objective=cfg.study.objective,
                       maximize=cfg.study.direction == "maximize", resume=resume and not fresh, keep_best=True,
                       patience=cfg.final.patience, init_weights=init,
                       deadline=None if deadline is None else deadline - _EVAL_RESERVE)
        what = "retrain" if how == "retrain" else f"continue trial {t.number}'s checkpoint"
        if how == "continue":
            log.info("final: not enough time to retrain %d epochs; continuing trial %d's %s checkpoint for %d "
                     "epoch(s) with %s augmentation", final_train_config(cfg, t, epochs).epochs, t.number,
                     "last epoch's" if init is not None and init.name == "last.pt" else "best",
                     tcfg.epochs, data.augmentation if isinstance(data.augmentation, str) else "custom")
        with Progress(1, worker="final ", live=live) as progress:
            progress.trial_start(t.number, what, tcfg.epochs)
            result = train(spec, Fanout([MetricsFile(run_dir), progress, *reporters]))
        kept = init is not None and not _improves_on(result.best_value, t.value, cfg.study.direction == "maximize")
        if kept:  # the continued epochs did not beat the trial's own best weights on validation
            shutil.copyfile(_trial_checkpoint(t, "best.pt") or init, run_dir / "best.pt")
        summary = {"how": how, "from_trial": t.number, "kept_trial_weights": kept,
                   "best_epoch": result.best_epoch, "best_value": result.best_value,
                   "epochs_run": result.history[-1].epoch if result.history else 0,
                   "resumed_from": result.resumed_from, "stopped": result.stopped, "n_params": result.n_params,
                   "seconds_per_epoch": result.seconds_per_epoch, "best": asdict(result.best) if result.best else None}
        done.write_text(json.dumps(summary, indent=2, default=str))
    _write_model_folder(run_dir, cfg, t, tcfg, data, splits)
    choose_tta(run_dir, splits, cfg.final.tta)
    metrics = evaluate_model(run_dir, splits=splits)
    log.info("final model (trial %d): test %s %.4f, Dice %.4f%s", t.number, metrics["metric"], metrics["miou"],
             metrics["mdice"], " -- COLLAPSED: it predicts one class everywhere" if metrics["collapsed"] else "")
    return run_dir


def choose_tta(run_dir: Path, splits: Splits, setting: str = "auto") -> bool:
    """Decide the model folder's flip test-time augmentation (nnU-Net's mirroring: the mean over the image,
    its horizontal and its vertical flip). ``auto`` keeps it only when it scores higher on validation
    (flips are wrong where a class depends on the side, e.g. left vs right arm); ``on`` / ``off`` force it.
    Recorded in ``model.json`` (``tta``, ``tta_val``); ``load_model`` and ``predict`` follow it."""
    meta_file = run_dir / "model.json"
    meta = json.loads(meta_file.read_text())
    if setting == "auto" and splits.val:
        off = _num(evaluate_model(run_dir, "val", splits, write=False, tta=False)["miou"]) or 0.0
        on = _num(evaluate_model(run_dir, "val", splits, write=False, tta=True)["miou"]) or 0.0
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
    stamp = run_dir / "settings.json"
    if not resume:
        for name in ("last.pt", "best.pt", "training.json", "metrics.jsonl"):
            (run_dir / name).unlink(missing_ok=True)
    elif stamp.is_file() and (run_dir / "last.pt").is_file():
        old = json.loads(stamp.read_text())
        if old != settings:
            changed = _diff(old, settings)
            raise ConfigError(f"{run_dir} holds a final run with other settings ({'; '.join(changed[:5])}); "
                              "pass --no-resume (resume=False) to start over, or --out for another folder")
    fresh = not (run_dir / "last.pt").is_file()
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
    other = out / ("model.json" if ensemble else "ensemble.json")
    if other.is_file():
        kind = "a single model" if ensemble else "an ensemble"
        raise ConfigError(f"{out} already holds {kind}; give another folder with --out (out=...)")


# --------------------------------------------------------------------------- the model folder


def _write_model_folder(run_dir: Path, cfg: SearchSpaceFile, t: Any, tcfg: TrainConfig, data: DataConfig,
                        splits: Splits) -> None:
    from .components import preprocessing

    best = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=False)
    save_atomic(best["model"], run_dir / "model.pt")
    split_lists = {name: [_sample_doc(s) for s in getattr(splits, name)] for name in ("train", "val", "test")}
    (run_dir / "splits.json").write_text(json.dumps(split_lists, indent=1))
    pre = preprocessing(tcfg.encoder, tcfg.encoder_weights)
    meta = {
        "format": 1,
        "kind": "model",
        "study": cfg.study.name,
        "trial": t.number,
        "trial_value": t.value,
        "params": dict(t.params),
        "space_hash": space_hash(cfg),
        "architecture": tcfg.architecture,
        "architecture_params": dict(tcfg.architecture_params),
        "encoder": tcfg.encoder,
        "encoder_depth": tcfg.encoder_depth,
        "in_channels": data.in_channels,
        "bands": data.bands,
        "classes": list(data.classes),
        "colors": class_colors(data),
        "mode": data.mode,
        "threshold": tcfg.threshold,
        "image_size": list(data.size_hw),
        "stride": 2 ** tcfg.encoder_depth,
        "preprocessing": {"mean": _fit(pre["mean"], data.in_channels), "std": _fit(pre["std"], data.in_channels),
                          "input": "float32 NCHW, RGB, scaled to [0, 1] (uint8 / 255, uint16 / 65535)"},
        "output": "logits NxCxHxW; softmax (multiclass) or sigmoid (binary, multilabel) for probabilities",
        "best_epoch": int(best.get("epoch", 0)),
        "seed": tcfg.seed,
        "split_seed": data.split_seed,
        "split_hash": _split_hash(split_lists),
        "split_sizes": {k: len(v) for k, v in split_lists.items()},
        "versions": versions(),
    }
    (run_dir / "model.json").write_text(json.dumps(meta, indent=2))
    doc = {"study": cfg.study.name, "trial": t.number, "space_hash": meta["space_hash"],
           "train": json.loads(tcfg.model_dump_json()), "data": json.loads(data.model_dump_json()),
           "final": json.loads(cfg.final.model_dump_json()), "versions": meta["versions"]}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _sample_doc(s: Sample) -> dict[str, Any]:
    return {"image": str(s.image), "mask": str(s.mask), "group": s.group, "class_masks": [str(p) for p in s.class_masks]}


def _split_hash(split_lists: dict[str, list[dict[str, Any]]]) -> str:
    return hashlib.sha256(json.dumps(split_lists, sort_keys=True).encode()).hexdigest()[:16]


def _fit(values: Sequence[float], n: int) -> list[float]:
    return [float(v) for v in (list(values) * n)[:n]]


def class_colors(data: DataConfig) -> dict[str, list[int]]:
    """``data.colors`` where given, a fixed palette otherwise (binary: background black, foreground red)."""
    names = list(data.classes) if data.mode != "binary" else ["background", *data.classes]
    given = data.colors or {}
    return {n: list(given.get(n, PALETTE[i % len(PALETTE)])) for i, n in enumerate(names)}


def _write_ensemble(out: Path, members: list[Path], cfg: SearchSpaceFile) -> None:
    doc = {"format": 1, "kind": "ensemble", "study": cfg.study.name, "combine": cfg.final.combine,
           "members": [m.name for m in members],
           "trials": [json.loads((m / "model.json").read_text())["trial"] for m in members]}
    (out / "ensemble.json").write_text(json.dumps(doc, indent=2))
    splits = _splits_from_folder(members[0])
    results = {c: evaluate_model(out, splits=splits, combine=c, write=False) for c in COMBINE}
    singles = [json.loads((m / "metrics.json").read_text()) for m in members]
    best_single = max(singles, key=lambda m: m["miou"])
    summary = {**results[cfg.final.combine],
               "combine": {c: {"miou": r["miou"], "mdice": r["mdice"]} for c, r in results.items()},
               "members": [{"folder": m.name, "trial": s["trial"], "miou": s["miou"], "mdice": s["mdice"]}
                           for m, s in zip(members, singles, strict=True)],
               "best_single": {"trial": best_single["trial"], "miou": best_single["miou"]},
               "ensemble_beats_best_single": {c: r["miou"] > best_single["miou"] for c, r in results.items()}}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    beats = summary["ensemble_beats_best_single"][cfg.final.combine]
    log.info("ensemble of %d: test mIoU %.4f (mean), %.4f (vote); best single %.4f: ensemble %s", len(members),
             results["mean"]["miou"], results["vote"]["miou"], best_single["miou"],
             "beats it" if beats else "does not beat it")


# --------------------------------------------------------------------------- loading


class SegModel(torch.nn.Module):
    """A trained network with what it needs to run: normalisation, classes, colours, sizes.

    ``forward`` takes float NCHW images in [0, 1] and returns logits (normalisation is inside, so
    the exported graphs take the same input).
    """

    def __init__(self, net: torch.nn.Module, meta: dict[str, Any], path: Path | None = None) -> None:
        super().__init__()
        self.net, self.meta, self.path = net, meta, path
        self.tta = bool(meta.get("tta", False))  # flip test-time augmentation, chosen on validation by finalize
        pre = meta["preprocessing"]
        self.register_buffer("mean", torch.tensor(pre["mean"], dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre["std"], dtype=torch.float32).view(1, -1, 1, 1))

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def colors(self) -> dict[str, list[int]]:
        return dict(self.meta["colors"])

    @property
    def mode(self) -> str:
        return self.meta["mode"]

    @property
    def preprocessing(self) -> dict[str, Any]:
        return dict(self.meta["preprocessing"])

    @property
    def image_size(self) -> tuple[int, int]:
        h, w = self.meta["image_size"]
        return int(h), int(w)

    @property
    def stride(self) -> int:
        return int(self.meta.get("stride", 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.tta:
            return self.net((x - self.mean) / self.std)
        p = self.probabilities(x).clamp(1e-6, 1 - 1e-6)
        return p.log() if self.mode == "multiclass" else torch.logit(p)

    def single_pass(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities of one forward pass, without test-time augmentation."""
        logits = self.net((x - self.mean) / self.std)
        return logits.softmax(1) if self.mode == "multiclass" else logits.sigmoid()

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        from .predict import with_flips

        return with_flips(self.single_pass)(x) if self.tta else self.single_pass(x)

    def predict(self, image: np.ndarray, tile: int | tuple[int, int] | None = None, overlap: float = 0.5,
                tta: bool | None = None, batch_size: int = 8) -> np.ndarray:
        """Class probabilities (CxHxW float32) for an HxW(xC) image of any size, by sliding window;
        ``tta`` None: flip test-time augmentation as the model folder records (``model.json: tta``)."""
        from .predict import predict_probabilities

        return predict_probabilities(self, image, tile=tile, overlap=overlap, tta=tta, batch_size=batch_size)

    def predict_mask(self, image: np.ndarray, **kwargs: Any) -> np.ndarray:
        from .predict import to_mask

        return to_mask(self.predict(image, **kwargs), self.mode, self.meta.get("threshold", 0.5))


class Ensemble(SegModel):
    """Members' probabilities averaged (``mean``) or their labels majority-voted (``vote``).

    ``forward`` returns logits of the combined probabilities, so metrics and argmax work unchanged.
    """

    def __init__(self, members: Sequence[SegModel], meta: dict[str, Any], combine: str = "mean",
                 path: Path | None = None) -> None:
        if combine not in COMBINE:
            raise ValueError(f"unknown combine {combine!r}; valid: {', '.join(COMBINE)}")
        first = members[0].meta
        merged = {**first, **meta, "kind": "ensemble", "combine": combine}
        super().__init__(torch.nn.Identity(), {**merged, "tta": bool(meta.get("tta", False))}, path)
        self.members = torch.nn.ModuleList(members)
        self.combine = combine

    def single_pass(self, x: torch.Tensor) -> torch.Tensor:
        probs = [m.probabilities(x) for m in self.members]
        if self.combine == "mean":
            return torch.stack(probs).mean(0)
        if self.mode == "multiclass":
            n = probs[0].shape[1]
            votes = [torch.nn.functional.one_hot(p.argmax(1), n).permute(0, 3, 1, 2).float() for p in probs]
        else:
            thr = self.meta.get("threshold", 0.5)
            votes = [(p > thr).float() for p in probs]
        return torch.stack(votes).mean(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.probabilities(x).clamp(1e-6, 1 - 1e-6)
        return p.log() if self.mode == "multiclass" else torch.logit(p)


def load_model(path: str | Path, combine: str | None = None, device: str = "cpu", tta: bool | None = None
               ) -> SegModel:
    """A model folder (``model.json``) or an ensemble folder (``ensemble.json``) as a ready module (eval mode).

    ``tta``: flip test-time augmentation on or off; None keeps what the folder records (``tta``, chosen on
    validation by ``finalize``)."""
    path = Path(path)
    if (path / "ensemble.json").is_file():
        doc = json.loads((path / "ensemble.json").read_text())
        members = [_load_single(path / name, device, False) for name in doc["members"]]
        return Ensemble(members, {"members": doc["members"], "trials": doc.get("trials"), "trial": None,
                                  "tta": bool(tta)}, combine or doc.get("combine", "mean"), path).eval()
    if not (path / "model.json").is_file():
        raise FileNotFoundError(f"{path}: not a model folder (no model.json or ensemble.json); "
                                "write one with `segsearch finalize STUDY`")
    return _load_single(path, device, tta)


def _load_single(path: Path, device: str, tta: bool | None = None) -> SegModel:
    from .components import build_model

    meta = json.loads((path / "model.json").read_text())
    n_out = len(meta["classes"])
    net = build_model(meta["architecture"], meta["encoder"], None, meta["encoder_depth"], meta["in_channels"],
                      n_out, meta.get("architecture_params", {}))
    net.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    model = SegModel(net, meta, path)
    if tta is not None:
        model.tta = tta
    return model.to(device).eval()


# --------------------------------------------------------------------------- evaluation


class _Both:
    """The class-mean metrics (the headline) and seed 001's micro-imagewise ones from one pass."""

    def __init__(self, *args: Any) -> None:
        mode, n, ignore, thr, include_bg = args
        self.imagewise = MetricAccumulator(mode, n, ignore, thr, "micro-imagewise", include_bg)
        self.dataset = MetricAccumulator(mode, n, ignore, thr, "class-mean", include_bg)
        self.n_images = 0

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        self.imagewise.update(logits, target)
        self.dataset.update(logits, target)
        self.n_images += int(logits.shape[0])

    def compute(self) -> tuple[Any, Any]:
        return self.imagewise.compute(), self.dataset.compute()


def evaluate_model(path: str | Path, split: str = "test", splits: Splits | None = None, combine: str | None = None,
                   device: str = "cpu", write: bool = True, tta: bool | None = None) -> dict[str, Any]:
    """Test-split metrics of a model or ensemble folder: mIoU and mDice as class means (binary: the
    foreground's), seed 001's micro-imagewise figures (labelled), per class, the confusion matrix,
    whether the model collapsed to one class, and per-level mIoU of a class hierarchy.

    Written to ``<folder>/metrics.json`` when ``write``. Images are resized to the training size,
    as in validation. The test split falls back to validation when it is empty (recorded).
    """
    path = Path(path)
    model = load_model(path, combine=combine, device=device, tta=tta)
    data, tcfg = _folder_configs(model)
    splits = splits or _splits_from_folder(model.members[0].path if isinstance(model, Ensemble) else path)
    samples = getattr(splits, split)
    used = split
    if not samples and split == "test":
        log.warning("%s: the test split is empty; evaluating on validation instead", path)
        samples, used = splits.val, "val"
    ds = SegDataset(samples, data, build_transform("none", data.size_hw, train=False), [0.0], [1.0], cache=False)
    loader = torch.utils.data.DataLoader(ds, batch_size=tcfg.batch_size, shuffle=False)
    acc = _Both(data.mode, data.num_classes, data.ignore_index, tcfg.threshold, tcfg.include_background)
    imagewise, dataset = evaluate(model, loader, make_runtime(device, "off", False), acc)
    metrics = _metrics_doc(model, data, imagewise, dataset, used, acc.n_images)
    if write:  # an ensemble's file also holds the comparison with its members: keep it
        old = path / "metrics.json"
        kept = json.loads(old.read_text()) if isinstance(model, Ensemble) and old.is_file() else {}
        old.write_text(json.dumps({**kept, **metrics}, indent=2))
    return metrics


def _folder_configs(model: SegModel) -> tuple[DataConfig, TrainConfig]:
    folder = model.members[0].path if isinstance(model, Ensemble) else model.path
    doc = yaml.safe_load((folder / "config.yaml").read_text())
    return DataConfig.model_validate(doc["data"]), TrainConfig.model_validate(doc["train"])


def _splits_from_folder(folder: Path) -> Splits:
    raw = json.loads((folder / "splits.json").read_text())

    def samples(name: str) -> list[Sample]:
        return [Sample(Path(d["image"]), Path(d["mask"]), d["group"], tuple(Path(p) for p in d["class_masks"]))
                for d in raw.get(name, [])]

    return Splits(samples("train"), samples("val"), samples("test"))


def _metrics_doc(model: SegModel, data: DataConfig, imagewise: Any, dataset: Any, split: str, n: int
                 ) -> dict[str, Any]:
    names = list(data.classes)[-len(dataset.per_class_iou):]  # without background when it is excluded
    doc: dict[str, Any] = {
        "split": split, "n_images": n, "trial": model.meta.get("trial"),
        "miou": dataset.miou, "mdice": dataset.mdice, "metric": metric_label("class-mean", data.mode),
        "collapsed": dataset.collapsed,
        "micro_imagewise": {"miou": imagewise.miou, "mdice": imagewise.mdice},
        "per_class": {c: {"iou": _num(i), "dice": _num(d)}
                      for c, i, d in zip(names, dataset.per_class_iou, dataset.per_class_dice, strict=True)},
        "confusion": {"classes": list(data.classes), "matrix": dataset.confusion,
                      "rows": "true class", "columns": "predicted class"} if dataset.confusion else None,
    }
    if isinstance(model, Ensemble):
        doc["trials"], doc["combine_method"] = model.meta.get("trials"), model.combine
    if data.hierarchy and dataset.confusion:
        doc["hierarchy"] = _hierarchy(np.asarray(dataset.confusion), data)
    return doc


def _hierarchy(confusion: np.ndarray, data: DataConfig) -> dict[str, Any]:
    from .data import hierarchy_levels, level_ious, level_miou

    out = {}
    for level, mapping in hierarchy_levels(data).items():
        groups = list((data.hierarchy or {})[level])
        ious = level_ious(confusion, mapping)
        out[level] = {"miou": _num(level_miou(confusion, mapping)),
                      "groups": {g: _num(v) for g, v in zip(groups, ious, strict=False)}}
    return out


def _num(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


__all__ = ["COMBINE", "Ensemble", "SegModel", "choose_tta", "class_colors", "evaluate_model", "final_data_config",
           "final_train_config", "finalize", "load_model", "pick_trials"]
