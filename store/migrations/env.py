"""Alembic environment: the engine comes from `store.migrate`, never from a config file."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from store.tables import metadata

# Serialises concurrent `migrate` runs of several replicas on PostgreSQL.
_MIGRATION_LOCK_ID = 0x6E657773


def _sqlite_foreign_keys(connection: sa.Connection, on: bool) -> None:
    """Batch migrations rebuild a SQLite table by copy, drop and rename. With foreign keys
    on, dropping a parent (users, rules, articles) runs its ON DELETE CASCADE and empties
    its children, so they are off while migrations run. The pragma is a no-op inside a
    transaction: it goes straight to the driver, whose connection is in autocommit mode."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def run_migrations_online() -> None:
    engine: sa.Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID}
                )
                connection.commit()


run_migrations_online()
