"""Seed a database with a user's objects through the store, for API tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from monitor.normalise import Article
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.values import NewHit


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
    article = Article(
        item_key=url,
        url=url,
        canonical_url=url,
        title="ByteDance and Huawei sign a deal",
        summary="ByteDance and Huawei agreed on chips.",
        content="",
        language="en",
        author="",
        published_at=now,
    )
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="http://127.0.0.1:9/seed.xml", now=now)
        [stored] = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=[article], now=now
        )
        hit = NewHit(rule_id, stored.id, "**ByteDance** and **Huawei**", ("bytedance", "huawei"))
        [hit_id] = record_hits_and_enqueue(session=session, hits=[hit], now=now)
    return hit_id
