"""Seed a database with a user's objects through the store, for API tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.normalise import Article
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.values import NewHit, StoredArticle


def seed_article(
    session: Session,
    *,
    url: str,
    now: datetime,
    title: str = "ByteDance and Huawei sign a deal",
    summary: str = "ByteDance and Huawei agreed on chips.",
    feed_url: str = "http://127.0.0.1:9/seed.xml",
    feed_title: str = "",
) -> StoredArticle:
    """Store an article in a (loopback) feed, which gets `feed_title` when one is given."""
    article = Article(
        item_key=url,
        url=url,
        canonical_url=url,
        title=title,
        summary=summary,
        content="",
        language="en",
        author="",
        published_at=now,
    )
    feed, _ = add_feed(session=session, url=feed_url, now=now)
    if feed_title:
        feed.title = feed_title
        session.add(feed)
    [stored] = insert_new_articles(
        session=session, feed_id=feed.id or 0, articles=[article], now=now
    )
    return stored


def seed_hit(
    engine: Engine,
    *,
    rule_id: int,
    url: str = "https://news.example/bd-hw",
    now: datetime | None = None,
) -> int:
    """Store an article in a feed and record a hit of `rule_id` on it at `now`; return
    the hit id."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        stored = seed_article(session, url=url, now=now)
        hit = NewHit(rule_id, stored.id, "**ByteDance** and **Huawei**", ("bytedance", "huawei"))
        [hit_id] = record_hits_and_enqueue(session=session, hits=[hit], now=now)
    return hit_id
