"""full text: the per-feed mode, the article's page text and page queue, and leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("full_text", sa.String(length=8), server_default="auto", nullable=False)
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("text_source", sa.String(length=8), server_default="feed", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "page_status", sa.String(length=300), server_default="skipped", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("page_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("page_next_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("page_lease_owner", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "page_lease_expires_at", store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_articles_page_next_at"), ["page_next_at"], unique=False
        )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_page_next_at"))
        for name in (
            "page_lease_expires_at",
            "page_lease_owner",
            "page_next_at",
            "page_attempts",
            "page_status",
            "text_source",
            "text",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("full_text")
