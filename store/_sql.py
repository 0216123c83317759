"""Small SQL helpers shared by the query modules (dialect-neutral upserts)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

# Values in one IN list, or rows in one multi-row INSERT: a statement is a wait for the
# GIL each time a busy writer thread takes it back, so few large ones. SQLite 3.32+
# binds 32,766 parameters a statement (store.engine checks), PostgreSQL 65,535.
IN_CHUNK = 4000


def insert_ignore(
    session: Session, table: sa.Table, values: dict[str, Any], conflict: list[str]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None on a duplicate."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def insert_ignore_many(
    session: Session,
    table: sa.Table,
    rows: list[dict[str, Any]],
    conflict: list[str] | None,
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """Insert many rows, skipping duplicates; return `returning` of the rows inserted.
    One statement compiled once and sent as a batch ("insertmanyvalues"). `conflict`
    None skips a row that collides with any unique constraint."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(table)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(*(table.c[name] for name in returning))
    )
    return [tuple(row) for row in session.execute(stmt, rows)]


def insert_ignore_from(
    session: Session, table: sa.Table, select: sa.Select[Any], conflict: list[str]
) -> sa.Insert:
    """INSERT INTO table SELECT …, skipping rows already there."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    names = [c.name for c in select.selected_columns]
    stmt = module.insert(table).from_select(names, select)
    return stmt.on_conflict_do_nothing(index_elements=conflict)


def for_update_skip_locked(session: Session, stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Row locks that other replicas skip, on PostgreSQL; SQLite has a single writer."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def clip(value: str | None, limit: int) -> str:
    """Truncate text to a column's length."""
    return (value or "")[:limit]
