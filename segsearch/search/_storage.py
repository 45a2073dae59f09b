"""Where a study lives: the embedded SQLite file under studies/<study>/, or any RDB URL (PostgreSQL for
several workers and machines).

The storage is an Optuna ``RDBStorage`` with heartbeats, whose database calls survive a lost
connection: connection errors (a PostgreSQL restart, a network blip) are retried with exponential
backoff for up to ``retry_seconds`` (default 300, env ``SEGSEARCH_DB_RETRY_SECONDS``), so a restart
pauses the workers instead of killing them. Connections come from a small pool (at most 4 per
process) that pings before use and is recycled every 5 minutes.

URLs shown to people pass through ``mask_url`` so passwords never reach logs or files.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from .. import rundir
from .._secrets import install_log_filter, mask, mask_url, remember_url
from ..config import StudyConfig
from ..errors import ConfigError, StorageError
from ._requeue import RequeueStaleTrial

log = logging.getLogger(__name__)

ENV_VAR = "SEGSEARCH_STORAGE"
RETRY_ENV_VAR = "SEGSEARCH_DB_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 300.0
CONNECT_RETRY_SECONDS = 30.0  # opening a storage: a wrong host should not hang for minutes
MAX_BACKOFF = 2.0  # seconds; below any sane heartbeat grace period
POOL = {"pool_pre_ping": True, "pool_recycle": 300, "pool_size": 2, "max_overflow": 2, "pool_timeout": 60}
_PG_CONNECT = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
               "keepalives_count": 3, "application_name": "segsearch"}
# Connection errors that no amount of waiting fixes.
_PERMANENT = ("authentication failed", "does not exist", "no pg_hba.conf entry", "permission denied",
              "invalid password", "access denied", "database or disk is full", "no space left on device",
              "could not extend file")


def resolve_storage_url(study: str, cli: str | None, config: str | None, studies_dir: Path) -> str:
    """CLI flag, then SEGSEARCH_STORAGE, then the YAML, then the embedded file."""
    url = cli or os.environ.get(ENV_VAR) or config
    if url:
        remember_url(url)
        return url
    path = (Path(studies_dir) / study / rundir.STUDY_DB).resolve()
    return f"sqlite:///{path}"


def is_embedded(url: str) -> bool:
    return url.startswith("sqlite:")


def is_transient(exc: BaseException) -> bool:
    """True for a lost or refused database connection (worth waiting for), False for anything else."""
    import sqlalchemy.exc as sa

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, sa.TimeoutError):  # the pool is exhausted while connections hang
            return True
        if isinstance(e, sa.DBAPIError) and (e.connection_invalidated
                                             or isinstance(e, (sa.OperationalError, sa.InterfaceError))):
            return not any(p in str(e).lower() for p in _PERMANENT)
        e = e.__cause__ or e.__context__
    return False


def describe(exc: BaseException) -> str:
    """The first line of the driver's own message (not Optuna's generic wrapper), masked."""
    import sqlalchemy.exc as sa

    e: BaseException | None = exc
    while e is not None:
        if isinstance(e, sa.DBAPIError) and e.orig is not None:
            e = e.orig
            break
        if e.__cause__ is None and e.__context__ is None:
            break
        e = e.__cause__ or e.__context__
    text = str(e or exc).strip()
    return mask(text.splitlines()[0] if text else type(exc).__name__)


class ResilientRDBStorage(optuna.storages.RDBStorage):
    """``RDBStorage`` whose database calls wait out connection errors (see the module docstring).

    ``last_error_at`` (``time.monotonic()``) tells the stale-trial sweeper that heartbeats of this
    process may be late because the database was away.
    """

    def __init__(self, url: str, *, retry_seconds: float = DEFAULT_RETRY_SECONDS, **kwargs: Any) -> None:
        if retry_seconds < 0:
            raise ValueError(f"retry_seconds must be >= 0, got {retry_seconds}")
        self.retry_seconds = retry_seconds
        self.last_error_at = float("-inf")
        self.safe_url = mask_url(url).replace("+psycopg2://", "://").replace("+psycopg://", "://")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            super().__init__(url, **kwargs)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self.last_error_at = float("-inf")

    def call_with_retry(self, fn: Callable[..., Any], what: str, *args: Any, **kwargs: Any) -> Any:
        return _with_retry(fn, what, self.retry_seconds, self.safe_url, self._mark_error, *args, **kwargs)

    def _mark_error(self) -> None:
        self.last_error_at = time.monotonic()


def _with_retry(fn: Callable[..., Any], what: str, seconds: float, where: str, on_error: Callable[[], None],
                *args: Any, **kwargs: Any) -> Any:
    delay, deadline, warned_at = 0.2, None, None
    while True:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc):
                raise
            on_error()
            now = time.monotonic()
            deadline = deadline if deadline is not None else now + seconds
            first = describe(exc)
            if now >= deadline:
                raise StorageError(f"lost the database {where} for more than {seconds:.0f}s "
                                   f"(during {what}): {first}") from None
            if warned_at is None or now - warned_at >= 30:
                log.warning("database %s unreachable (%s); retrying for up to %.0fs more",
                            where, first, deadline - now)
                warned_at = now
            time.sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        if deadline is not None:
            log.warning("database %s reachable again", where)
        return result


def _retrying(name: str) -> Callable[..., Any]:
    method = getattr(optuna.storages.RDBStorage, name)

    @functools.wraps(method)
    def wrapper(self: ResilientRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return self.call_with_retry(method, name, self, *args, **kwargs)

    return wrapper


# Every call that talks to the database (the public API and what optuna's _CachedStorage calls).
_DB_CALLS = (
    "create_new_study", "delete_study", "set_study_user_attr", "set_study_system_attr", "get_study_id_from_name",
    "get_study_name_from_id", "get_study_directions", "get_study_user_attrs", "get_study_system_attrs",
    "get_all_studies", "create_new_trial", "_create_new_trial", "set_trial_param", "_set_trial_param",
    "get_trial_id_from_study_id_trial_number", "get_trial_number_from_id", "get_trial_param", "get_trial_params",
    "get_trial_user_attrs", "get_trial_system_attrs", "set_trial_state_values", "set_trial_intermediate_value",
    "set_trial_user_attr", "set_trial_system_attr", "get_trial", "get_all_trials", "_get_trials", "get_n_trials",
    "get_best_trial", "_get_best_trial_id", "record_heartbeat", "_get_stale_trial_ids",
)
for _name in _DB_CALLS:
    setattr(ResilientRDBStorage, _name, _retrying(_name))


def _record_heartbeat(self: ResilientRDBStorage, trial_id: int) -> None:
    """A heartbeat that cannot be written (a full disk, a database gone for longer than the retry window) is
    logged, not raised: it runs on Optuna's heartbeat thread, where an exception only prints a traceback, and a
    missed beat is no reason to stop training (the trial's own writes report the real problem)."""
    try:
        _RETRYING_HEARTBEAT(self, trial_id)
    except Exception as exc:
        log.warning("heartbeat of trial id %d not recorded: %s", trial_id, describe(exc))


_RETRYING_HEARTBEAT = ResilientRDBStorage.record_heartbeat
ResilientRDBStorage.record_heartbeat = _record_heartbeat  # type: ignore[method-assign, assignment]


def driver_url(url: str) -> str:
    """Pick an installed PostgreSQL driver for a URL without one (SQLAlchemy 2.1 assumes psycopg 3;
    psycopg2 is what segsearch installs). ``postgres://`` is accepted as an alias of ``postgresql://``."""
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres"):
        return url
    has_v3 = importlib.util.find_spec("psycopg") is not None
    has_v2 = importlib.util.find_spec("psycopg2") is not None
    driver = "psycopg" if has_v3 or not has_v2 else "psycopg2"
    return f"postgresql+{driver}://{rest}"


def engine_kwargs(url: str) -> dict[str, Any]:
    """Pool settings: a bounded pool that pings before use; TCP keepalives and a connect timeout for PostgreSQL."""
    if is_embedded(url):
        return {"connect_args": {"timeout": 120}}
    kwargs: dict[str, Any] = dict(POOL)
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://")):
        kwargs["connect_args"] = dict(_PG_CONNECT)
    return kwargs


def retry_seconds_from_env() -> float:
    raw = os.environ.get(RETRY_ENV_VAR)
    if raw is None:
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise StorageError(f"{RETRY_ENV_VAR}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise StorageError(f"{RETRY_ENV_VAR}={raw!r} must be >= 0")
    return value


def make_storage(url: str, heartbeat_interval: int = 30, grace_period: int | None = None, max_retry: int = 2,
                 retry_seconds: float | None = None) -> ResilientRDBStorage:
    """An RDBStorage with heartbeats whose stale (dead) trials are re-queued with their parameters.

    A re-queued trial resumes from its checkpoint; after ``max_retry`` crashes of the same trial it is
    recorded as failed (``fail_reason: worker_died``) and counts toward the budget.
    """
    remember_url(url)
    install_log_filter()
    if is_embedded(url):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL (readers don't block the writer), set under the study's lock: two launches of one YAML at once
        # must not switch the journal mode while the other creates the schema
        with _file_lock(url), contextlib.closing(sqlite3.connect(path, timeout=60)) as con:
            con.execute("PRAGMA journal_mode=WAL")
    shown, url = mask_url(url), driver_url(url)
    seconds = retry_seconds_from_env() if retry_seconds is None else retry_seconds
    grace = grace_period or 2 * heartbeat_interval + 10
    if grace <= heartbeat_interval:
        raise StorageError(f"grace_period ({grace}s) must be longer than heartbeat_interval ({heartbeat_interval}s)")

    def build() -> ResilientRDBStorage:
        for attempt in range(5):  # two processes creating the schema at once: the loser retries and finds it
            try:
                with _file_lock(url):
                    return ResilientRDBStorage(url, retry_seconds=seconds, engine_kwargs=engine_kwargs(url),
                                               heartbeat_interval=heartbeat_interval, grace_period=grace,
                                               heartbeat_stale_trial_callback=RequeueStaleTrial(max_retry))
            except Exception as exc:
                if attempt == 4 or "alembic_version" not in str(exc) and "already exists" not in str(exc):
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    try:
        return _with_retry(build, "opening the storage", min(seconds, CONNECT_RETRY_SECONDS), shown, lambda: None)
    except StorageError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open storage {shown}: {mask(first)}") from None


@dataclass(frozen=True)
class OpenedStorage:
    """A study's storage as opened. ``url`` may hold a password: it goes to Optuna only; show ``shown``."""

    url: str
    storage: Any

    @property
    def shown(self) -> str:
        return mask_url(self.url)

    def load(self, study_name: str) -> Any:
        """The named study in this storage, or a ConfigError that says where it looked."""
        import optuna

        try:
            return optuna.load_study(study_name=study_name, storage=self.storage)
        except KeyError:
            raise ConfigError(f"no study named {study_name!r} in {self.shown}") from None


def open_storage(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies",
                 study: StudyConfig | None = None, existing: bool = False) -> OpenedStorage:
    """The one way to a study's storage: ``storage`` (the --storage flag), else SEGSEARCH_STORAGE, else the
    YAML's ``study.storage``, else the embedded ``studies_dir/<study>/study.db``; with ``study`` its heartbeat
    and retry settings. ``existing``: an embedded file that is not there is an error, not a new study."""
    url = resolve_storage_url(study_name, storage, study.storage if study else None, Path(studies_dir))
    if existing and url.startswith("sqlite:///") and not Path(url.split("sqlite:///", 1)[1]).exists():
        raise ConfigError(f"no study {study_name!r}: {url.split('sqlite:///', 1)[1]} does not exist "
                          "(give --storage or --studies-dir)")
    if study is None:
        return OpenedStorage(url, make_storage(url))
    return OpenedStorage(url, make_storage(url, study.heartbeat_interval, study.grace_period, study.max_retry))


def load_study(study_name: str, storage: str | None = None, studies_dir: str | Path = "studies") -> Any:
    """An existing study by name: ``storage`` (or SEGSEARCH_STORAGE), else ``studies_dir/<name>/study.db``."""
    return open_storage(study_name, storage, studies_dir, existing=True).load(study_name)


def study_id(study: optuna.Study) -> int:
    """The study's id in its storage (what optuna-dashboard's URLs use)."""
    return study._study_id


@contextlib.contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """An exclusive lock on ``<database>.lock`` beside an embedded (SQLite) study; nothing otherwise."""
    if not is_embedded(url):
        yield
        return
    import fcntl

    path = Path(url.split("sqlite:///", 1)[1]).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def study_lock(storage: Any, study_name: str) -> Iterator[None]:
    """Serialise what must be atomic across processes for one study (topping up the trial budget,
    queueing grid points): a file lock for SQLite, a PostgreSQL advisory lock (held on its own connection)
    for PostgreSQL, nothing for other databases."""
    backend = getattr(storage, "_backend", storage)
    url = str(backend.engine.url) if hasattr(backend, "engine") else ""
    if url.startswith("sqlite"):
        with _file_lock("sqlite:///" + backend.engine.url.database):
            yield
        return
    if not url.startswith("postgresql"):
        yield
        return
    import zlib

    from sqlalchemy import text

    key = zlib.crc32(f"segsearch:{study_name}".encode())
    with backend.engine.connect() as con:
        con.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            con.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            con.commit()


def widen_choices(study: optuna.Study, name: str, choices: list[Any]) -> int:
    """Give every stored value of the categorical parameter ``name`` in ``study`` the distribution ``choices`` (a
    superset of its own, in any order), each value kept: Optuna's storage checks a new trial's distribution
    against the study's first record of the name and refuses other choices ("dynamic value space",
    optuna#2199), and stores a categorical value as its index in the choices. One transaction, under the
    caller's study lock. Returns the rows rewritten."""
    from optuna.distributions import CategoricalDistribution, distribution_to_json, json_to_distribution
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    backend: Any = getattr(study._storage, "_backend", study._storage)
    new = CategoricalDistribution(choices)
    rows = 0
    with _create_scoped_session(backend.scoped_session, True) as session:
        records = (session.query(models.TrialParamModel).join(models.TrialModel)
                   .filter(models.TrialModel.study_id == study._study_id)
                   .filter(models.TrialParamModel.param_name == name).all())
        for r in records:
            old = json_to_distribution(str(r.distribution_json))
            value = old.to_external_repr(float(r.param_value))
            r.param_value = new.to_internal_repr(value)
            r.distribution_json = distribution_to_json(new)
            rows += 1
    return rows
