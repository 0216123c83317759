"""Database constraints enforce the dedupe guarantees, not only code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from monitor.normalise import Article as NormalArticle
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.rules import create_rule
from store.tables import Article, Delivery, Hit
from store.values import NewHit
from store.webhooks import create_webhook
from tests.conftest import make_user

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _article(key: str, url: str) -> NormalArticle:
    return NormalArticle(
        item_key=key,
        url=url,
        canonical_url=url,
        title="t",
        summary="s",
        content="",
        language="id",
        author="",
        published_at=NOW,
    )


def test_same_story_in_two_feeds_is_one_article(engine: Engine) -> None:
    """The same canonical URL through two feeds stores one article, new only once."""
    with session_scope(engine) as s:
        a, _ = add_feed(session=s, url="http://a.example/f", now=NOW)
        b, _ = add_feed(session=s, url="http://b.example/f", now=NOW)
        first = insert_new_articles(
            session=s, feed_id=a.id, articles=[_article("k1", "https://x.example/1")], now=NOW
        )
        second = insert_new_articles(
            session=s, feed_id=b.id, articles=[_article("k9", "https://x.example/1")], now=NOW
        )
        again = insert_new_articles(
            session=s, feed_id=a.id, articles=[_article("k1", "https://x.example/1")], now=NOW
        )
        assert len(first) == 1 and second == [] and again == []
        assert s.execute(sa.select(sa.func.count()).select_from(Article)).scalar_one() == 1


def test_hits_and_deliveries_are_unique(engine: Engine) -> None:
    """Recording the same hit twice makes one hit and one delivery per channel."""
    user_id, _ = make_user(engine, "u")
    with session_scope(engine) as s:
        feed, _ = add_feed(session=s, url="http://a.example/f", now=NOW)
        [article] = insert_new_articles(
            session=s, feed_id=feed.id, articles=[_article("k", "https://x.example/2")], now=NOW
        )
        rule = create_rule(session=s, user_id=user_id, name="r", query="t", now=NOW)
        create_webhook(
            session=s, user_id=user_id, url="http://127.0.0.1:9/", secret="whsec_AAAA", now=NOW
        )
        hit = NewHit(rule.id, article.id, "s", ("t",))
        assert len(record_hits_and_enqueue(session=s, hits=[hit], now=NOW)) == 1
        assert record_hits_and_enqueue(session=s, hits=[hit, hit], now=NOW) == []
        assert s.execute(sa.select(sa.func.count()).select_from(Hit)).scalar_one() == 1
        assert s.execute(sa.select(sa.func.count()).select_from(Delivery)).scalar_one() == 1

    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.execute(
            sa.insert(Hit).values(
                rule_id=rule.id,
                article_id=article.id,
                user_id=user_id,
                snippet="",
                matched_terms=[],
                created_at=NOW,
            )
        )


def test_sqlite_runs_in_wal_with_foreign_keys(engine: Engine) -> None:
    """SQLite is in WAL mode with foreign keys enforced."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_connections_keep_the_writers_pages(engine: Engine) -> None:
    """Each SQLite connection caches 32 MB of pages and checkpoints every 10,000 WAL pages,
    and the pool hands out the connection used last (whose cache holds what it wrote)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as first, engine.connect() as second:
        assert first.exec_driver_sql("PRAGMA cache_size").scalar() == -32_768
        assert first.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
        older = second.connection.dbapi_connection
        last = first.connection.dbapi_connection
    # `first` went back last (the with statement closes `second` first).
    with engine.connect() as again:
        assert again.connection.dbapi_connection is last
        assert again.connection.dbapi_connection is not older
