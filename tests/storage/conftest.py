"""Fixtures of the storage tests: a migrated repository on each backend, and a row counter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from storage_fixtures import Count

from interdit.storage.repo import Repository


@pytest.fixture()
def repo(db_url: str) -> Iterator[Repository]:
    r = Repository(db_url)
    r.migrate()
    yield r
    r.close()


@pytest.fixture()
def count(repo: Repository) -> Count:
    def rows(table: str) -> int:
        with repo.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    return rows
