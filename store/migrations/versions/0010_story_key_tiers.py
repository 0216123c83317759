"""story key tiers: the band-key index in a small recent tier and a large one, keyed by
(key, article) alone (no time, no foreign key; without a rowid on SQLite)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create(name: str) -> None:
    op.create_table(
        name,
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", _ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    # The keys indexed so far wait in the recent tier; the first ingest moves them.
    _create("story_keys_recent")
    op.execute(
        "INSERT INTO story_keys_recent (key, article_id) SELECT key, article_id FROM story_keys"
    )
    op.drop_index("ix_story_keys_created_at", table_name="story_keys")
    op.drop_table("story_keys")
    _create("story_keys")


def downgrade() -> None:
    op.execute(
        "INSERT INTO story_keys_recent (key, article_id) SELECT key, article_id FROM story_keys"
    )
    op.drop_table("story_keys")
    op.create_table(
        "story_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", _ID, autoincrement=False, nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_story_keys_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_story_keys")),
    )
    op.create_index("ix_story_keys_created_at", "story_keys", ["created_at"], unique=False)
    # Each key keeps its article's time (the keys of articles gone since are dropped).
    op.execute(
        "INSERT INTO story_keys (key, article_id, created_at)"
        " SELECT k.key, k.article_id, a.created_at"
        " FROM story_keys_recent k JOIN articles a ON a.id = k.article_id"
    )
    op.drop_table("story_keys_recent")
