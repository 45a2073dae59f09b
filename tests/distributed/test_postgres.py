"""Many workers on one PostgreSQL study: exact budget, crash recovery from checkpoints, a server
restart mid-study, grids without duplicates, graceful stop, enqueue, and no leaked password.

Real server, real worker subprocesses, real signals. The tests where a worker dies or the server goes away use
1 s heartbeats with a 5 s grace period, so recovery is quick; the others keep the shipped 30 s / 60 s, so that a
live worker on a loaded machine is never taken for dead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import tiny_config
from helpers_dist import assert_no_canary, load, run, start, tail, wait_for

pytestmark = pytest.mark.postgres

FAST_HEARTBEAT = {"heartbeat_interval": 1, "grace_period": 5}
FINAL = {"COMPLETE", "PRUNED", "FAIL"}


def _states(study) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def _counted(study) -> list:
    from segsearch.search import counts_toward_budget

    return [t for t in study.get_trials(deepcopy=False) if counts_toward_budget(t)]


def test_four_workers_finish_exactly_the_budget(tmp_path: Path, pg_db) -> None:
    # the shipped heartbeat: no worker dies here, and a starved machine must not make a live one look dead
    cfg = tiny_config(tmp_path, study={"n_trials": 6}, train={"epochs": 2})
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


def test_three_launches_of_one_yaml_at_once_run_exactly_the_budget(tmp_path: Path, pg_db) -> None:
    # the shipped heartbeat: no worker is meant to die here, and a starved machine must not make one look dead
    cfg = tiny_config(tmp_path, study={"n_trials": 4}, train={"epochs": 1})
    logs = tmp_path / "logs"
    procs = [start(["launch", str(cfg), "--studies-dir", str(tmp_path / "studies"), "--no-wandb"], logs, f"l{i}",
                   storage=pg_db.url) for i in range(3)]
    for i, proc in enumerate(procs):
        assert proc.wait(timeout=600) == 0, tail(logs / f"l{i}.err")
    study = load(pg_db.url)
    trials = study.get_trials(deepcopy=False)
    assert [t.state.name for t in _counted(study)] == ["COMPLETE"] * 4, _states(study)
    assert not [t for t in trials if t.state.name in ("WAITING", "RUNNING")]
    baseline_chains = {t.system_attrs.get("failed_trial", t.number) for t in trials if t.user_attrs.get("baseline")}
    assert len(baseline_chains) == 1


def _trial_dir(studies: Path, root: int = 0) -> Path:
    return studies / "tiny" / "trials" / f"{root:05d}"


def test_sigkilled_worker_trial_is_requeued_and_resumes_from_checkpoint(tmp_path: Path, pg_db) -> None:
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
    assert len(trials) == 2, _states(study)  # the dead attempt and its retry: no new trial beside them
    dead, retry = trials
    assert dead.state.name == "FAIL" and dead.user_attrs["fail_reason"] == "worker_died"  # its retry resumes it
    assert dead.user_attrs["retried"] is True
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


def test_postgres_restart_mid_study_pauses_the_workers(tmp_path: Path, pg_db) -> None:
    # Stopped, then started only once a worker has seen it gone: a plain restart can fall between two database
    # calls (the pool's pre-ping then reconnects unseen), which made this test depend on timing.
    ctl = os.environ.get("SEGSEARCH_TEST_PG_CTL", "pg_ctlcluster 15 main").split()
    if shutil.which(ctl[0]) is None:
        pytest.skip(f"cannot stop the server here: {ctl[0]} not found (set SEGSEARCH_TEST_PG_CTL)")
    cfg = tiny_config(tmp_path, study={"n_trials": 3, **FAST_HEARTBEAT}, train={"epochs": 3},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    studies, logs = tmp_path / "studies", tmp_path / "logs"
    proc = start(["launch", str(cfg), "--workers", "2", "--studies-dir", str(studies), "--no-wandb"], logs,
                 "launch", pg_db.url)
    err = logs / "launch.err"
    try:
        wait_for(lambda: any((studies / "tiny" / "trials").glob("*/last.pt")) or proc.poll() is not None, 150,
                 "a first checkpoint")
        assert proc.poll() is None, tail(err)
        subprocess.run([*ctl, "stop"], check=True, timeout=60)
        try:
            wait_for(lambda: "unreachable" in err.read_text() or proc.poll() is not None, 60,
                     "a worker to see the database gone")
        finally:
            subprocess.run([*ctl, "start"], check=True, timeout=60)
        assert proc.poll() is None, f"the launch ended while the database was down:\n{tail(err)}"
        rc = proc.wait(timeout=200)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = err.read_text()
    assert rc == 0, tail(err)
    assert "unreachable" in text and "reachable again" in text, "the workers never saw the restart"
    study = load(pg_db.url)
    trials = study.get_trials(deepcopy=False)
    assert all(t.state.name in FINAL for t in trials), _states(study)
    assert [t.state.name for t in _counted(study)] == ["COMPLETE"] * 3, _states(study)
    assert_no_canary(tmp_path, skip=(cfg,))


def test_grid_of_six_points_with_three_workers_runs_each_point_once(tmp_path: Path, pg_db) -> None:
    # the shipped heartbeat: no worker dies here, and a starved machine must not make one look dead
    cfg = tiny_config(tmp_path, study={"n_trials": None, "sampler": {"name": "grid", "seed": 0}},
                      train={"epochs": 1}, search={"architecture": ["unet", "fpn"], "lr": [0.001, 0.003, 0.01]})
    logs = tmp_path / "logs"
    rc = run(["launch", str(cfg), "--workers", "3", "--studies-dir", str(tmp_path / "studies"), "--no-wandb",
              "--storage", pg_db.url], logs, "launch", timeout=600)
    assert rc == 0, tail(logs / "launch.err")
    study = load(pg_db.url)
    counted = _counted(study)
    assert [t.state.name for t in counted] == ["COMPLETE"] * 6, _states(study)
    points = [(t.params["architecture"], t.params["lr"]) for t in counted]  # each point trained once
    assert sorted(points) == sorted((a, lr) for a in ("unet", "fpn") for lr in (0.001, 0.003, 0.01))
    assert_no_canary(tmp_path, skip=(cfg,))


def test_graceful_stop_hands_the_trial_back_and_enqueue_runs_a_recipe(tmp_path: Path, pg_db) -> None:
    epochs = 6
    cfg = tiny_config(tmp_path, study={"n_trials": 1, **FAST_HEARTBEAT}, train={"epochs": epochs},
                      data={"demo": {"n_images": 48, "size": 32, "seed": 0}})
    studies, logs = tmp_path / "studies", tmp_path / "logs"
    proc = start(["launch", str(cfg), "--studies-dir", str(studies), "--no-wandb"], logs, "launch", pg_db.url)
    try:
        wait_for(lambda: (_trial_dir(studies) / "last.pt").exists() or proc.poll() is not None, 120, "a checkpoint")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 130, tail(logs / "launch.err")
    study = load(pg_db.url)
    trials = study.get_trials(deepcopy=False)
    assert [t.state.name for t in trials] == ["WAITING"]  # paused in place; nothing left RUNNING
    stopped_at = trials[0].user_attrs["paused_at_epoch"]
    assert 1 <= stopped_at < epochs and "fail_reason" not in trials[0].user_attrs

    # enqueue: validated against TrainConfig and the study's space; errors name the value
    args = ["enqueue", "--study", "tiny", "--studies-dir", str(studies)]
    assert run([*args, "--set", "architecture=deeplabv3"], logs, "bad", pg_db.url) == 2
    assert "architecture='deeplabv3' is not in the study's search space" in (logs / "bad.err").read_text()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("train:\n  architecture: unet\n  lr: 5.0e-3\n  batch_size: 4\n")
    assert run([*args, "--from-yaml", str(recipe), "--set", "weight_decay=0", "--set", "epochs=2"], logs, "enq", pg_db.url) == 0, \
        tail(logs / "enq.err")
    assert "queued trial 1" in (logs / "enq.out").read_text()

    rc = run(["worker", "--study", "tiny", "--studies-dir", str(studies), "--no-wandb"], logs, "worker",
             storage=pg_db.url, timeout=150)
    assert rc == 0, tail(logs / "worker.err")
    study = load(pg_db.url)
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    retry, mine = by_number[0], by_number[1]
    assert retry.state.name == mine.state.name == "COMPLETE"
    assert retry.datetime_start < mine.datetime_start  # the handed-back trial resumes first
    assert retry.user_attrs["resumed_from_epoch"] == stopped_at
    assert set(retry.intermediate_values) == set(range(1, epochs + 1))
    assert mine.params == {"architecture": "unet", "lr": 0.005} and mine.user_attrs["enqueued"] is True
    run_cfg = (studies / "tiny" / "trials" / "00001" / "config.yaml").read_text()
    assert "batch_size: 4" in run_cfg and "weight_decay: 0.0" in run_cfg and "epochs: 2" in run_cfg
    assert len(_counted(study)) == 2  # budget 1 + 1 enqueued
    assert not study.get_trials(deepcopy=False, states=(optuna_state("WAITING"), optuna_state("RUNNING")))
    assert_no_canary(tmp_path, skip=(cfg,))


def test_unreachable_database_errors_never_show_the_password(tmp_path: Path, pg_db) -> None:
    bad_db = pg_db.url.rsplit("/", 1)[0] + "/no_such_database"
    for tag, url in (("nodb", bad_db), ("badpw", pg_db.query_url + "-wrong")):
        rc = run(["status", "tiny", "--storage", url], tmp_path / "logs", tag, timeout=60)
        assert rc == 2
        err = (tmp_path / "logs" / f"{tag}.err").read_text()
        assert "***" in err and "cannot open storage" in err, err
    assert_no_canary(tmp_path)


def optuna_state(name: str):
    from optuna.trial import TrialState

    return TrialState[name]


def _database_text(name: str) -> str:
    """Every row of every table of a database, as text (what a dump would show)."""
    import psycopg2
    from conftest import ADMIN_DSN

    dsn = " ".join(p for p in ADMIN_DSN.split() if not p.startswith("dbname=")) + f" dbname={name}"
    con = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            tables = [r[0] for r in cur.fetchall()]
            rows = []
            for table in tables:
                cur.execute(f'SELECT t::text FROM "{table}" t')
                rows += [r[0] for r in cur.fetchall()]
    finally:
        con.close()
    assert "studies" in tables and rows
    return "\n".join(rows)


def test_password_in_argv_reaches_no_wandb_file_log_or_database_row(tmp_path: Path, pg_db) -> None:
    from helpers_dist import CANARY_PASSWORD

    cfg = tiny_config(tmp_path, study={"n_trials": 1}, train={"epochs": 1}, wandb={"enabled": True})
    logs = tmp_path / "logs"
    rc = run(["launch", str(cfg), "--studies-dir", str(tmp_path / "studies"), "--storage", pg_db.url],
             logs, "launch", timeout=200, WANDB_MODE="offline")
    assert rc == 0, tail(logs / "launch.err")
    wandb_files = list((tmp_path / "studies").rglob("*.wandb"))
    assert wandb_files, "no offline W&B run was written"
    # the run recorded the command line, with the password masked
    assert any(b"--storage" in f.read_bytes() and b":***@" in f.read_bytes() for f in wandb_files)
    assert_no_canary(tmp_path, skip=(cfg,))
    assert CANARY_PASSWORD not in _database_text(pg_db.name)


def test_a_grown_categorical_keeps_every_stored_value_on_postgres(tmp_path: Path, pg_db) -> None:
    # Optuna's storage refuses a categorical with other choices than the study's first record of it
    # ("dynamic value space"); a grown space rewrites the stored distributions, every value kept
    import optuna

    from segsearch.config import load_config
    from segsearch.search import make_storage, open_study

    def space(archs: list[str], name: str):
        return load_config(tiny_config(tmp_path, name, search={"architecture": archs,
                                                               "lr": {"low": 1e-3, "high": 1e-2, "log": True}}))

    old, grown = space(["unet", "fpn"], "old.yaml"), space(["linknet", "unet", "fpn"], "grown.yaml")
    study = open_study(make_storage(pg_db.url), old)
    dist = optuna.distributions.CategoricalDistribution(["unet", "fpn"])
    for arch in ("fpn", "unet", "fpn"):
        study.enqueue_trial({"architecture": arch})
        t = study.ask({"architecture": dist})
        assert t.params["architecture"] == arch
        study.tell(t, 0.5)
    before = [t.params["architecture"] for t in study.get_trials()]
    study = open_study(make_storage(pg_db.url), grown)  # a new version (linknet first: the indexes move)
    assert [t.params["architecture"] for t in study.get_trials()] == before
    new = optuna.distributions.CategoricalDistribution(["linknet", "unet", "fpn"])
    assert all(t.distributions["architecture"] == new for t in study.get_trials())
    t = study.ask({"architecture": new})  # accepted by the storage now
    study.tell(t, 0.6)
    assert study.user_attrs["space_versions"][-1]["changes"] == ["search.architecture: choice(s) ['linknet'] added"]
