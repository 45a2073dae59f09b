"""W&B tracking on real offline runs: the .wandb transaction log is read back with wandb's own protobufs."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from wandb.proto import wandb_internal_pb2 as pb

from segsearch import tracking
from segsearch.api import make_env
from segsearch.config import WandbConfig, load_config
from segsearch.data import load_splits
from segsearch.search import Outcome

CLASSES = ["background", "field", "forest", "water", "road"]
_BLOCK = 32768  # the .wandb file is a LevelDB-style log of protobuf Records in 32 KiB blocks


def records(path: Path) -> list[pb.Record]:
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    out, pos, chunk = [], 7, b""
    while pos + 7 <= len(data):
        left = _BLOCK - pos % _BLOCK
        length, kind = struct.unpack("<HB", data[pos + 4:pos + 7])
        if left < 7 or (length == 0 and kind == 0):  # block trailer / padding
            pos += left
            continue
        chunk += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # FULL or LAST fragment
            rec = pb.Record()
            rec.ParseFromString(chunk)
            out.append(rec)
            chunk = b""
    return out


def _items(items: Any) -> dict[str, Any]:
    return {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in items}


def read_run(path: Path) -> dict[str, Any]:
    """A run's name, group, tags, config, history rows, final summary and exit code from its .wandb file."""
    run: dict[str, Any] = {"config": {}, "history": [], "summary": {}, "exit": None}
    for rec in records(path):
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            run.update(name=rec.run.display_name, group=rec.run.run_group, tags=list(rec.run.tags), id=rec.run.run_id)
            run["config"].update(_items(rec.run.config.update))
        elif kind == "config":
            run["config"].update(_items(rec.config.update))
        elif kind == "history":
            run["history"].append(_items(rec.history.item))
        elif kind == "summary":
            run["summary"].update(_items(rec.summary.update))
        elif kind == "exit":
            run["exit"] = rec.exit.exit_code
    return run


def runs_in(wandb_dir: Path, wait: float = 60.0) -> dict[str, dict[str, Any]]:
    """Every run's records, once W&B's writer process has flushed them (it may lag behind ``finish``)."""
    import time

    end = time.monotonic() + wait
    while True:
        runs = [read_run(f) for f in sorted(wandb_dir.glob("offline-run-*/run-*.wandb"))]
        if all("name" in r and r["exit"] is not None for r in runs) or time.monotonic() > end:
            return {r.get("name"): r for r in runs}
        time.sleep(0.5)


@pytest.fixture(scope="module")
def runs(made) -> dict[str, dict[str, Any]]:
    return runs_in(made.studies / made.name / "wandb")


def test_one_offline_run_per_trial_with_config_history_and_state(made, runs):
    trials = made.study().get_trials()
    assert {t.state for t in trials} >= {TrialState.COMPLETE, TrialState.PRUNED}
    assert sorted(runs) == sorted(f"trial-{t.number}" for t in trials)
    for t in trials:
        run = runs[f"trial-{t.number}"]
        assert run["group"] == made.name and "ci" in run["tags"]
        cfg = run["config"]
        # the full resolved config: sampled and fixed settings, study and data context
        assert cfg["lr"] == pytest.approx(t.params["lr"]) and cfg["params"]["lr"] == pytest.approx(t.params["lr"])
        assert cfg["sampled"] == sorted(t.params)
        assert (cfg["architecture"], cfg["encoder"], cfg["epochs"], cfg["batch_size"]) == ("fpn", "resnet18", 2, 8)
        assert cfg["trial"] == t.number and cfg["seed"] == t.user_attrs["seed"]
        assert cfg["study"]["name"] == made.name and cfg["study"]["pruner"]["name"] == "median"
        assert cfg["data"]["classes"] == CLASSES
        assert "storage" not in json.dumps(cfg) and "sqlite" not in json.dumps(cfg)
        # one history row per epoch that ran, matching the trial's reported objective
        epochs = [h for h in run["history"] if "train/loss" in h]
        assert [h["epoch"] for h in epochs] == sorted(t.intermediate_values)
        for h in epochs:
            assert h["val/objective"] == pytest.approx(t.intermediate_values[h["epoch"]])
            assert {f"val/iou/{c}" for c in CLASSES} | {"lr", "epoch_seconds", "val/miou"} <= set(h)
        # final state in the summary; images with masks at the best epoch
        s = run["summary"]
        assert s["state"] == t.state.name.lower() and s["n_params"] == t.user_attrs["n_params"]
        assert s["best_epoch"] == t.user_attrs["best_epoch"]
        assert s["seconds_per_epoch"] == pytest.approx(t.user_attrs["seconds_per_epoch"])
        shots = [h for h in run["history"] if "predictions/count" in h]
        assert len(shots) == 1 and shots[0]["predictions/count"] == 2
        assert shots[0]["epoch"] == t.user_attrs["best_epoch"] and "predictions/all_masks" in shots[0]
        assert run["exit"] == 0
        if t.state == TrialState.PRUNED:
            assert "pruned" in run["tags"]
            assert t.params["lr"] == 1e-9 and len(epochs) == 1


def test_failed_trial_gets_a_run_with_reason_and_no_secret(made, tmp_path):
    cfg = load_config(made.config)
    trial = optuna.create_study().ask()
    tracker = tracking.Tracker(cfg, load_splits(cfg.data, made.studies), tmp_path / made.name, "offline")
    # fails before training starts (no reporter ran): the hook still opens and closes a run
    tracker.on_outcome(trial, Outcome(TrialState.FAIL, reason="oom",
                                      message="out of memory; storage postgresql://bob:hunter2@db/x"))
    (run,) = runs_in(tmp_path / made.name / "wandb").values()
    assert run["name"] == "trial-0" and run["exit"] == 1
    assert run["summary"]["state"] == "fail" and run["summary"]["fail_reason"] == "oom"
    assert "hunter2" not in run["summary"]["error"] and "bob:***@" in run["summary"]["error"]


def test_wandb_errors_never_fail_a_trial(made, tmp_path, monkeypatch, caplog):
    import wandb

    def broken_init(**kwargs):
        raise RuntimeError("no network")

    monkeypatch.setattr(wandb, "init", broken_init)
    cfg = load_config(made.config)
    env = make_env(cfg, load_splits(cfg.data, made.studies), tmp_path)
    trial = optuna.create_study().ask()
    (reporter,) = env.extra_reporters(trial, cfg.train, tmp_path / "t")
    reporter.run_start(None, 10, 0)  # every call after a failed init is a no-op, not an error
    for hook in env.on_outcome:
        hook(trial, Outcome(TrialState.COMPLETE, value=0.5))
    assert "wandb.init (offline) failed" in caplog.text


def test_auto_mode_is_offline_without_a_key_and_follows_wandb_mode(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert tracking.resolve_mode(WandbConfig(mode="auto")) == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert tracking.resolve_mode(WandbConfig(mode="auto")) == "disabled"
    assert tracking.resolve_mode(WandbConfig(mode="offline")) == "offline"
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    from segsearch.tracking import _wandb

    monkeypatch.setattr(_wandb, "_reachable", lambda host, *a, **k: False)
    assert tracking.resolve_mode(WandbConfig(mode="auto")) == "offline"
