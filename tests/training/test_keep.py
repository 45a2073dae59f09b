"""Which weights a run keeps: the annealed end of its schedule, or its best epoch on validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
import yaml

from segsearch.config import load_config_text
from segsearch.data import load_splits
from segsearch.training import EpochResult, RunSpec, keeps_last, train

from helpers import tiny_doc


def _epochs(scores: list[float], lrs: list[float], collapsed: tuple[int, ...] = ()) -> list[EpochResult]:
    return [EpochResult(i + 1, 1.0, s, s, s, [s], [s], lr, 1.0, collapsed=i + 1 in collapsed)
            for i, (s, lr) in enumerate(zip(scores, lrs, strict=True))]


def test_the_last_epoch_is_kept_only_where_the_schedule_annealed_and_it_still_segments():
    scores = [0.2, 0.5, 0.4, 0.45]
    cosine = _epochs(scores, [0.8e-3, 0.5e-3, 0.03e-3, 0.0])  # the last epoch trained at 3% of the peak rate
    best = cosine[1]
    assert keeps_last(cosine, 1e-3, "auto", best)
    assert not keeps_last(cosine, 1e-3, "best", best)
    cut = _epochs(scores, [0.9e-3, 0.7e-3, 0.5e-3, 0.3e-3])  # stopped mid-schedule: 50% of the peak
    assert not keeps_last(cut, 1e-3, "auto", cut[1])
    assert keeps_last(cut, 1e-3, "last", cut[1])
    constant = _epochs(scores, [1e-3] * 4)
    assert not keeps_last(constant, 1e-3, "auto", constant[1])
    onecycle = _epochs(scores, [4e-3, 2e-3, 0.1e-3, 1e-8])  # the peak is the schedule's, not the base rate
    assert keeps_last(onecycle, 1e-3, "auto", onecycle[1])
    collapsed = _epochs(scores, [0.8e-3, 0.5e-3, 0.03e-3, 0.0], collapsed=(4,))  # one class at the end only
    assert not keeps_last(collapsed, 1e-3, "auto", collapsed[1])
    assert keeps_last(collapsed, 1e-3, "auto", dataclasses.replace(collapsed[1], collapsed=True))


def _run(tmp_path: Path, studies: Path, name: str, keep: str, scheduler: str = "cosine"):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 8, "scheduler": scheduler, "lr": 1e-3})))
    run_dir = tmp_path / name
    result = train(RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=run_dir,
                           keep_best=True, keep=keep))
    best = torch.load(run_dir / "best.pt", weights_only=False)
    last = torch.load(run_dir / "last.pt", weights_only=False)
    same = all(torch.equal(best["model"][k], last["model"][k]) for k in last["model"])
    return result, best["epoch"], same


def test_a_run_keeps_the_weights_its_setting_asks_for(tmp_path: Path, studies: Path):
    result, epoch, same = _run(tmp_path, studies, "best", "best")
    top = max(result.history, key=lambda h: h.objective)
    assert epoch == result.best_epoch == top.epoch < 8 and not same  # this run peaks before its last epoch
    result, epoch, same = _run(tmp_path, studies, "auto", "auto")  # cosine over 8 epochs: annealed at the end
    assert epoch == result.best_epoch == 8 and same
    assert result.best_value == result.history[-1].objective < top.objective
    result, epoch, same = _run(tmp_path, studies, "flat", "auto", scheduler="none")  # never annealed: the best
    assert epoch == result.best_epoch == max(result.history, key=lambda h: h.objective).epoch


def test_a_baseline_trained_alone_is_the_final_model_and_keeps_what_the_final_stage_would(studies: Path):
    import optuna

    from segsearch.search import TrialEnv, run_trial

    def trial_of(solo: bool) -> optuna.trial.FrozenTrial:
        cfg = load_config_text(yaml.safe_dump(tiny_doc(study={"name": f"alone{solo}"}, train={"epochs": 8})))
        study = optuna.create_study(direction="maximize")
        study.enqueue_trial({"architecture": "unet", "lr": 1e-3})
        trial = study.ask()
        outcome = run_trial(trial, TrialEnv(cfg=cfg, splits=load_splits(cfg.data, studies), studies_dir=studies,
                                            solo=solo))
        study.tell(trial, outcome.value)
        return study.trials[0]

    searched, alone = trial_of(False), trial_of(True)  # the same training, seed and data
    history = [json.loads(line) for line in (Path(alone.user_attrs["run_dir"]) / "metrics.jsonl").open()]
    top = max(history, key=lambda h: h["objective"])
    assert searched.user_attrs["best_epoch"] == top["epoch"] < 8 and searched.value == top["objective"]
    assert alone.user_attrs["best_epoch"] == 8 and alone.value == history[-1]["objective"] < top["objective"]
    assert alone.user_attrs["val_miou"] == history[-1]["miou"]  # status, report and W&B show the kept epoch
