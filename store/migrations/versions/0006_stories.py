"""stories: a story for every article, the band-key index, one hit per (rule, story)

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", _ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_articles_story_id"), ["story_id"], unique=False)
    # Articles stored before stories existed each tell a story of their own.
    op.execute("UPDATE articles SET story_id = id")

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
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.create_index("ix_story_keys_created_at", ["created_at"], unique=False)

    # A plain ADD COLUMN: in batch mode SQLite would rebuild `rules`, and dropping the
    # old table, with foreign keys on, cascades to every hit.
    op.add_column(
        "rules", sa.Column("per_story", sa.Boolean(), server_default=sa.true(), nullable=False)
    )

    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", _ID, nullable=True))
        batch_op.create_index("uq_hits_story_rule", ["story_id", "rule_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index("uq_hits_story_rule")
        batch_op.drop_column("story_id")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_column("per_story")
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_story_keys_created_at")
    op.drop_table("story_keys")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_story_id"))
        batch_op.drop_column("story_id")
