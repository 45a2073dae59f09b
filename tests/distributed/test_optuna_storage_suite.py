"""Optuna's own storage test suite (``optuna.testing.pytest_storages.StorageTestCase``, the cases Optuna's
tests/storages_tests/test_storages.py runs against its storages) run against segsearch's storage: the
retrying ``ResilientRDBStorage`` that ``make_storage`` builds, on SQLite and on the PostgreSQL server.

Each case gets an empty database: a file in the test's folder, or a fresh PostgreSQL database (``pg_db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from optuna.study import StudyDirection
from optuna.testing.pytest_storages import StorageTestCase

from segsearch.search import ResilientRDBStorage, make_storage


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        request.applymarker(pytest.mark.postgres)
        url = request.getfixturevalue("pg_db").url
    st = make_storage(url)
    assert isinstance(st, ResilientRDBStorage)
    try:
        yield st
    finally:
        st.engine.dispose()  # before pg_db drops the database


class TestSegsearchStorage(StorageTestCase):
    def test_create_new_study_unique_id(self, storage: Any) -> None:
        # as Optuna's own test for RDBStorage: a deleted study's id may be reused (optuna's TODO), the rest holds
        study_id = storage.create_new_study(directions=[StudyDirection.MINIMIZE])
        study_id2 = storage.create_new_study(directions=[StudyDirection.MINIMIZE])
        storage.delete_study(study_id2)
        study_id3 = storage.create_new_study(directions=[StudyDirection.MINIMIZE])
        assert {s._study_id for s in storage.get_all_studies()} == {study_id, study_id3}
