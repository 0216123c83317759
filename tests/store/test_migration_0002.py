"""Migration 0002 (full text) upgrades a database that already holds feeds and articles,
and goes back down, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from store.migrate import _config, current_revision, upgrade

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_0002_upgrades_existing_rows(engine: Engine) -> None:
    """Down to 0001, store a feed and an article, up again: they get the defaults
    (`auto`; text from the feed, page skipped, nothing queued)."""
    command.downgrade(_config(engine), "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO feeds (url, title, site_url, language, status, error_count,"
                " last_error, next_poll_at, etag, last_modified, body_hash, lease_owner,"
                " created_at) VALUES ('https://a.example/f', '', '', '', 'new', 0, '',"
                " :now, '', '', '', '', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO articles (url, canonical_url, title, summary, content, language,"
                " author, fetched_at, created_at) VALUES ('u', 'u', 't', 's', '', '', '',"
                " :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT full_text FROM feeds")).scalar_one() == "auto"
        row = conn.execute(
            sa.text(
                "SELECT text, text_source, page_status, page_attempts, page_next_at FROM articles"
            )
        ).one()
    assert tuple(row) == ("", "feed", "skipped", 0, None)
