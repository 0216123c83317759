"""Feed scope through the real refresh path on SQLite and PostgreSQL: a story that feed A
stored first still alerts the rules limited to feed B, or naming B, when B carries it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import FetchLimits
from monitor.fetch import make_client
from net.guard import Guard
from store import session_scope
from store.rules import create_rule, rules_changed_since
from store.users import create_user
from tests.support.feeds import BYTEDANCE_HUAWEI, rss
from tests.support.polling import make_ingest, new_feed, poll_now
from tests.support.servers import FeedServer


def test_a_story_stored_by_feed_a_alerts_rules_of_feed_b(engine: Engine) -> None:
    """Scoped to B, naming B, and unscoped rules: each hits the story once."""
    with FeedServer() as server:
        url_a = server.set_feed("/a.xml", rss([BYTEDANCE_HUAWEI], title="Antara Tekno"))
        url_b = server.set_feed("/b.xml", rss([BYTEDANCE_HUAWEI], title="Berita Bisnis"))
        limits = FetchLimits(
            timeout_seconds=5, guard=Guard(allowlist=(f"127.0.0.1:{server.port}",))
        )
        now = datetime.now(UTC)
        feed_a = new_feed(engine, url_a)
        with session_scope(engine) as session:
            uid = create_user(session=session, name="u", now=now).id or 0
            named = create_rule(
                session=session, user_id=uid, name="n", query="feed:bisnis huawei", now=now
            ).id
            anywhere = create_rule(session=session, user_id=uid, name="a", query="huawei", now=now)

        async def go() -> tuple[int, int]:
            async with make_client(limits) as client:
                ingest = make_ingest(engine, client, limits)
                with session_scope(engine) as session:
                    ingest.matcher.apply(rules_changed_since(session=session, since=None))
                first = await poll_now(engine, ingest, feed_a)
                # Feed B is added later (its own poll claims it) and carries the story too.
                feed_b = new_feed(engine, url_b)
                with session_scope(engine) as session:
                    rule = create_rule(
                        session=session,
                        user_id=uid,
                        name="b",
                        query="huawei",
                        now=now,
                        feed_ids=[feed_b],
                    )
                    scoped.append(rule.id or 0)
                    ingest.matcher.apply(rules_changed_since(session=session, since=None))
                second = await poll_now(engine, ingest, feed_b)
                return first.new_articles, second.new_articles

        scoped: list[int] = []
        assert asyncio.run(go()) == (1, 0)  # one story, stored once
    with session_scope(engine, readonly=True) as session:
        hits = session.execute(sa.text("SELECT rule_id, article_id FROM hits")).all()
    assert sorted(r for r, _ in hits) == sorted([*scoped, named, anywhere.id])
    assert len({a for _, a in hits}) == 1
