"""Where a study lives: the embedded SQLite file under studies/<study>/, or any RDB URL.

URLs shown to people pass through ``mask_url`` so passwords never reach logs or files.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import optuna

from .._secrets import mask_url

ENV_VAR = "SEGSEARCH_STORAGE"
def resolve_storage_url(study: str, cli: str | None, config: str | None, studies_dir: Path) -> str:
    """CLI flag, then SEGSEARCH_STORAGE, then the YAML, then the embedded file."""
    url = cli or os.environ.get(ENV_VAR) or config
    if url:
        return url
    path = (Path(studies_dir) / study / "study.db").resolve()
    return f"sqlite:///{path}"


def is_embedded(url: str) -> bool:
    return url.startswith("sqlite:")


def make_storage(url: str, heartbeat_interval: int = 30, grace_period: int | None = None,
                 max_retry: int = 2) -> optuna.storages.RDBStorage:
    """An RDBStorage with heartbeats; dead trials are re-queued with their parameters."""
    engine: dict = {}
    if is_embedded(url):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path, timeout=60) as con:  # WAL: readers don't block the writer
            con.execute("PRAGMA journal_mode=WAL")
        engine = {"connect_args": {"timeout": 120}}
    else:
        engine = {"pool_pre_ping": True, "pool_recycle": 300, "pool_size": 2, "max_overflow": 2,
                  "pool_timeout": 60}
    callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry, inherit_intermediate_values=True)
    try:
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine, heartbeat_interval=heartbeat_interval,
            grace_period=grace_period or 2 * heartbeat_interval + 10,
            heartbeat_stale_trial_callback=callback,
        )
    except Exception as exc:  # noqa: BLE001 - message is masked and re-raised as one type
        raise StorageError(f"cannot open storage {mask_url(url)}: {mask_url(str(exc).splitlines()[0])}") from None


class StorageError(RuntimeError):
    """The storage could not be reached or opened (the message has no password)."""
