"""Many workers on one PostgreSQL study: exact budget, crash recovery from checkpoints, a server
restart mid-study, grids without duplicates, graceful stop, enqueue, and no leaked password.

Real server, real worker subprocesses, real signals. Heartbeats are 1 s with a 5 s grace period so
recovery is quick.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from helpers import tiny_config
from helpers_dist import assert_no_canary, load, run, start, tail, wait_for

pytestmark = pytest.mark.postgres

FAST_HEARTBEAT = {"heartbeat_interval": 1, "grace_period": 5}
FINAL = {"COMPLETE", "PRUNED", "FAIL"}


def _states(study) -> dict[str, int]:  # noqa: ANN001
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def _counted(study) -> list:  # noqa: ANN001
    from segsearch.search import counts_toward_budget

    return [t for t in study.get_trials(deepcopy=False) if counts_toward_budget(t)]


def test_four_workers_finish_exactly_the_budget(tmp_path: Path, pg_db) -> None:  # noqa: ANN001
    cfg = tiny_config(tmp_path, study={"n_trials": 6, **FAST_HEARTBEAT}, train={"epochs": 2})
    studies = tmp_path / "studies"
    rc = run(["launch", str(cfg), "--workers", "4", "--studies-dir", str(studies), "--no-wandb"],
             tmp_path / "logs", "launch", storage=pg_db.url, timeout=200)
    assert rc == 0, tail(tmp_path / "logs" / "launch.err")
    study = load(pg_db.url)
    trials = study.get_trials(deepcopy=False)
    assert _states(study) == {"COMPLETE": 6}, _states(study)
    assert all(t.state.name in FINAL for t in trials)
    folders = [t.user_attrs["run_dir"] for t in trials]
    assert len(set(folders)) == 6, "two trials shared a trial folder"
    pids = {line.split("]")[0] for line in (tmp_path / "logs" / "launch.err").read_text().splitlines()
            if " INFO [" in line and "complete" in line}
    assert len(pids) >= 2, f"expected the trials to be spread over several worker processes, got {pids}"
    assert_no_canary(tmp_path, skip=(cfg,))


def _trial_dir(studies: Path, root: int = 0) -> Path:
    return studies / "tiny" / "trials" / f"{root:05d}"


def test_sigkilled_worker_trial_is_requeued_and_resumes_from_checkpoint(tmp_path: Path, pg_db) -> None:  # noqa: ANN001
    epochs = 6
    cfg = tiny_config(tmp_path, study={"n_trials": 1, **FAST_HEARTBEAT}, train={"epochs": epochs},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    studies, logs = tmp_path / "studies", tmp_path / "logs"
    first = start(["launch", str(cfg), "--studies-dir", str(studies), "--no-wandb"], logs, "first", pg_db.url)
    ckpt = _trial_dir(studies) / "last.pt"
    try:
        wait_for(lambda: ckpt.exists() or first.poll() is not None, 120, "the first epoch's checkpoint")
        assert first.poll() is None, f"the worker ended before it could be killed:\n{tail(logs / 'first.err')}"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    study = load(pg_db.url)
    assert [t.state.name for t in study.get_trials(deepcopy=False)] == ["RUNNING"]  # dead, not yet detected

    rc = run(["worker", "--study", "tiny", "--studies-dir", str(studies), "--no-wandb"], logs, "second",
             storage=pg_db.query_url, timeout=150)
    assert rc == 0, tail(logs / "second.err")
    study = load(pg_db.url)
    trials = study.get_trials(deepcopy=False)
    dead, retry = trials[0], trials[-1]
    assert dead.state.name == "FAIL" and "fail_reason" not in dead.user_attrs  # heartbeat-stale, not counted
    assert retry.state.name == "COMPLETE"
    assert retry.system_attrs["failed_trial"] == 0 and retry.params == dead.params
    resumed = retry.user_attrs["resumed_from_epoch"]
    assert resumed >= 1
    assert retry.user_attrs["epochs_run"] == epochs
    assert set(range(resumed + 1, epochs + 1)) <= set(retry.intermediate_values)  # the epoch count continues
    assert max(retry.intermediate_values) == epochs
    assert [t.state.name for t in _counted(study)] == ["COMPLETE"]  # the budget of 1 is spent exactly once
    assert "resumed from its checkpoint at epoch" in (logs / "second.err").read_text()
    assert_no_canary(tmp_path, skip=(cfg,))
