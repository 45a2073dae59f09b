"""Deadlines: the loop stops at an epoch boundary, the final stage plans what fits."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from segsearch.config import TrainConfig, load_config_text
from segsearch.data import load_splits
from segsearch.final import plan_final
from segsearch.training import Reporter, RunSpec, train

from helpers import tiny_doc


def test_training_stops_at_the_epoch_boundary_once_the_deadline_cannot_be_met(tmp_path: Path, studies: Path):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 3})))
    splits = load_splits(cfg.data, studies)
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=splits, run_dir=tmp_path / "run",
                   deadline=time.time() - 1)  # already past: one epoch, then stop
    result = train(spec)
    assert [h.epoch for h in result.history] == [1]
    assert result.stopped == "budget" and result.best_epoch == 1
    assert (tmp_path / "run" / "last.pt").is_file()  # a checkpoint to continue from


def test_a_run_fitted_to_its_deadline_replans_its_schedule_after_the_first_epoch(tmp_path: Path, studies: Path):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 5, "scheduler": "cosine"})))
    splits = load_splits(cfg.data, studies)
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=splits, run_dir=tmp_path / "run",
                   deadline=time.time() - 1, fit_to_deadline=True)  # only the first epoch fits
    result = train(spec)
    # the schedule was re-planned to end at epoch 1 (annealed), not cut short at epoch 1 of 5
    assert [h.epoch for h in result.history] == [1] and result.stopped is None


@pytest.mark.parametrize("fit", [False, True])
def test_the_checks_after_a_run_are_kept_back_from_its_deadline_at_their_measured_time(tmp_path: Path,
                                                                                       studies: Path, fit: bool):
    # an hour is left; the checks that follow the run take 1e9 of its validation passes (any real pass takes
    # more than an hour then), so only the first epoch is trained: stopped at the boundary, or re-planned to it
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 3, "scheduler": "cosine"})))
    splits = load_splits(cfg.data, studies)

    def run(passes: float) -> Any:
        return train(RunSpec(train=cfg.train, data=cfg.data, splits=splits, run_dir=tmp_path / f"run{passes}",
                             deadline=time.time() + 3600, fit_to_deadline=fit, tail_passes=passes))

    kept_back = run(1e9)
    assert [h.epoch for h in kept_back.history] == [1]
    assert kept_back.stopped == (None if fit else "budget")
    if not fit:  # (fitted to an hour without the checks, the schedule would grow to fill it)
        assert [h.epoch for h in run(0.0).history] == [1, 2, 3]


def test_a_mixed_precision_run_measures_what_its_full_precision_checks_cost(tmp_path: Path, studies: Path):
    # the final stage's checks evaluate in full precision; how much slower that is than the run's bf16 passes
    # depends on the model, image size and cores (1.1x to 2.1x measured), so the run times one pass
    from segsearch.training._loop import _end

    splits = load_splits(load_config_text(yaml.safe_dump(tiny_doc())).data, studies)

    def run(amp: str, passes: float, name: str) -> Any:
        cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 2, "amp": amp})))
        return train(RunSpec(train=cfg.train, data=cfg.data, splits=splits, run_dir=tmp_path / name,
                             deadline=time.time() + 3600, tail_passes=passes))

    mixed = run("bf16", 5.0, "bf16")
    assert mixed.precision == "bf16" and mixed.full_precision_cost is not None and mixed.full_precision_cost > 0
    assert run("off", 5.0, "fp32").full_precision_cost is None  # full precision already: nothing to measure
    assert run("bf16", 0.0, "no_checks").full_precision_cost is None  # nothing after the run to keep time for
    spec = RunSpec(train=None, data=None, splits=None, run_dir=tmp_path, deadline=1000.0, tail_passes=4.0)
    assert _end(spec, [2.0, 4.0], 2.5) == 1000.0 - 4 * 3.0 * 2.5  # passes x mean pass x the measured cost


def test_the_checks_after_the_final_model_are_counted_in_validation_passes():
    from segsearch.data import Splits
    from segsearch.final import check_passes

    cfg = load_config_text(yaml.safe_dump(tiny_doc()))  # multiclass, final.tta auto, threshold off
    splits = Splits(train=[None] * 10, val=[None] * 4, test=[None] * 8)
    assert check_passes(cfg, splits) == 4 + 3 * 2  # flip check (1 + 3), then 3 passes over twice the images
    no_test = Splits(train=[None] * 10, val=[None] * 4, test=[])
    assert check_passes(cfg, no_test) == 4 + 3  # the test falls back to validation
    binary = load_config_text(yaml.safe_dump(tiny_doc(data={"classes": ["building"], "mode": "binary"},
                                                      final={"tta": "off", "threshold": "auto"})))
    assert check_passes(binary, splits) == 1 + 2  # the threshold sweep, then the test without flips
    multiclass = cfg.model_copy(update={"final": binary.final})
    assert check_passes(multiclass, splits) == 2  # argmax: no threshold to sweep


def _trial(tmp_path: Path, seconds_per_epoch: float, with_checkpoint: bool = True) -> optuna.trial.FrozenTrial:
    run_dir = tmp_path / "trial"
    run_dir.mkdir()
    if with_checkpoint:
        (run_dir / "best.pt").write_bytes(b"best weights")
        (run_dir / "last.pt").write_bytes(b"last epoch's weights")
    return optuna.trial.create_trial(value=0.5, user_attrs={"seconds_per_epoch": seconds_per_epoch,
                                                             "run_dir": str(run_dir)})


@pytest.mark.parametrize(("left", "how", "epochs"), [
    (None, "retrain", 30),  # no budget
    (1000, "continue", 94),  # (1000 - 10 reserve) // 10.5: every epoch that fits, far beyond final.epochs
    (400, "continue", 37),  # (400 - 10) // 10.5 epochs fit
    (100, "continue", 8),  # (100 - 10 reserve) // 10.5
    (45, "continue", 3),  # (45 - 10) // 10.5: the shortest continuation trained
    (40, "trial_weights", 30),  # 2 epochs: too short to pay (measured), use the trial's weights
    (12, "trial_weights", 30),  # not one epoch: use the trial's weights
])
def test_final_stage_retrains_continues_or_keeps_the_trial_by_the_time_left(tmp_path, left, how, epochs):
    tcfg = TrainConfig(epochs=30, lr=1e-3)
    deadline = None if left is None else time.time() + left
    planned, init, got = plan_final(_trial(tmp_path, 10.0), tcfg, deadline)
    assert got == how and planned.epochs == epochs
    assert (init is None) == (how == "retrain")
    if how == "continue":  # the most trained weights, at a lower learning rate
        assert planned.lr == pytest.approx(3e-4) and init.name == "last.pt"
    if how == "trial_weights":
        assert init.name == "best.pt"


def test_a_wsd_run_keeps_its_peak_rate_weights_and_the_final_stage_continues_them_at_that_rate(tmp_path: Path,
                                                                                                  studies: Path):
    import torch

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 5, "scheduler": "wsd",
                                                          "scheduler_params": {"decay": 0.4}})))
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run",
                   keep_best=True)
    result = train(spec)
    # epochs 1-3 at the peak, 4-5 decaying (EpochResult.lr: the rate after the epoch's step)
    assert [h.lr / cfg.train.lr for h in result.history] == pytest.approx([1, 1, 2 / 3, 1 / 3, 0])
    stable = torch.load(tmp_path / "run" / "stable.pt", weights_only=False)
    assert stable["epoch"] == 3 and set(stable["model"]) == set(torch.load(tmp_path / "run" / "last.pt",
                                                                           weights_only=False)["model"])
    trial = optuna.trial.create_trial(value=0.5, user_attrs={"seconds_per_epoch": 10.0, "run_dir": str(spec.run_dir),
                                                             "epochs_run": 5, "best_epoch": 2})
    planned, init, how = plan_final(trial, cfg.train.model_copy(update={"epochs": 30}), time.time() + 400)
    # not the annealed last epoch at a lower rate (a cosine trial's continuation): the peak's end at the peak rate
    assert (how, init.name, planned.epochs, planned.lr) == ("continue", "stable.pt", 37, cfg.train.lr)
    # a cosine run writes no such file
    cosine = dataclasses.replace(spec, train=cfg.train.model_copy(update={"scheduler": "cosine", "scheduler_params": {}}),
                                 run_dir=tmp_path / "cosine")
    train(cosine)
    assert not (tmp_path / "cosine" / "stable.pt").exists() and (tmp_path / "cosine" / "last.pt").is_file()
    # nor a wsd run told not to (the final stage's own run: nothing continues it)
    final = dataclasses.replace(spec, stable_checkpoint=False, run_dir=tmp_path / "final")
    train(final)
    assert not (final.run_dir / "stable.pt").exists() and (final.run_dir / "last.pt").is_file()


def test_a_trial_without_checkpoint_is_retrained_for_the_epochs_that_fit(tmp_path):
    planned, init, how = plan_final(_trial(tmp_path, 10.0, with_checkpoint=False), TrainConfig(epochs=30),
                                    time.time() + 400)
    assert (how, init, planned.epochs) == ("retrain", None, 37)


@pytest.mark.parametrize(("seconds", "per_epoch", "search"), [
    (100, 10.0, False),  # 10 epochs
    (100, 2.5, False),  # 40 epochs, 30 of them for the search: fewer than 68 x 12
    (100, 0.5, False),  # 150 search epochs: searches this short never paid on real data
    (100, 0.25, False),  # 300 search epochs: room for 25 (searches with room for 27-29 lost on real data)
    (100, 0.15, False),  # 500 search epochs: room for 42 (a search with room for 44-57 lost, run 30)
    (100, 0.092, False),  # 815 search epochs, just short of 68 x 12 = 816
    (100, 0.09, True),  # 833 search epochs
    (100, None, True),  # not timed: search
])
def test_a_budget_that_pays_for_fewer_than_68_full_trials_trains_the_baseline_alone(seconds, per_epoch, search,
                                                                                        caplog):
    from segsearch.api import _affords_search
    from segsearch.search import Budget

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 12})))
    plan = Budget(started=time.time(), seconds=seconds, final_share=0.25)
    assert _affords_search(plan, per_epoch, cfg) is search
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="segsearch.api"):
        assert _affords_search(plan, per_epoch, cfg, "always") is True  # launch --search always: whatever the room
    assert ("--search always: the search's share pays for" in caplog.text) is (not search)  # and it says so
    assert _affords_search(plan, per_epoch, cfg, "never") is False  # --search never: the baseline alone


def test_a_trial_that_ends_still_learning_continues_at_its_own_learning_rate(tmp_path):
    t = _trial(tmp_path, 10.0)
    t.user_attrs.update({"best_epoch": 3, "epochs_run": 12, "last_collapsed": True})  # one class at its end
    planned, init, how = plan_final(t, TrainConfig(epochs=30, lr=1e-3), time.time() + 100)
    assert how == "continue" and planned.lr == pytest.approx(1e-3) and init.name == "last.pt"
    t.user_attrs.update({"best_epoch": 12, "last_collapsed": False})  # best at its last epoch: still improving
    assert plan_final(t, TrainConfig(epochs=30, lr=1e-3), time.time() + 100)[0].lr == pytest.approx(1e-3)
    t.user_attrs.update({"best_epoch": 7})  # peaked and settled: 8 more epochs refine at a lower rate
    assert plan_final(t, TrainConfig(epochs=30, lr=1e-3), time.time() + 100)[0].lr == pytest.approx(3e-4)
    longer = plan_final(t, TrainConfig(epochs=30, lr=1e-3), time.time() + 200)[0]  # 18 epochs >= the trial's 12
    assert longer.epochs == 18 and longer.lr == pytest.approx(1e-3)  # a second full schedule: a warm restart


@pytest.mark.parametrize(("left", "solo", "stops"), [(50, False, True), (200, False, False), (50, True, False)])
def test_under_a_budget_no_trial_starts_whose_full_schedule_does_not_fit(tmp_path, studies, left, solo, stops):
    from segsearch.search import TrialEnv
    from segsearch.tracking import Progress
    from segsearch.worker import Worker

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 12})))
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"seconds_per_epoch": 10.0}))
    env = TrialEnv(cfg=cfg, splits=load_splits(cfg.data, studies), studies_dir=studies, deadline=time.time() + left,
                   epoch_estimate=8.0, solo=solo)
    # 12 epochs x 10 s (the study's measured median, not the estimate) = 120 s
    assert Worker(study, env, Progress(None, live=False))._no_full_trial_fits() is stops


def test_under_a_budget_the_first_trial_starts_even_when_its_full_schedule_does_not_fit(studies):
    # nothing has completed: without this trial the final stage has nothing to continue and the launch no model
    from segsearch.search import TrialEnv
    from segsearch.tracking import Progress
    from segsearch.worker import Worker

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 12})))
    study = optuna.create_study(direction="maximize")
    env = TrialEnv(cfg=cfg, splits=load_splits(cfg.data, studies), studies_dir=studies, deadline=time.time() + 50,
                   epoch_estimate=8.0)  # 12 x 8 s = 96 s > 50 s
    worker = Worker(study, env, Progress(None, live=False))
    assert worker._no_full_trial_fits() is False
    pruned = study.ask()  # a trial that ended without a result changes nothing
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    assert worker._no_full_trial_fits() is False
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"seconds_per_epoch": 8.0}))
    assert worker._no_full_trial_fits() is True  # now the time goes to the final model


class _Saves(Reporter):
    """Records which epoch last.pt holds at the end of every epoch; asks to stop after ``stop_after``."""

    def __init__(self, run_dir: Path, stop_after: int | None = None) -> None:
        self.run_dir, self.stop_after, self.held, self.epoch = run_dir, stop_after, [], 0

    def epoch_end(self, result, is_best) -> None:
        import torch

        self.epoch = result.epoch
        last = self.run_dir / "last.pt"
        self.held.append(torch.load(last, weights_only=False)["epoch"] if last.is_file() else None)

    def stop_requested(self) -> bool:
        return self.stop_after is not None and self.epoch >= self.stop_after


@pytest.mark.parametrize(("interval", "held"), [(0, [1, 2, 3]), (3600, [None, None, 3])])
def test_the_resume_checkpoint_is_written_when_skipping_it_could_lose_more_than_the_interval(
        tmp_path: Path, studies: Path, interval, held):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 3, "checkpoint_interval": interval})))
    saves = _Saves(tmp_path / "run")
    train(RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run"),
          saves)
    assert saves.held == held  # with an hour's interval only the last epoch pays for a checkpoint


def test_a_handed_back_run_writes_its_checkpoint_even_between_intervals(tmp_path: Path, studies: Path):
    from segsearch.training import StopTraining

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 3, "checkpoint_interval": 3600})))
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run",
                   keep_best=True)
    with pytest.raises(StopTraining):
        train(spec, _Saves(tmp_path / "run", stop_after=1))
    import torch

    assert torch.load(tmp_path / "run" / "last.pt", weights_only=False)["epoch"] == 1  # the retry resumes at 2


@pytest.mark.parametrize(("search_seconds", "per_epoch", "epochs"), [(600, 5.0, 40), (100, 5.0, 12), (600, None, None)])
def test_under_a_budget_trials_are_planned_for_a_third_of_the_search(search_seconds, per_epoch, epochs):
    from segsearch.api import _trial_epochs
    from segsearch.search import Budget

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 12})))
    plan = Budget(started=time.time(), seconds=2 * search_seconds, final_share=0.5)
    got = _trial_epochs(plan, time.time() + search_seconds, per_epoch, cfg, solo=False)
    assert got == epochs or (epochs == 40 and got in (39, 40))  # a few ms pass between the two clocks
    assert _trial_epochs(None, None, per_epoch, cfg, solo=False) is None  # no budget: train.epochs


def test_a_replan_sets_the_schedule_after_the_first_epoch(tmp_path: Path, studies: Path):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 1, "scheduler": "cosine"})))
    seen: list[float] = []
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run",
                   replan=lambda secs, before: seen.append(secs) or before + 3)
    result = train(spec)
    assert [h.epoch for h in result.history] == [1, 2, 3]  # planned for 1, re-planned to 3 after the first epoch
    assert len(seen) == 1 and 0 < seen[0] <= result.history[0].seconds  # the first epoch's time (before its checkpoint)
    assert result.history[-1].lr < result.history[0].lr  # the cosine schedule now ends at epoch 3


def test_a_replan_reads_the_second_epoch_not_the_first_which_pays_for_warm_up(tmp_path: Path, studies: Path):
    # a GPU's first epoch pays for cudnn's autotuning and the loader's start (13.8 s against 1.0 s on an H200):
    # timed on it, a 5-minute launch planned 12-epoch trials where 99 fit
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 2, "scheduler": "cosine", "lr": 0.01})))
    seen: list[float] = []
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run",
                   replan=lambda secs, before: seen.append(secs) or before + 3)
    result = train(spec)
    # timed at epoch 2: 3 more epochs from its start, after the one before it
    assert [h.epoch for h in result.history] == [1, 2, 3, 4]
    assert len(seen) == 1 and 0 < seen[0] <= result.history[1].seconds
    # epoch 2 still ran on the 2-epoch plan (cosine half-way: half the lr); a re-plan after epoch 1 gives 0.85x
    assert result.history[0].lr < 0.7 * 0.01 and result.history[-1].lr < result.history[0].lr


def test_the_first_trial_under_a_budget_replans_every_trials_epochs_from_its_first_epoch(studies: Path):
    from segsearch.search import TrialEnv, planned_epochs
    from segsearch.search._objective import _replanner

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 2})))
    study = optuna.create_study(direction="maximize")
    # the start-up estimate planned 30-epoch trials; 100 s are left and the first real epoch takes 10 s
    env = TrialEnv(cfg=cfg, splits=load_splits(cfg.data, studies), studies_dir=studies,
                   deadline=time.time() + 100, epoch_estimate=1.0, trial_epochs=30)
    first = study.ask()
    replan = _replanner(first, cfg.train.model_copy(update={"epochs": 30}), env)
    assert replan is not None and planned_epochs(study, env) == 30
    # timed at its second epoch: a third of the ~110 s the search had when that epoch started, at 10 s per epoch,
    # for every trial; this one trains them after the epoch it had trained already, and records its whole schedule
    assert replan(10.0, 1) == 4
    assert planned_epochs(study, env) == 3 and first.user_attrs["epochs_fitted"] == 4
    # a later launch of the same study (its own deadline) plans from its own estimate, not this launch's attribute
    assert planned_epochs(study, dataclasses.replace(env, deadline=env.deadline + 3600, trial_epochs=40)) == 40
    study.tell(first, 0.5)
    # once a trial has recorded its epoch time, later trials are planned from the attribute and do not re-plan
    study.add_trial(optuna.trial.create_trial(value=0.4, user_attrs={"seconds_per_epoch": 10.0}))
    assert _replanner(study.ask(), cfg.train.model_copy(update={"epochs": 3}), env) is None
    # without a budget there is nothing to re-plan
    fresh = optuna.create_study(direction="maximize")
    assert _replanner(fresh.ask(), cfg.train, dataclasses.replace(env, trial_epochs=None)) is None


def test_a_plan_fitted_to_the_deadline_counts_the_time_between_epochs(tmp_path: Path):
    # 100 s of training and validation per epoch and 100 s after it (checkpoints, the pruner): 200 s an epoch.
    # Counting only the 100 s planned twice the epochs that fit, and every later plan shrank.
    import torch

    from segsearch.components import Scheduler
    from segsearch.training._loop import _out_of_time, _refit

    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 5})))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = Scheduler("cosine", optimizer, 5, 1, {}, True)
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=None, run_dir=tmp_path,
                   deadline=time.time() + 2050, fit_to_deadline=True)
    assert _refit(5, 2, [100.0, 100.0], [100.0], spec, scheduler, spec.deadline) == 2 + 10  # 2050 s // 200 s
    assert scheduler.impl.T_max == 12
    assert _refit(5, 2, [100.0, 100.0], [], spec, scheduler, spec.deadline) == 2 + 20  # without the time between
    # one epoch more or less is timing noise mid-schedule; one too many near the end would cut the annealing off
    assert _refit(13, 2, [100.0, 100.0], [100.0], spec, scheduler, spec.deadline) == 13
    assert _refit(11, 2, [100.0, 100.0], [100.0], spec, scheduler, spec.deadline) == 11
    near = time.time() + 850  # at epoch 8: 4 more epochs of 200 s fit, the plan says 13
    assert _refit(13, 8, [100.0] * 8, [100.0], spec, scheduler, near) == 13  # 5 from the end: kept
    assert _refit(13, 11, [100.0] * 11, [100.0], spec, scheduler, time.time() + 250) == 12  # 2 from the end
    assert scheduler.impl.T_max == 12
    assert _refit(11, 9, [100.0] * 9, [100.0], spec, scheduler, time.time() + 650) == 11  # one more fits: kept
    # another epoch fits only if its training, validation and the time after it end before the deadline
    soon = time.time() + 150
    assert _out_of_time(soon, [100.0], [100.0]) and not _out_of_time(soon, [100.0], [0.0])


def test_the_writes_that_close_a_run_are_kept_back_from_its_deadline(tmp_path: Path):
    # the resume checkpoint (optimizer state and all) and the kept weights are written after the last epoch: a
    # 20-minute launch ran 3 s past its budget when they were left out (bench/LATEST.md, run 27)
    from segsearch.training._loop import _closing_writes, _end

    cfg = load_config_text(yaml.safe_dump(tiny_doc()))
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=None, run_dir=tmp_path, deadline=1000.0, keep_best=True)
    measured = {"last.pt": 4.0, "best.pt": 1.0, "other.pt": 9.0}
    assert _end(spec, [2.0], 1.0, _closing_writes(measured, spec)) == 1000.0 - 5.0
    no_resume = dataclasses.replace(spec, checkpoint=False, tail_passes=3.0)
    assert _end(no_resume, [2.0], 1.0, _closing_writes(measured, no_resume)) == 1000.0 - 1.0 - 3 * 2.0
    assert _closing_writes({}, spec) == 0.0  # nothing written yet: nothing measured


def test_a_core_that_became_busy_stops_the_run_an_epoch_earlier():
    from segsearch.training._loop import _out_of_time

    steady, slowed = [10.0] * 6, [10.0] * 6 + [30.0] * 3  # mean 16.7 s, the last three 30 s
    deadline = time.time() + 25
    assert not _out_of_time(deadline, steady, [0.0])
    assert _out_of_time(deadline, slowed, [0.0])  # by the mean alone (16.7 s) another epoch would still fit


def test_a_trials_seconds_per_epoch_leaves_out_its_first_epoch_once_there_are_others():
    # run 34 on an H200: first epochs 13.7-14.2 s, the next ones 1.0-1.3 s; the study plans later trials from this
    from segsearch.search._objective import OptunaReporter
    from segsearch.training import EpochResult

    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    reporter = OptunaReporter(trial, ["background", "lesion"], lambda: False)
    for n, secs in enumerate([13.7, 1.1, 0.9], 1):
        reporter.epoch_end(EpochResult(n, 0.5, 0.5, 0.5, 0.5, [0.5], [0.5], 1e-3, secs), is_best=n == 1)
        if n == 1:
            assert trial.user_attrs["seconds_per_epoch"] == pytest.approx(13.7)  # all there is so far
    assert trial.user_attrs["seconds_per_epoch"] == pytest.approx(1.0)
