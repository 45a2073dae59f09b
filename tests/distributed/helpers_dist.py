"""Helpers for the distributed tests: real CLI subprocesses, waiting on files, reading the study,
and scanning everything a run produced for the canary password."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CANARY_PASSWORD = "canary-s3cret-XYZ"
SEGSEARCH = [sys.executable, "-m", "segsearch"]


def cli_env(storage: str | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1", "SEGSEARCH_THREADS": "1",
           "PYTHONUNBUFFERED": "1", **extra}
    env.pop("SEGSEARCH_STORAGE", None)
    if storage:
        env["SEGSEARCH_STORAGE"] = storage
    return env


def start(args: list[str], logs: Path, tag: str, storage: str | None = None, cwd: Path | None = None,
          **extra: str) -> subprocess.Popen:
    """Start ``segsearch <args>`` with stdout/stderr captured to ``logs/<tag>.out|err``."""
    logs.mkdir(parents=True, exist_ok=True)
    out = open(logs / f"{tag}.out", "wb")
    err = open(logs / f"{tag}.err", "wb")
    return subprocess.Popen([*SEGSEARCH, *args], stdout=out, stderr=err, env=cli_env(storage, **extra),
                            cwd=cwd, start_new_session=True)


def run(args: list[str], logs: Path, tag: str, storage: str | None = None, timeout: float = 180,
        **extra: str) -> int:
    proc = start(args, logs, tag, storage, **extra)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        raise AssertionError(f"segsearch {' '.join(args[:1])} did not finish in {timeout}s; "
                             f"stderr tail:\n{tail(logs / f'{tag}.err')}") from None


def tail(path: Path, n: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else "(no log)"


def wait_for(cond: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def load(url: str, name: str = "tiny"):
    import optuna

    from segsearch.search import make_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=make_storage(url, heartbeat_interval=1, grace_period=5))


def files_containing(root: Path, needle: str, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Every file under ``root`` (text or binary) that contains ``needle``."""
    hits = []
    data = needle.encode()
    for path in root.rglob("*"):
        if path.is_file() and path not in skip and data in path.read_bytes():
            hits.append(path)
    return hits


def assert_no_canary(root: Path, skip: tuple[Path, ...] = ()) -> None:
    hits = files_containing(root, CANARY_PASSWORD, skip)
    assert not hits, f"the database password leaked into: {[str(h) for h in hits]}"
