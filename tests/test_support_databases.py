"""The PostgreSQL test databases: a reused one is as empty as a fresh clone, and one whose
schema a test changed is never handed out again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from store import create_engine
from tests.support.databases import PostgresFactory

INSERT_USER = "INSERT INTO users (name, is_admin, created_at) VALUES (:n, false, :t) RETURNING id"


def _factory(postgres_factory: PostgresFactory | str) -> PostgresFactory:
    if isinstance(postgres_factory, str):
        pytest.skip(postgres_factory)
    return postgres_factory


def test_a_released_database_comes_back_empty(postgres_factory: PostgresFactory | str) -> None:
    """Rows are gone and ids start at 1 again, even with a connection left open."""
    factory = _factory(postgres_factory)
    url = factory.new_database()
    leaked = create_engine(url)
    with leaked.begin() as conn:
        for name in ("a", "b"):
            conn.execute(sa.text(INSERT_USER), {"n": name, "t": datetime.now(UTC)})
    held = leaked.connect()  # a connection a test forgot: it must not block the reuse
    held.execute(sa.text("SELECT 1"))
    factory.release(url)
    assert factory.new_database() == url
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM users")) == 0
            assert conn.scalar(sa.text(INSERT_USER), {"n": "c", "t": datetime.now(UTC)}) == 1
    finally:
        engine.dispose()
        held.invalidate()  # its server process was ended
        leaked.dispose()
        factory.release(url)


def test_a_database_with_a_changed_schema_is_dropped(
    postgres_factory: PostgresFactory | str,
) -> None:
    """A test that altered the schema leaves a database no later test gets."""
    factory = _factory(postgres_factory)
    url = factory.new_database()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE users ADD COLUMN extra integer"))
    engine.dispose()
    factory.release(url)
    assert url not in [factory.url_for(name) for name in factory.free]
    other = factory.new_database()
    assert other != url
    factory.release(other)
