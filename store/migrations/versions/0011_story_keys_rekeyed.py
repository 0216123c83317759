"""story keys re-keyed: shingles are now a mix of their units' hashes (a third of the cost
to compute), so every band key changed; the articles indexed so far are fingerprinted
again, and their keys replace the old ones

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stories import fingerprints, story_text

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)
_BATCH = 2000  # articles read and fingerprinted at a time


def upgrade() -> None:
    """The articles that have keys are those inside the story window (pruning dropped the
    rest): each gets the keys of the current shingles, in the large tier."""
    bind = op.get_bind()
    indexed = sorted(
        bind.execute(
            sa.text(
                "SELECT article_id FROM story_keys UNION SELECT article_id FROM story_keys_recent"
            )
        ).scalars()
    )
    op.execute("DELETE FROM story_keys")
    op.execute("DELETE FROM story_keys_recent")
    texts = sa.text("SELECT id, title, summary, content FROM articles WHERE id IN :ids")
    texts = texts.bindparams(sa.bindparam("ids", expanding=True))
    insert = sa.text("INSERT INTO story_keys (key, article_id) VALUES (:key, :article_id)")
    for start in range(0, len(indexed), _BATCH):
        rows = bind.execute(texts, {"ids": indexed[start : start + _BATCH]}).all()
        made = fingerprints([(r.title, story_text(r.summary, r.content)) for r in rows])
        keys = sorted({(k, r.id) for r, fp in zip(rows, made, strict=True) for k in fp.band_keys})
        if keys:
            bind.execute(insert, [{"key": k, "article_id": a} for k, a in keys])
        log.info("story keys: %d of %d articles re-keyed", start + len(rows), len(indexed))


def downgrade() -> None:
    """The keys of the older shingles cannot be made without the older code: the index is
    emptied. Until the window has passed, a copy of a story stored before starts a story
    of its own."""
    op.execute("DELETE FROM story_keys")
    op.execute("DELETE FROM story_keys_recent")
