"""Masking, connection-error classification and --set parsing: fast, no server needed."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy.exc as sa

from segsearch._secrets import MaskFilter, mask, remember_url
from segsearch.cli._dist import parse_assignments
from segsearch.search import is_transient
from segsearch.search._storage import driver_url

PW = "canary-s3cret-XYZ"


@pytest.mark.parametrize("text", [
    f"postgresql://user:{PW}@db:5432/optuna",
    f"cannot reach postgresql+psycopg2://user:{PW}@db/optuna (timeout)",
    f"postgresql://user@db/optuna?sslmode=require&password={PW}",
    f"postgresql://user@db/optuna?PASSWORD={PW}&x=1",
])
def test_mask_hides_both_url_forms(text: str) -> None:
    out = mask(text)
    assert PW not in out and "***" in out


def test_a_remembered_password_is_masked_even_without_its_url() -> None:
    remember_url(f"postgresql://u:{PW}-lit@h/db")
    assert mask(f'libpq said: password "{PW}-lit" rejected') == 'libpq said: password "***" rejected'


def test_log_filter_masks_messages_and_exception_text(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "url %s", (f"postgresql://u:{PW}@h/db",), None)
    try:
        raise RuntimeError(f"boom postgresql://u:{PW}@h/db")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    MaskFilter().filter(record)
    assert PW not in record.getMessage() and record.exc_info is None


def test_connection_errors_are_transient_but_bad_credentials_are_not() -> None:
    lost = sa.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    auth = sa.OperationalError("", {}, Exception('FATAL: password authentication failed for user "u"'))
    integrity = sa.IntegrityError("INSERT", {}, Exception("duplicate key"))
    wrapped = RuntimeError("commit failed")
    wrapped.__cause__ = lost
    assert is_transient(lost) and is_transient(wrapped)
    full = sa.OperationalError("COMMIT", {}, Exception("database or disk is full"))
    assert not is_transient(auth) and not is_transient(integrity) and not is_transient(ValueError("x"))
    assert not is_transient(full)  # waiting does not empty a disk: fail at once with the reason


def test_driver_is_chosen_for_plain_postgresql_urls() -> None:
    assert driver_url("postgres://u@h/db").startswith("postgresql+psycopg")
    assert driver_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert driver_url("sqlite:///x.db") == "sqlite:///x.db"


def test_set_assignments_are_typed_and_dotted_keys_nest() -> None:
    got = parse_assignments(["lr=3e-4", "batch_size=4", "encoder_weights=null", "loss_params.gamma=2"])
    assert got == {"lr": 3e-4, "batch_size": 4, "encoder_weights": None, "loss_params": {"gamma": 2}}
    with pytest.raises(ValueError, match="expected key=value"):
        parse_assignments(["lr"])
    with pytest.raises(ValueError, match=r"only \*_params fields"):
        parse_assignments(["train.lr=1"])
