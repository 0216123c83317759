"""Alembic environment: the engine comes from `store.migrate`, never from a config file."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from store.tables import metadata

# Serialises concurrent `migrate` runs of several replicas on PostgreSQL.
_MIGRATION_LOCK_ID = 0x6E657773


def run_migrations_online() -> None:
    engine: sa.Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
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
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID}
                )
                connection.commit()


run_migrations_online()
