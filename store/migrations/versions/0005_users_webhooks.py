"""unique user names (existing duplicates renamed), disabled users, webhook secret rotation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename_duplicate_names() -> None:
    """Keep the oldest user of each name as is; rename the others `name-<id>` (suffixed
    again in the unlikely case that this is taken too), so that no token is lost."""
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.BigInteger()), sa.column("name", sa.String()))
    rows = conn.execute(sa.select(users.c.id, users.c.name).order_by(users.c.id)).all()
    taken = {name for _, name in rows}
    seen: set[str] = set()
    for user_id, name in rows:
        if name not in seen:
            seen.add(name)
            continue
        base = f"{name[:180]}-{user_id}"
        new, n = base, 1
        while new in taken:
            n += 1
            new = f"{base}-{n}"
        taken.add(new)
        seen.add(new)
        conn.execute(sa.update(users).where(users.c.id == user_id).values(name=new))


def upgrade() -> None:
    _rename_duplicate_names()
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("disabled_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_unique_constraint("uq_users_name", ["name"])
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(
            sa.Column("previous_secret", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column(
                "previous_secret_expires_at", store.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_name", type_="unique")
        batch.drop_column("disabled_at")
