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
from stories import BANDS, fingerprint


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


def test_upgrade_keeps_existing_data(db_url: str) -> None:
    """A database at 0001 with articles, rules and hits upgrades: each old article is a
    story of its own, old rules alert per story, and no hit or delivery is lost."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from store import create_engine
    from store.migrate import upgrade

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(
                    sa.text(f"DROP TABLE IF EXISTS {table.name} CASCADE")
                    if engine.dialect.name == "postgresql"
                    else sa.text(f"DROP TABLE IF EXISTS {table.name}")
                )
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(engine, "0001")  # every later migration runs over the data
        now = datetime(2026, 11, 30, tzinfo=UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'u', false, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO rules (id, user_id, name, query, enabled, created_at, updated_at)"
                    " VALUES (1, 1, 'r', 'Huawei', true, :t, :t)"
                ),
                {"t": now},
            )
            for n in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO articles (id, url, canonical_url, title, summary, content, language,"
                        " author, fetched_at, created_at) VALUES (:n, '', '', 'Huawei', 's', '', 'en', '', :t, :t)"
                    ),
                    {"n": n, "t": now},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO hits (id, rule_id, article_id, user_id, snippet, created_at)"
                        " VALUES (:n, 1, :n, 1, 's', :t)"
                    ),
                    {"n": n, "t": now},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO deliveries (hit_id, user_id, channel_kind, channel_id, event_type, status,"
                    " attempts, next_attempt_at, lease_owner, last_error, created_at, updated_at)"
                    " VALUES (1, 1, 'webhook', 1, 'hit.created', 'pending', 0, :t, '', '', :t, :t)"
                ),
                {"t": now},
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, story_id FROM articles ORDER BY id")).all() == [
                (1, 1),
                (2, 2),
            ]
            assert conn.execute(sa.text("SELECT per_story FROM rules")).scalar_one() in (True, 1)
            assert conn.execute(sa.text("SELECT count(*) FROM hits")).scalar_one() == 2
            assert conn.execute(sa.text("SELECT count(*) FROM deliveries")).scalar_one() == 1
    finally:
        engine.dispose()


def test_0010_keeps_the_story_keys_both_ways(db_url: str) -> None:
    """0010 moves the indexed band keys into the recent tier (the first ingest then moves
    them on), and its downgrade brings them back with their article's time."""
    engine = create_engine(db_url)
    try:
        downgrade(engine, "0009")
        created = datetime(2026, 12, 1, 12, tzinfo=UTC)
        with engine.begin() as conn:
            article = conn.execute(
                sa.text(
                    "INSERT INTO articles (url, canonical_url, title, summary, content,"
                    " language, author, fetched_at, created_at, text, text_source,"
                    " page_status, page_attempts, page_lease_owner)"
                    " VALUES ('u', 'u', 't', 's', '', 'en', '', :t, :t, '', 'feed',"
                    " 'skipped', 0, '') RETURNING id"
                ),
                {"t": created},
            ).scalar_one()
            for key in (-5, 7, 2**62):
                conn.execute(
                    sa.text("INSERT INTO story_keys VALUES (:k, :a, :t)"),
                    {"k": key, "a": article, "t": created},
                )
        upgrade(engine, "0010")
        with engine.connect() as conn:
            recent = conn.execute(sa.text("SELECT key, article_id FROM story_keys_recent"))
            assert sorted(recent) == [(-5, article), (7, article), (2**62, article)]
        downgrade(engine, "0009")
        with engine.connect() as conn:
            back = conn.execute(sa.text("SELECT key, article_id, created_at FROM story_keys"))
            assert sorted((k, a) for k, a, _ in back) == [
                (-5, article),
                (7, article),
                (2**62, article),
            ]
        upgrade(engine)
    finally:
        engine.dispose()


def test_0011_gives_the_indexed_articles_the_current_keys(db_url: str) -> None:
    """0011 replaces the keys of every indexed article (in either tier) with those of the
    current fingerprint, and leaves articles without keys (out of the window) out; its
    downgrade empties the index (the older keys cannot be made again)."""
    engine = create_engine(db_url)
    try:
        downgrade(engine, "0010")
        created = datetime(2026, 12, 1, 12, tzinfo=UTC)
        texts = {
            "in the large tier": "Huawei supplies chips to ByteDance for its new data centres",
            "in the recent tier": "华为 向 字节跳动 供应 芯片 用于 新 数据 中心 的 建设",
            "out of the window": "An older story whose keys were pruned with the window",
        }
        ids = {}
        with engine.begin() as conn:
            for title, text in texts.items():
                ids[title] = conn.execute(
                    sa.text(
                        "INSERT INTO articles (url, canonical_url, title, summary, content,"
                        " language, author, fetched_at, created_at, text, text_source,"
                        " page_status, page_attempts, page_lease_owner)"
                        " VALUES ('', '', :title, :text, '', 'en', '', :t, :t, '', 'feed',"
                        " 'skipped', 0, '') RETURNING id"
                    ),
                    {"title": title, "text": text, "t": created},
                ).scalar_one()
            conn.execute(
                sa.text("INSERT INTO story_keys VALUES (1, :a), (2, :a)"),
                {"a": ids["in the large tier"]},
            )
            conn.execute(
                sa.text("INSERT INTO story_keys_recent VALUES (3, :a)"),
                {"a": ids["in the recent tier"]},
            )
        upgrade(engine, "0011")
        with engine.connect() as conn:
            large = sorted(conn.execute(sa.text("SELECT key, article_id FROM story_keys")))
            recent = conn.execute(sa.text("SELECT count(*) FROM story_keys_recent")).scalar()
        expected = sorted(
            {
                (key, ids[title])
                for title in ("in the large tier", "in the recent tier")
                for key in fingerprint(title, texts[title]).band_keys
            }
        )
        assert len(expected) >= 2 * BANDS
        assert (large, recent) == (expected, 0)
        downgrade(engine, "0010")
        with engine.connect() as conn:
            left = conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM story_keys)"
                    " + (SELECT count(*) FROM story_keys_recent)"
                )
            ).scalar()
        assert left == 0
        upgrade(engine)
    finally:
        engine.dispose()
