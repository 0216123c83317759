"""One alert per (rule, story) through the real refresh path: copies from two feeds, a
restart between copies, and two replicas racing on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import FetchLimits, Ingest, refresh_feed
from monitor.fetch import make_client
from net.guard import Guard
from store import create_engine, session_scope
from store.feeds import claim_due_feeds
from store.rules import create_rule, rules_changed_since
from store.users import create_user
from store.values import FeedClaim
from tests.support.databases import POSTGRES_ONLY
from tests.support.feeds import Item, rss
from tests.support.polling import make_ingest, new_feed
from tests.support.servers import FeedServer

WORDS = [f"kata{n}" for n in range(3000)]


def copies(n: int) -> tuple[Item, Item]:
    """Round `n`'s wire story as two outlets run it: another headline, a byline, and
    boilerplate. Each round's story shares no text with another round's."""
    rng = random.Random(n)
    body = " ".join(["Huawei", "ByteDance", *rng.sample(WORDS, 90)])
    a = Item(f"a-{n}", f"Huawei and ByteDance: story {n}", body, link=f"https://a.example/{n}")
    b = Item(
        f"b-{n}",
        f"Sources say ByteDance deal with Huawei ({n})",
        f"By a staff reporter. {body} Read more on our site. Follow us for updates.",
        link=f"https://b.example/{n}",
    )
    return a, b


def _limits(port: int) -> FetchLimits:
    return FetchLimits(timeout_seconds=30, guard=Guard(allowlist=(f"127.0.0.1:{port}",)))


def _seed_rules(engine: Engine, **per_story: bool) -> dict[str, int]:
    """A user with one rule per name given; `per_story` as given."""
    with session_scope(engine) as session:
        user = create_user(session=session, name="u", now=_now())
        ids = {
            name: create_rule(
                session=session,
                user_id=user.id or 0,
                name=name,
                query="Huawei AND ByteDance",
                now=_now(),
                per_story=flag,
            ).id
            or 0
            for name, flag in per_story.items()
        }
    return ids


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _claims(engine: Engine, feed_ids: list[int]) -> list[FeedClaim]:
    """Lease these (new, hence due) feeds, in this order."""
    with session_scope(engine) as session:
        leased = claim_due_feeds(
            session=session, owner="test", now=_now(), lease_seconds=120, limit=1000
        )
    by_id = {c.id: c for c in leased}
    return [by_id[f] for f in feed_ids]


def _sync(engine: Engine, ingest: Ingest) -> None:
    with session_scope(engine, readonly=True) as session:
        ingest.matcher.apply(rules_changed_since(session=session, since=None))


def _hits(engine: Engine, rule_id: int) -> list[tuple[int, int, int | None]]:
    with session_scope(engine, readonly=True) as session:
        return [
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
                sa.text(
                    "SELECT h.id, h.article_id, a.story_id FROM hits h"
                    " JOIN articles a ON a.id = h.article_id WHERE h.rule_id = :r ORDER BY h.id"
                ),
                {"r": rule_id},
            )
        ]


def _deliveries(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        return int(session.execute(sa.text("SELECT count(*) FROM deliveries")).scalar_one())


@contextmanager
def _ingest(engine: Engine, server: FeedServer) -> Iterator[Any]:
    """An event loop and an `Ingest` of its own, as one replica process would have."""
    loop = asyncio.new_event_loop()
    limits = _limits(server.port)
    client = make_client(limits)
    ingest = make_ingest(engine, client, limits)
    _sync(engine, ingest)
    try:
        yield loop, ingest
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def test_copies_from_two_feeds_alert_once(engine: Engine) -> None:
    """The second outlet's copy joins the story and the hit; a `per_story: false` rule
    alerts on both copies."""
    rules = _seed_rules(engine, once=True, every=False)
    first, second = copies(1)
    with FeedServer() as server:
        feed_a = new_feed(engine, server.set_feed("/a.xml", rss([first], title="Outlet A")))
        feed_b = new_feed(engine, server.set_feed("/b.xml", rss([second], title="Outlet B")))
        claim_a, claim_b = _claims(engine, [feed_a, feed_b])
        with _ingest(engine, server) as (loop, ingest):
            assert loop.run_until_complete(refresh_feed(claim_a, ingest)).new_articles == 1
            assert loop.run_until_complete(refresh_feed(claim_b, ingest)).new_articles == 1
    [(_, _, story)] = _hits(engine, rules["once"])
    every = _hits(engine, rules["every"])
    assert len(every) == 2 and {s for _, _, s in every} == {story}
    assert _deliveries(engine) == 0  # the user has no channel: no outbox rows either way


def test_a_restart_between_copies_still_alerts_once(engine: Engine, db_url: str) -> None:
    """The index is in the database: a fresh process (new engine, new rule index) that
    ingests the second copy finds the first one's story and its hit."""
    rules = _seed_rules(engine, once=True)
    first, second = copies(2)
    with FeedServer() as server:
        feed_a = new_feed(engine, server.set_feed("/a.xml", rss([first], title="Outlet A")))
        feed_b = new_feed(engine, server.set_feed("/b.xml", rss([second], title="Outlet B")))
        claim_a, claim_b = _claims(engine, [feed_a, feed_b])
        before = create_engine(db_url)
        with _ingest(before, server) as (loop, ingest):
            loop.run_until_complete(refresh_feed(claim_a, ingest))
        before.dispose()
        after = create_engine(db_url)
        with _ingest(after, server) as (loop, ingest):
            loop.run_until_complete(refresh_feed(claim_b, ingest))
        after.dispose()
    assert len(_hits(engine, rules["once"])) == 1
    with session_scope(engine, readonly=True) as session:
        stories = session.execute(sa.text("SELECT DISTINCT story_id FROM articles")).all()
    assert len(stories) == 1


ROUNDS = 20


@POSTGRES_ONLY
def test_two_replicas_ingesting_copies_at_once_alert_once(engine: Engine, db_url: str) -> None:
    """Two pollers, each with its own connection pool and rule index, ingest the two copies
    of a story at the same moment, 20 times over: one hit every time. Both transactions
    are held at the story lock until both have stored their article, so every round is
    the race itself, not a lucky interleaving."""
    rules = _seed_rules(engine, once=True)
    replicas = [create_engine(db_url), create_engine(db_url)]
    barrier = threading.Barrier(2, timeout=120)
    arrivals: list[str] = []

    def at_lock(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_advisory_xact_lock" in statement:
            arrivals.append(threading.current_thread().name)
            barrier.wait()

    for replica in replicas:
        sa.event.listen(replica, "before_cursor_execute", at_lock)
    try:
        with FeedServer() as server:
            for n in range(ROUNDS):
                first, second = copies(100 + n)
                feed_a = new_feed(engine, server.set_feed(f"/a{n}.xml", rss([first])))
                feed_b = new_feed(engine, server.set_feed(f"/b{n}.xml", rss([second])))
                results = _race(server, replicas, _claims(engine, [feed_a, feed_b]))
                assert [r.new_articles for r in results] == [1, 1]
                hits = _hits(engine, rules["once"])
                assert len(hits) == n + 1, f"round {n}: {hits}"
                with session_scope(engine, readonly=True) as session:
                    stories = session.execute(
                        sa.text(
                            "SELECT DISTINCT a.story_id FROM articles a"
                            " JOIN feed_articles fa ON fa.article_id = a.id"
                            " WHERE fa.feed_id IN (:a, :b)"
                        ),
                        {"a": feed_a, "b": feed_b},
                    ).all()
                assert len(stories) == 1, f"round {n}: two stories"
    finally:
        for replica in replicas:
            replica.dispose()
    assert len(arrivals) == 2 * ROUNDS


def _race(server: FeedServer, replicas: list[Engine], claims: list[FeedClaim]) -> list[Any]:
    """Poll one feed on each replica, each in a thread with its own event loop."""
    results: list[Any] = [None, None]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with _ingest(replicas[n], server) as (loop, ingest):
                results[n] = loop.run_until_complete(refresh_feed(claims[n], ingest))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,), name=f"replica-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_the_parse_makes_the_fingerprints_matching_would() -> None:
    """The parse pool fingerprints each item key once, and what crosses the process
    boundary is the fingerprint the story index would make from the stored article."""
    from datetime import UTC, datetime

    from monitor.normalise import parse_and_normalise
    from monitor.parse import ParseLimits
    from monitor.refresh import _unsaved
    from monitor.story_index import article_fingerprint
    from stories import unpack

    now = datetime.now(UTC)
    a, b = copies(7)
    cjk = Item("c", "华为与字节跳动合作", "华为与腾讯合作，字节跳动发布新芯片 Ascend 910B。")
    again = Item("a-7", "the same guid again", "other words entirely")
    _, articles, packed = parse_and_normalise(
        rss([a, b, cjk, again]),
        {"content-type": "application/rss+xml"},
        feed_url="https://example.com/feed",
        fetched_at=now,
        limits=ParseLimits(),
    )
    assert len(articles) == 4 and set(packed) == {x.item_key for x in articles}
    for article in articles[:3]:  # as matching sees the article (`_unsaved`)
        made = unpack(packed[article.item_key])
        assert made == article_fingerprint(_unsaved(article, now))
        assert made.band_keys and made.shingles
