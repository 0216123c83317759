"""Fixtures for end-to-end runs that need PostgreSQL alone (several processes on one
database, leases taken over between replicas)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from store import create_engine
from tests.support.databases import PostgresFactory


@pytest.fixture
def pg_url(postgres_factory: PostgresFactory | str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database; skipped with the standard reason without one."""
    if isinstance(postgres_factory, str):
        pytest.skip(postgres_factory)
    url = postgres_factory.new_database()
    yield url
    postgres_factory.drop(url)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()
