"""Group commit of polls (`StateRecorder`) on SQLite and PostgreSQL: polls that finish
together share one transaction, each keeps its own articles, hits and state, and a poll
that cannot be written fails alone."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from monitor.dedupe import item_key
from monitor.normalise import Article
from monitor.recorder import PollWrite, StateRecorder, Written
from store import session_scope
from store.feeds import add_feed, claim_due_feeds
from store.rules import create_rule
from store.users import create_user
from store.values import FeedClaim, NewHit, PollResult

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class CountingRecorder(StateRecorder):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.transactions: list[int] = []

    def _commit(self, writes: list[PollWrite]) -> list[Written | BaseException]:
        self.transactions.append(len(writes))
        return super()._commit(writes)


def article(feed: int, n: int) -> Article:
    url = f"https://news.example/{feed}/{n}"
    return Article(
        item_key=item_key(guid="", link=url, title=f"t{n}", summary=""),
        url=url,
        canonical_url=url,
        title=f"Story {n} of feed {feed}",
        summary="Huawei and ByteDance",
        content="",
        language="en",
        author="",
        published_at=NOW - timedelta(minutes=n),
    )


def claims(engine: Engine, feeds: int) -> tuple[list[FeedClaim], int]:
    with session_scope(engine) as session:
        user = create_user(session=session, name="u", now=NOW)
        rule = create_rule(session=session, user_id=user.id or 0, name="r", query="Huawei", now=NOW)
        for n in range(feeds):
            add_feed(session=session, url=f"https://news.example/{n}.xml", now=NOW)
        leased = claim_due_feeds(
            session=session, owner="test", now=NOW, lease_seconds=60, limit=feeds
        )
    assert len(leased) == feeds and rule.id is not None
    return leased, rule.id


def ok_write(claim: FeedClaim, rule_id: int, articles: list[Article]) -> PollWrite:
    result = PollResult("ok", NOW + timedelta(minutes=30), body_hash=f"h{claim.id}")
    hits = {a.item_key: [NewHit(rule_id, 0, a.summary, ("huawei",))] for a in articles}
    return PollWrite(claim, result, NOW, articles, hits)


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine, readonly=True) as session:
        return {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("articles", "feed_articles", "hits")
        }


def test_polls_that_finish_together_share_a_transaction(engine: Engine) -> None:
    leased, rule_id = claims(engine, 12)
    recorder = CountingRecorder(engine)
    # Feeds 0 and 1 carry the same story: one article, one hit, attributed to one poll.
    shared = article(99, 0)
    writes = [
        ok_write(claim, rule_id, [article(claim.id, n) for n in range(3)] + [shared])
        if n < 2
        else PollWrite(claim, PollResult("not_modified", NOW + timedelta(hours=1)), NOW)
        for n, claim in enumerate(leased)
    ]

    async def go() -> list[Written]:
        return await asyncio.gather(*(recorder.write(w) for w in writes))

    written = asyncio.run(go())
    assert recorder.transactions == [12]
    assert [w.result.new_articles for w in written[:2]] == [4, 3]  # the shared story once
    assert [len(w.hit_ids) for w in written] == [4, 3] + [0] * 10
    assert counts(engine) == {"articles": 7, "feed_articles": 8, "hits": 7}
    with session_scope(engine, readonly=True) as session:
        states = dict(session.execute(text("SELECT id, status FROM feeds")).all())
        leases = session.execute(
            text("SELECT count(*) FROM feeds WHERE lease_expires_at IS NOT NULL")
        ).scalar_one()
    assert len(states) == 12 and set(states.values()) == {"ok"}
    assert leases == 0


def test_a_poll_that_cannot_be_written_fails_alone(engine: Engine) -> None:
    leased, rule_id = claims(engine, 3)
    recorder = CountingRecorder(engine)
    # A feed deleted while it was polled: its feed_articles rows break a foreign key.
    ghost = dataclasses.replace(leased[1], id=10_000)
    writes = [
        ok_write(claim, rule_id, [article(claim.id, n) for n in range(2)])
        for claim in (leased[0], ghost, leased[2])
    ]

    async def go() -> list[Written | BaseException]:
        return await asyncio.gather(*(recorder.write(w) for w in writes), return_exceptions=True)

    first, failed, third = asyncio.run(go())
    assert isinstance(failed, Exception)
    assert isinstance(first, Written) and isinstance(third, Written)
    assert (first.result.new_articles, third.result.new_articles) == (2, 2)
    assert recorder.transactions == [3]  # then each alone, inside the same call
    assert counts(engine) == {"articles": 4, "feed_articles": 4, "hits": 4}


@pytest.mark.parametrize("max_articles", [3, 1000])
def test_batches_are_bounded_by_their_articles(engine: Engine, max_articles: int) -> None:
    leased, rule_id = claims(engine, 4)
    recorder = CountingRecorder(engine)
    recorder.max_articles = max_articles
    writes = [ok_write(c, rule_id, [article(c.id, n) for n in range(2)]) for c in leased]

    async def go() -> None:
        await asyncio.gather(*(recorder.write(w) for w in writes))

    asyncio.run(go())
    assert recorder.transactions == ([1, 1, 1, 1] if max_articles == 3 else [4])
    assert counts(engine)["articles"] == 8
