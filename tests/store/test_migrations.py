"""The migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.migrate import head_revision, is_current
from store.tables import metadata


def test_migrated_schema_matches_tables(engine: Engine) -> None:
    """After `upgrade`, autogenerate finds nothing left to migrate."""
    assert is_current(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_single_head() -> None:
    """Migrations form one line of history."""
    assert head_revision() is not None
