"""End-to-end searches on generated data: real smp models, real Optuna, the embedded SQLite study."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from segsearch import api
from segsearch.cli import app
from segsearch.config import ConfigError
from segsearch.search import SpaceChanged, counts_toward_budget
from segsearch.training._device import cpu_has_native_bf16

from helpers import tiny_config

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "segsearch"]


def study_of(name: str, studies: Path) -> optuna.Study:
    return api.load_study(name, None, studies)


def test_launch_prunes_records_attributes_and_trial_folders(tmp_path, studies):
    # grid order: a healthy lr first, then an lr too small to learn: the median pruner stops it
    cfg = tiny_config(
        tmp_path,
        study={"n_trials": 2, "sampler": {"name": "grid"},
               "pruner": {"name": "median", "args": {"n_startup_trials": 1, "n_warmup_steps": 2}}},
        train={"epochs": 3},
        search={"architecture": ["unet"], "lr": [3.0e-3, 1.0e-9]},
    )
    res = api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    assert res.states == {"COMPLETE": 1, "PRUNED": 1}, res.states
    study = study_of("tiny", studies)
    pruned = study.get_trials(states=(TrialState.PRUNED,))[0]
    assert pruned.params["lr"] == 1e-9
    # stopped at the first step where the median rule holds (from epoch 2: n_warmup_steps): its best value so far
    # below the completed trial's value at that step. Which step that is depends on the tiny models' values.
    done, values = study.get_trials(states=(TrialState.COMPLETE,))[0], pruned.intermediate_values
    steps = sorted(values)

    def rule_holds(step: int) -> bool:
        return step >= 2 and max(values[s] for s in steps if s <= step) < done.intermediate_values[step]

    assert rule_holds(steps[-1]) and not any(rule_holds(s) for s in steps[:-1]), (values, done.intermediate_values)
    best = study.best_trial
    for key in ("n_params", "seconds_per_epoch", "best_epoch", "per_class_iou", "peak_memory_mb", "train_memory_mb", "seed"):
        assert key in best.user_attrs, key
    assert set(best.user_attrs["per_class_iou"]) == {"background", "field", "forest", "water", "road"}
    assert best.user_attrs["precision"] == ("bf16" if cpu_has_native_bf16() else "fp32")  # amp: auto, per machine
    run_dir = Path(best.user_attrs["run_dir"])
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert max(r["objective"] for r in rows) == pytest.approx(best.value)
    assert "train:" in (run_dir / "config.yaml").read_text() and (run_dir / "last.pt").exists()


def test_trial_is_reproducible_from_its_seed(tmp_path, studies):
    from segsearch.config import TrainConfig, load_config
    from segsearch.data import load_splits
    from segsearch.training import RunSpec, train

    cfg = load_config(tiny_config(tmp_path))
    splits = load_splits(cfg.data, studies)
    tcfg = TrainConfig.model_validate({**cfg.train.model_dump(), "seed": 123, "epochs": 1})
    runs = [train(RunSpec(tcfg, cfg.data, splits, tmp_path / f"r{i}", resume=False, checkpoint=False)) for i in range(2)]
    assert runs[0].history[0].train_loss == runs[1].history[0].train_loss
    assert runs[0].best_value == runs[1].best_value


def test_resume_continues_budget_and_refuses_changed_space(tmp_path, studies, caplog):
    cfg = tiny_config(tmp_path, study={"n_trials": 2}, train={"epochs": 1})
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    first = {t.number: t.params for t in study_of("tiny", studies).get_trials()}
    assert len(first) == 2
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="segsearch"):
        api.launch(cfg, studies_dir=studies, use_wandb=False, n_trials=3, live=False)
    assert "1 more in the trial budget (study.n_trials)" in caplog.text  # the resume says what it adds
    trials = study_of("tiny", studies).get_trials()
    assert len(trials) == 3 and all(t.state == TrialState.COMPLETE for t in trials)
    assert {t.number: t.params for t in trials if t.number in first} == first

    changed = tiny_config(tmp_path, "changed.yaml", study={"n_trials": 2}, train={"epochs": 1},
                          search={"lr": {"low": 2.0e-3, "high": 1.0e-2, "log": True}})  # narrower: not growth
    with pytest.raises(SpaceChanged, match=r"search\.lr\.low: 0\.001 -> 0\.002"):
        api.launch(changed, studies_dir=studies, use_wandb=False, live=False)
    assert len(study_of("tiny", studies).get_trials()) == 3  # untouched


def test_a_new_study_of_an_old_name_never_resumes_the_old_trial_folders(tmp_path, studies):
    from segsearch.final import finalize
    from segsearch.search import UID_ATTR

    cfg = tiny_config(tmp_path, study={"n_trials": 1}, train={"epochs": 1}, final={"epochs": 1})
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    finalize("tiny", studies_dir=studies, live=False)
    old_uid = study_of("tiny", studies).user_attrs[UID_ATTR]
    for f in (studies / "tiny").glob("study.db*"):  # the database is gone, the folders stay
        f.unlink()
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    study = study_of("tiny", studies)
    (t,) = study.get_trials()
    assert study.user_attrs[UID_ATTR] != old_uid
    assert t.state == TrialState.COMPLETE and "resumed_from_epoch" not in t.user_attrs  # it trained
    (aside,) = (studies / "tiny" / "trials").glob("00000.other-study-*")
    assert json.loads((aside / "owner.json").read_text())["study_uid"] == old_uid and (aside / "last.pt").is_file()
    owner = json.loads((studies / "tiny" / "trials" / "00000" / "owner.json").read_text())
    assert owner == {"study_uid": study.user_attrs[UID_ATTR], "trial_root": 0}
    with pytest.raises(ConfigError, match=r"final.*owner\.study_uid"):  # the old final run is not resumed either
        finalize("tiny", studies_dir=studies, live=False)


def test_bad_config_exits_nonzero_and_writes_nothing(tmp_path, studies):
    bad = tiny_config(tmp_path, train={"encoder": "resnet19"})
    proc = subprocess.run([*CLI, "launch", str(bad), "--studies-dir", str(studies)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "unknown encoder 'resnet19'" in proc.stderr and "did you mean 'resnet18'" in proc.stderr
    assert not (studies / "tiny").exists()
    with pytest.raises(ConfigError, match="not divisible by 32"):
        api.launch(tiny_config(tmp_path, "odd.yaml", data={"image_size": 40}, search={"architecture": ["fpn"]}),
                   studies_dir=studies, use_wandb=False)


def test_nan_loss_fails_the_trial_with_reason_and_search_goes_on(tmp_path, studies):
    cfg = tiny_config(
        tmp_path,
        study={"n_trials": 2, "sampler": {"name": "grid"}},
        train={"epochs": 1, "optimizer": "sgd"},
        search={"architecture": ["unet"], "lr": [1.0e30, 1.0e-3]},
    )
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    trials = {t.params["lr"]: t for t in study_of("tiny", studies).get_trials()}
    assert trials[1e30].state == TrialState.FAIL
    assert trials[1e30].user_attrs["fail_reason"] == "nan_loss"
    assert trials[1e-3].state == TrialState.COMPLETE
    out = subprocess.run([*CLI, "status", "tiny", "--studies-dir", str(studies)], capture_output=True, text=True)
    assert out.returncode == 0 and "nan_loss" in out.stdout and "best trial 1" in out.stdout


def test_real_allocation_failure_is_classified_as_oom():
    import torch

    from segsearch.search._objective import _is_oom

    with pytest.raises(RuntimeError) as exc:
        torch.empty(2**62, dtype=torch.uint8)
    assert _is_oom(exc.value)
    import numpy as np

    with pytest.raises(MemoryError) as np_exc:  # numpy's own failure (data loading and augmentation allocate too)
        np.empty(2**62, dtype=np.uint8)
    assert _is_oom(np_exc.value)
    assert not _is_oom(RuntimeError("shape mismatch"))




def test_four_workers_share_one_embedded_study(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 6}, train={"epochs": 1})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--workers", "4", "--no-wandb"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "database is locked" not in proc.stderr
    trials = study_of("tiny", studies).get_trials()
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.number for t in trials}) == 6


def test_two_launches_of_one_yaml_at_once_run_exactly_the_budget(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 3}, train={"epochs": 1})
    cmd = [*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--no-wandb"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    # a failure shows each launch's first traceback from its start (the exception's first line is there), else its tail
    assert [p.returncode for p in procs] == [0, 0], [e[e.find("Traceback"):][:4000] if "Traceback" in e else e[-2000:]
                                                     for e in errs]
    assert not any("UNIQUE constraint" in e or "IntegrityError" in e for e in errs)
    trials = study_of("tiny", studies).get_trials()
    assert len(trials) == 3 and all(t.state == TrialState.COMPLETE for t in trials)
    assert sum(bool(t.user_attrs.get("baseline")) for t in trials) == 1


def test_interrupted_launch_pauses_its_trial_and_resumes_it_as_the_same_trial_and_wandb_run(tmp_path, studies):
    from tracking.test_tracking import read_run

    cfg = tiny_config(tmp_path, study={"n_trials": 2}, train={"epochs": 4},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}},
                      wandb={"enabled": True, "mode": "offline", "project": "segsearch-test"})
    proc = subprocess.Popen([*CLI, "launch", str(cfg), "--studies-dir", str(studies)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = studies / "tiny" / "trials" / "00000" / "metrics.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().count("\n") >= 1):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    study = study_of("tiny", studies)
    (first,) = study.trials  # paused in place: no failed attempt, no copy
    assert first.state == TrialState.WAITING and "fail_reason" not in first.user_attrs
    paused_at = first.user_attrs["paused_at_epoch"]
    assert 1 <= paused_at < 4 and sorted(first.intermediate_values) == list(range(1, paused_at + 1))
    res = api.summarize(study, "x", 0.0)
    assert res.states == {"PAUSED": 1}

    api.launch(cfg, studies_dir=studies, use_wandb=True, live=False)
    trials = study_of("tiny", studies).trials
    assert len(trials) == 2 and all(t.state == TrialState.COMPLETE for t in trials)
    resumed = trials[0]
    assert resumed.params == first.params and resumed.user_attrs["resumed_from_epoch"] == paused_at
    assert sorted(resumed.intermediate_values) == [1, 2, 3, 4]  # one continuous curve
    assert sum(counts_toward_budget(t) for t in trials) == 2
    # W&B: trial 0 is one run id; its first part ended cleanly as paused, the resumed part continues its epochs
    parts = []
    for f in sorted((studies / "tiny" / "wandb").glob("offline-run-*/run-*.wandb")):
        run = read_run(f)
        if run.get("name") == "trial-0":
            parts.append(run)
    assert len(parts) == 2 and parts[0]["id"] == parts[1]["id"]
    assert parts[0]["exit"] == 0 and parts[0]["summary"]["state"] == "paused"
    assert parts[1]["exit"] == 0 and parts[1]["summary"]["state"] == "complete"
    epochs = [h["epoch"] for p in parts for h in p["history"] if "train/loss" in h]
    assert epochs == [1, 2, 3, 4]
    # study.keep best: the trial keeps its weights, and its resume checkpoint only as the study's best
    folder = studies / "tiny" / "trials" / "00000"
    assert (folder / "best.pt").is_file()
    assert (folder / "last.pt").exists() == (study_of("tiny", studies).best_trial.number == 0)


def test_embedded_study_recovers_a_sigkilled_worker_from_its_checkpoint(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 1, "heartbeat_interval": 1, "grace_period": 4},
                      train={"epochs": 4}, data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    proc = subprocess.Popen([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--no-wandb"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = studies / "tiny" / "trials" / "00000" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline and not ckpt.exists() and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the launch ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert [t.state for t in study_of("tiny", studies).trials] == [TrialState.RUNNING]

    out = subprocess.run([*CLI, "worker", "--study", "tiny", "--studies-dir", str(studies), "--no-wandb"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    trials = study_of("tiny", studies).trials
    assert trials[0].state == TrialState.FAIL  # detected by its stale heartbeat
    retry = trials[-1]
    assert retry.state == TrialState.COMPLETE and retry.system_attrs["failed_trial"] == 0
    assert retry.user_attrs["resumed_from_epoch"] >= 1
    assert sorted(retry.intermediate_values)[-1] == 4
    assert sum(counts_toward_budget(t) for t in trials) == 1


def _start_and_wait_for_an_epoch(cfg, studies, extra=()):
    proc = subprocess.Popen([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--no-wandb", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if any(p.read_text().count("\n") >= 1 for p in studies.glob("tiny/trials/*/metrics.jsonl")):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the launch ended before it could be interrupted"
    return proc


def test_second_ctrl_c_stops_at_once_and_hands_the_trial_back(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 1}, train={"epochs": 50},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    proc = _start_and_wait_for_an_epoch(cfg, studies)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # cold stop: do not finish the epoch
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    (trial,) = study_of("tiny", studies).trials
    assert trial.state == TrialState.WAITING and "paused_at_epoch" in trial.user_attrs  # paused, to resume in place
    assert len(trial.intermediate_values) < 50


def test_launch_with_workers_forwards_ctrl_c_and_leaves_nothing_running(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 4}, train={"epochs": 50},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    proc = _start_and_wait_for_an_epoch(cfg, studies, ["--workers", "2"])
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    trials = study_of("tiny", studies).trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    paused = [t for t in trials if "paused_at_epoch" in t.user_attrs]
    assert paused and all(t.state == TrialState.WAITING and len(t.intermediate_values) < 50 for t in paused)
    assert not [t for t in trials if t.state == TrialState.FAIL]


def test_budget_covers_search_and_final_model(tmp_path, studies):
    cfg = tiny_config(tmp_path, final={"epochs": 2})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--budget", "2m", "--no-wandb"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    final = studies / "tiny" / "final"
    assert (final / "model.json").is_file() and (final / "metrics.json").is_file()
    assert json.loads((final / "training.json").read_text())["how"] in ("retrain", "continue", "trial_weights")
    assert "final model:" in proc.stdout
    first = study_of("tiny", studies).trials[0]
    assert first.user_attrs.get("baseline") and first.params["architecture"] == "unet"  # the recipe ran first


def test_a_budget_with_no_room_to_search_trains_the_baseline_alone_and_says_so(tmp_path, studies):
    # 400-epoch trials: a search needs 68 x 400 baseline epochs, which 50 s cannot pay for on any machine
    cfg = tiny_config(tmp_path, train={"epochs": 400})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--budget", "50s", "--no-wandb"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = study_of("tiny", studies)
    trials = [t for t in study.trials if t.state != TrialState.WAITING]
    assert len(trials) == 1 and trials[0].user_attrs.get("baseline") and trials[0].state == TrialState.COMPLETE
    note = study.user_attrs["no_search"]
    assert note["need"] == 68 and note["search_epochs"] > 0 and note["room"] < 68 and note["seconds_per_epoch"] > 0
    assert "No search:" in proc.stdout and f"about --budget {note['budget_to_search']} would search" in proc.stdout
    assert (studies / "tiny" / "final" / "model.json").is_file()
    res = CliRunner().invoke(app, ["status", "tiny", "--studies-dir", str(studies)])
    assert res.exit_code == 0 and f"paid for {note['search_epochs']} baseline epochs" in res.output, res.output
    # the trial budget left (n_trials 3) is named apart from the time budget the launch spent
    assert "2 more in the trial budget (study.n_trials)" in res.output, res.output
    res = CliRunner().invoke(app, ["report", "tiny", "--studies-dir", str(studies)])
    summary = (studies / "tiny" / "report" / "report.md").read_text().split("## Trials")[0]
    assert res.exit_code == 0 and "No search:" in summary and note["budget_to_search"] in summary


def test_search_never_trains_the_baseline_alone_for_the_whole_budget(tmp_path, studies):
    # 2-epoch trials on tiny scenes (room to search on a quiet machine); --search never trains the baseline alone
    cfg = tiny_config(tmp_path, study={"n_trials": 4}, train={"epochs": 2})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--budget", "50s", "--search",
                           "never", "--no-wandb"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = study_of("tiny", studies)
    ran = [t for t in study.trials if t.state != TrialState.WAITING]
    assert len(ran) == 1 and ran[0].user_attrs.get("baseline") and ran[0].state == TrialState.COMPLETE
    assert study.user_attrs["no_search"]["asked"] is True
    assert "No search (--search never)" in proc.stdout
    # the start says so too, not "4 more trials": the trial budget is not what runs
    assert "tiny on " in proc.stderr and "the baseline alone trains for the time budget (no search)" in proc.stderr
    assert "more in the trial budget" not in proc.stderr
    assert (studies / "tiny" / "final" / "model.json").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--search", "maybe", "--budget", "1m"], "--search 'maybe': choose one of auto, always, never"),
    (["--search", "never"], "--search never trains the baseline alone for a wall-clock budget: give --budget"),
])
def test_a_bad_search_choice_is_refused_before_anything_is_written(tmp_path, studies, args, message):
    cfg = tiny_config(tmp_path)
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), *args, "--no-wandb"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-2000:]
    assert not list(studies.iterdir())


@pytest.mark.parametrize(("budget", "message"), [("1s", "the minimum is"), ("soon", "is not a duration")])
def test_unusable_budget_is_refused_before_anything_is_written(tmp_path, studies, budget, message):
    cfg = tiny_config(tmp_path)
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--budget", budget,
                           "--no-wandb"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert f"--budget {budget}" in proc.stderr or f"--budget '{budget}'" in proc.stderr, proc.stderr[-1000:]
    assert message in proc.stderr
    assert not (studies / "tiny").exists()


@pytest.mark.parametrize(("baseline", "message"), [
    ({"lr": 0.1}, "lr=0.1 is outside the study's search range [0.001, 0.01]"),
    ({"architecture": "manet"}, "architecture='manet' is not in the study's search space; choices: ['unet', 'fpn']"),
])
def test_a_baseline_outside_the_space_is_refused_before_anything_is_written(tmp_path, studies, baseline, message):
    cfg = tiny_config(tmp_path, study={"baseline": baseline})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(studies), "--no-wandb"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"{cfg}: study.baseline: {message}" in proc.stderr, proc.stderr[-1000:]
    assert "Traceback" not in proc.stderr
    assert not (studies / "tiny").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A real 24 MB filesystem (tmpfs): room for the data and the database, not for a checkpoint."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_fails_the_trial_as_disk_full_and_ends_the_launch_cleanly(tmp_path, small_disk):
    cfg = tiny_config(tmp_path, study={"n_trials": 3}, train={"epochs": 2})
    proc = subprocess.run([*CLI, "launch", str(cfg), "--studies-dir", str(small_disk), "--no-wandb"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "disk full writing" in proc.stderr and "MB free" in proc.stderr
    assert not list(small_disk.rglob("*.tmp")), "a failed write left its temp file behind"
    trials = study_of("tiny", small_disk).get_trials()
    assert [t.state for t in trials if t.state != TrialState.WAITING] == [TrialState.FAIL]
    assert trials[0].user_attrs["fail_reason"] == "disk_full" and "MB free" in trials[0].user_attrs["error"]


OOM_SCRIPT = """
import resource, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from helpers import tiny_config
from segsearch import api
d = Path({tmp!r})
cfg = tiny_config(d, study={{"n_trials": 1}}, data={{"image_size": 256, "demo": {{"n_images": 24, "size": 256}}}},
                  train={{"epochs": 1, "batch_size": 16, "amp": "off"}}, search={{"architecture": ["unet"], "lr": [0.001]}},
                  deploy={{"image_size": 64, "repeats": 2}})  # the limit is for training, not the latency pass
# fp32 (amp off): under an address-space limit torch 2.14's bf16 CPU convolutions crashed (SIGSEGV in
# _conv_forward, 4 of 14 runs here) instead of raising; fp32 raised the out-of-memory error in 10 of 10
import torch, segmentation_models_pytorch, albumentations, optuna  # mapped before the limit is set
import torch.utils.flop_counter, torch.utils._python_dispatch  # (the deployment cost, measured before training)
import iterstrat.ml_stratifiers, sklearn.model_selection, scipy.stats, matplotlib.pyplot  # (splits, plots)
size = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")) * 1024
limit = size + int({extra_gib} * 2**30)  # batch 16 at 256 px needs ~1.7 GiB more here, batch 4 ~0.8 GiB
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
api.launch(cfg, studies_dir=d / "studies", use_wandb=False, live=False)
"""


def test_out_of_memory_retries_at_half_the_batch_with_the_same_effective_batch(tmp_path, studies):
    code = OOM_SCRIPT.format(tests=str(Path(__file__).parent), tmp=str(tmp_path), extra_gib=1.2)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SEGSEARCH_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    (t,) = study_of("tiny", tmp_path / "studies").get_trials()
    if "oom_retries" not in t.user_attrs:
        pytest.skip("batch 16 fit under the memory limit on this machine: nothing to retry")
    assert t.state == TrialState.COMPLETE, t.user_attrs.get("error")
    ua = t.user_attrs
    assert ua["batch_size"] < 16 and ua["batch_size"] * ua["accumulation"] == 16
    assert ua["oom_retries"] == int(math.log2(16 // ua["batch_size"]))


def test_a_configuration_out_of_memory_at_the_smallest_batch_is_infeasible_and_shown_so(tmp_path, studies):
    code = OOM_SCRIPT.format(tests=str(Path(__file__).parent), tmp=str(tmp_path), extra_gib=0.3)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SEGSEARCH_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]  # a configuration that cannot run stops no search
    (t,) = study_of("tiny", tmp_path / "studies").get_trials()
    ua = t.user_attrs
    assert t.state == TrialState.PRUNED and ua["infeasible"] and ua["fail_reason"] == "oom", (ua.get("fail_reason"), ua.get("error"))
    assert t.constraints == {"memory": 1.0}  # what TPE reads to rank it below every feasible trial
    assert ua["oom_retries"] == 3 and ua["batch_size"] == 2 and ua["accumulation"] == 8  # 16 -> 8 -> 4 -> 2
    assert f"trial {t.number} (unet) is infeasible here (oom)" in proc.stderr  # which configuration, by name
    res = CliRunner().invoke(app, ["status", "tiny", "--studies-dir", str(tmp_path / "studies")])
    assert res.exit_code == 0 and "infeasible" in res.output, res.output


def test_an_architecture_that_cannot_take_the_image_size_is_infeasible_before_it_trains(tmp_path, studies):
    # pan's pyramid pooling cannot take the tiny config's 32 px images: infeasible (TPE learns from it), not FAIL
    cfg = tiny_config(tmp_path, study={"n_trials": 2, "sampler": {"name": "grid"}, "baseline": "none"},
                      search={"architecture": ["pan", "unet"], "lr": [1e-3]}, train={"epochs": 1})
    res = api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    assert res.states == {"COMPLETE": 1, "INFEASIBLE": 1}, res.states
    trials = {t.params["architecture"]: t for t in study_of("tiny", studies).get_trials()}
    pan = trials["pan"]
    ua = pan.user_attrs
    assert pan.state == TrialState.PRUNED and ua["infeasible"] and ua["fail_reason"] == "incompatible", ua
    assert pan.constraints == {"compatible": 1.0}  # what TPE reads to rank it below every feasible trial
    assert "pan" in ua["error"] and not pan.intermediate_values and "epochs_run" not in ua
    assert trials["unet"].state == TrialState.COMPLETE


def test_a_deployment_bound_makes_a_model_infeasible_before_it_trains(tmp_path, studies):
    # unet/resnet18 has 14.3M parameters here, fpn/resnet18 13.0M
    cfg = tiny_config(tmp_path, study={"n_trials": 2, "sampler": {"name": "grid"}, "baseline": "none",
                                       "constraints": {"params_m": {"max": 13.5}, "latency_ms": {"max": 60000}}},
                      search={"architecture": ["fpn", "unet"], "lr": [1e-3]}, train={"epochs": 1},
                      deploy={"device": "cpu", "repeats": 3})
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    trials = {t.params["architecture"]: t for t in study_of("tiny", studies).get_trials()}
    fpn, unet = trials["fpn"], trials["unet"]
    ua = fpn.user_attrs
    assert fpn.state == TrialState.COMPLETE and ua["params_m"] < 13.5 and ua["latency_ms"] > 0 and ua["flops_g"] > 0
    assert ua["deploy"] == {"device": "cpu", "batch_size": 1, "image_size": [32, 32]}
    assert fpn.constraints == pytest.approx({"params_m": ua["params_m"] - 13.5, "latency_ms": ua["latency_ms"] - 60000})
    ua = unet.user_attrs
    assert unet.state == TrialState.PRUNED and ua["infeasible"] and ua["fail_reason"] == "constraint"
    assert f"params_m {ua['params_m']:g} > max 13.5" in ua["error"] and unet.constraints["params_m"] > 0
    assert not unet.intermediate_values and "epochs_run" not in ua  # stopped before its first epoch
    res = CliRunner().invoke(app, ["status", "tiny", "--studies-dir", str(studies)])
    assert res.exit_code == 0 and "infeasible" in res.output and "constraint" in res.output, res.output


def test_a_multi_objective_search_prunes_shows_its_front_and_finalizes_by_a_rule(tmp_path, studies):
    cfg = tiny_config(tmp_path, study={"n_trials": 5, "objective": ["miou", "latency_ms", "peak_memory_mb"],
                                       "direction": ["maximize", "minimize", "minimize"],
                                       "sampler": {"name": "tpe", "args": {"n_startup_trials": 2}},
                                       "pruner": {"name": "median", "args": {"n_startup_trials": 1, "n_warmup_steps": 0}}},
                      search={"architecture": ["fpn", "unet", "linknet"], "lr": {"low": 1e-4, "high": 1e-2, "log": True}},
                      train={"epochs": 2}, deploy={"device": "cpu", "repeats": 2})
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    study = study_of("tiny", studies)
    assert len(study.directions) == 3 and study.metric_names[1:] == ["latency_ms", "peak_memory_mb"]
    trials = study.get_trials()
    assert len(trials) == 5 and not [t for t in trials if t.state == TrialState.FAIL]  # TPE past its startup too
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert done and all(t.values == [max(t.intermediate_values.values()), t.user_attrs["latency_ms"],
                                     t.user_attrs["peak_memory_mb"]] for t in done)
    assert all(t.intermediate_values for t in trials)  # the accuracy is reported every epoch, pruned or not
    res = CliRunner().invoke(app, ["status", "tiny", "--studies-dir", str(studies)])
    front = {t.number for t in study.best_trials}  # Optuna's own Pareto front
    assert res.exit_code == 0 and "Pareto front (accuracy vs latency_ms, peak_memory_mb" in res.output, res.output
    front_line = res.output.split("Pareto front")[1].splitlines()[0]  # one line, however many trials it names
    assert all(f"trial {n} " in front_line for n in front), (front, res.output)
    res = CliRunner().invoke(app, ["report", "tiny", "--studies-dir", str(studies)])
    report = (studies / "tiny" / "report")
    assert res.exit_code == 0 and (report / "pareto_front.png").stat().st_size > 10_000
    md = (report / "report.md").read_text()
    assert "## Pareto front" in md and "![pareto_front](pareto_front.png)" in md
    rows = [line.split(" | ") for line in md.split("## Trials")[1].split("## Pareto front")[0].splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert {int(r[0].strip("| ")) for r in rows if r[2] == "yes"} == front
    # a rule picks from the front: the fastest model, retrained for one epoch
    fastest = min(done, key=lambda t: (t.user_attrs["latency_ms"], t.number))
    bad = CliRunner().invoke(app, ["finalize", "tiny", "--studies-dir", str(studies), "--pick", "min latency"])
    assert bad.exit_code != 0 and "did you mean 'latency_ms'" in bad.output
    assert not (studies / "tiny" / "final").exists()  # nothing written for a rule that cannot be read
    res = CliRunner().invoke(app, ["finalize", "tiny", "--studies-dir", str(studies), "--epochs", "1",
                                   "--pick", "min latency_ms"])
    assert res.exit_code == 0, res.output
    assert json.loads((studies / "tiny" / "final" / "model.json").read_text())["trial"] == fastest.number


def test_a_running_study_grows_its_space_refuses_a_narrower_one_and_forks(tmp_path, studies):
    search = {"architecture": ["fpn"], "lr": {"low": 1e-3, "high": 1e-2, "log": True}}
    cfg = tiny_config(tmp_path, study={"n_trials": 2}, search=search)
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    before = study_of("tiny", studies).get_trials()
    # grown: one more architecture, a wider lr range, the encoder searched (the earlier trials ran resnet18)
    grown = {"architecture": ["fpn", "unet"], "lr": {"low": 1e-4, "high": 1e-2, "log": True},
             "encoder": ["resnet18", "resnet34"]}
    cfg2 = tiny_config(tmp_path, "grown.yaml", study={"n_trials": 4}, search=grown)
    api.launch(cfg2, studies_dir=studies, use_wandb=False, live=False)
    study = study_of("tiny", studies)
    trials = study.get_trials()
    assert [t.number for t in trials[:2]] == [t.number for t in before] and len(trials) == 4
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.user_attrs.get("error") for t in trials]
    assert all("encoder" in t.params for t in trials[2:])  # the new version's trials sample it
    versions = study.user_attrs["space_versions"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["from_trial"] == 2
    assert any("search.encoder: now searched" in c for c in versions[1]["changes"])
    res = CliRunner().invoke(app, ["status", "tiny", "--studies-dir", str(studies)])
    assert res.exit_code == 0 and "search space version 2" in res.output, res.output
    # an earlier trial is finalized with the encoder it ran with
    res = CliRunner().invoke(app, ["finalize", "tiny", "--studies-dir", str(studies), "--trial", "0", "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert "95% interval" in res.output  # the test mIoU's bootstrap interval over the test images
    assert json.loads((studies / "tiny" / "final" / "model.json").read_text())["encoder"] == "resnet18"
    # narrower: refused with the trials it would orphan; the study is untouched
    narrow = {"architecture": ["unet"], "lr": grown["lr"], "encoder": grown["encoder"]}
    cfg3 = tiny_config(tmp_path, "narrow.yaml", study={"n_trials": 6}, search=narrow)
    with pytest.raises(SpaceChanged) as err:
        api.launch(cfg3, studies_dir=studies, use_wandb=False, live=False)
    fpn = sorted(t.number for t in trials if t.params["architecture"] == "fpn")
    assert "['fpn', 'unet'] -> ['unet']" in str(err.value) and "--fork NEW_NAME" in str(err.value)
    assert f"cannot express {len(fpn)} finished trial(s): {', '.join(map(str, fpn))}" in str(err.value)
    assert len(study_of("tiny", studies).get_trials()) == 4
    # --fork copies the trials that fit into a new study and runs it
    proc = subprocess.run([*CLI, "launch", str(cfg3), "--studies-dir", str(studies), "--no-wandb", "--fork", "tiny2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    forked = study_of("tiny2", studies).get_trials()
    copied = [t for t in forked if "forked_from" in t.user_attrs]
    assert sorted(t.user_attrs["forked_from"]["trial"] for t in copied) == sorted(set(range(4)) - set(fpn))
    assert len(forked) == 6 and all(t.state == TrialState.COMPLETE for t in forked), \
        [(t.number, t.state, t.user_attrs.get("error")) for t in forked]
    assert all(t.user_attrs["settings"]["architecture"] == "unet" for t in forked)


def test_a_new_study_warm_starts_from_the_best_trials_of_the_nearest_past_study(tmp_path, studies):
    search = {"architecture": ["unet", "fpn", "linknet"], "lr": {"low": 1e-3, "high": 1e-2, "log": True}}
    past = tiny_config(tmp_path, "past.yaml", study={"name": "past", "n_trials": 4}, search=search)
    api.launch(past, studies_dir=studies, use_wandb=False, live=False)
    source = study_of("past", studies)
    here = source.user_attrs["data_descriptor"]
    assert here["mode"] == "multiclass" and here["classes"] == 5 and 0 < here["largest_class_share"] < 1
    ranked = sorted((t for t in source.get_trials() if t.state == TrialState.COMPLETE), key=lambda t: -t.value)
    new = tiny_config(tmp_path, "new.yaml", study={"name": "fresh", "n_trials": 3}, search=search, train={"epochs": 1})
    res = CliRunner().invoke(app, ["launch", str(new), "--studies-dir", str(studies), "--no-wandb",
                                   "--warm-start", "auto"])
    assert res.exit_code == 0, res.output
    trials = study_of("fresh", studies).get_trials()
    assert trials[0].user_attrs.get("baseline") and len(trials) == 3
    warm = [t for t in trials if "warm_start" in t.user_attrs]
    baseline_params = trials[0].params
    expected = []  # the past study's best distinct configurations that are not the baseline, best first
    for t in ranked:
        if t.params != baseline_params and t.params not in [e.params for e in expected]:
            expected.append(t)
    assert [t.user_attrs["warm_start"] for t in warm] == [f"past #{t.number}" for t in expected[:2]]
    assert [t.params for t in warm] == [t.params for t in expected[:2]]
    md = (api.report("fresh", None, studies).files["report.md"]).read_text()
    assert f"warm start: past #{expected[0].number}" in md
    bad = CliRunner().invoke(app, ["launch", str(tiny_config(tmp_path, "x.yaml", study={"name": "other"})),
                                   "--studies-dir", str(studies), "--no-wandb", "--warm-start", "nosuch"])
    assert bad.exit_code != 0 and "no segsearch study with a complete trial named nosuch" in bad.output
    assert "studies found: fresh, past" in bad.output and not (studies / "other").exists()  # nothing written


def test_a_missing_optuna_dashboard_is_said_once_without_a_traceback(tmp_path, studies, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)  # import fails, as where it is not installed
    cfg = tiny_config(tmp_path, study={"n_trials": 2}, train={"epochs": 1})
    with caplog.at_level(logging.WARNING, logger="segsearch"):
        res = api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    assert sum(res.states.values()) == 2, res.states
    said = [r for r in caplog.records if "dashboard plots" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]  # not once per trial
    assert said[0].exc_info is None and "optuna-dashboard cannot be imported" in said[0].getMessage()
