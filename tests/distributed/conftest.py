"""PostgreSQL fixtures: the local server (skipped only when none is reachable), a role with a canary
password that must never leak, and a fresh database per test, dropped afterwards.

Settings (env): SEGSEARCH_TEST_PG_ADMIN (libpq DSN of a superuser, default ``dbname=postgres``),
SEGSEARCH_TEST_PG_HOST / SEGSEARCH_TEST_PG_PORT (TCP address the workers use, default 127.0.0.1:5432).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers_dist import CANARY_PASSWORD

CANARY_USER = "segsearch_canary"
ADMIN_DSN = os.environ.get("SEGSEARCH_TEST_PG_ADMIN", "dbname=postgres")
HOST = os.environ.get("SEGSEARCH_TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("SEGSEARCH_TEST_PG_PORT", "5432"))


@dataclass(frozen=True)
class PgDatabase:
    name: str
    url: str = field(repr=False)  # user:password@ form
    query_url: str = field(repr=False)  # ?password= form


def admin_connect():
    import psycopg2

    con = psycopg2.connect(ADMIN_DSN, connect_timeout=5)
    con.autocommit = True
    return con


@pytest.fixture(scope="session")
def pg_server() -> Iterator[None]:
    """The local server with the canary role; skips the test when no server is reachable."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        con = admin_connect()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server reachable with DSN {ADMIN_DSN!r}: {str(exc).strip().splitlines()[0]}. "
                    "To run these tests: start the server (pg_ctlcluster 15 main start) and give your user a "
                    "superuser role (sudo -u postgres psql -c \"create role $USER superuser login\"), or set "
                    "SEGSEARCH_TEST_PG_ADMIN to a superuser's libpq DSN; README: Development and tests")
    with con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (CANARY_USER,))
        verb = "ALTER" if cur.fetchone() else "CREATE"
        cur.execute(f"{verb} ROLE {CANARY_USER} LOGIN PASSWORD %s", (CANARY_PASSWORD,))
    con.close()
    yield


@pytest.fixture
def pg_db(pg_server: None) -> Iterator[PgDatabase]:
    """A fresh database owned by the canary role, reached over TCP with password authentication."""
    import psycopg2

    name = f"segsearch_test_{uuid.uuid4().hex[:12]}"
    con = admin_connect()
    with con.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} OWNER {CANARY_USER}")
    con.close()
    db = PgDatabase(name, f"postgresql://{CANARY_USER}:{CANARY_PASSWORD}@{HOST}:{PORT}/{name}",
                    f"postgresql://{CANARY_USER}@{HOST}:{PORT}/{name}?password={CANARY_PASSWORD}")
    try:
        psycopg2.connect(db.url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        pytest.fail(f"the server refuses password logins over TCP at {HOST}:{PORT} (check pg_hba.conf allows "
                    f"scram-sha-256/md5 for host connections): {str(exc).strip().splitlines()[0]}")
    yield db
    con = admin_connect()
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    con.close()
