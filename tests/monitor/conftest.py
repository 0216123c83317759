"""Fixtures for monitor tests: a SQLite engine (for tests that are not about the database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from store import create_engine
from tests.support.databases import SqliteFactory


@pytest.fixture
def sqlite_engine(sqlite_factory: SqliteFactory) -> Iterator[Engine]:
    engine = create_engine(sqlite_factory.new_database())
    yield engine
    engine.dispose()
