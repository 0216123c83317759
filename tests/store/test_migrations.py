"""The migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from store import create_engine
from store.migrate import downgrade, head_revision, is_current, upgrade
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


def test_0005_renames_duplicate_user_names(db_url: str) -> None:
    """Upgrading a database whose users share names keeps the oldest name and renames
    the others `name-<id>`, so that names can be unique and no user or token is lost."""
    engine = create_engine(db_url)
    try:
        downgrade(engine, "0005-1")  # to the revision before 0005
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for name in ("analyst", "analyst", "desk", "analyst"):
                conn.execute(
                    sa.text("INSERT INTO users (name, is_admin, created_at) VALUES (:n, :a, :t)"),
                    {"n": name, "a": False, "t": now},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, name FROM users ORDER BY id")).all()
        first = rows[0][0]
        assert [name for _, name in rows] == [
            "analyst",
            f"analyst-{first + 1}",
            "desk",
            f"analyst-{first + 3}",
        ]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO users (name, is_admin, created_at) VALUES (:n, :a, :t)"),
                {"n": "desk", "a": False, "t": now},
            )
    finally:
        engine.dispose()
