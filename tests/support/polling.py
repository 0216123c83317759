"""Running single polls of a feed through the real refresh path, for monitor tests."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from monitor import FetchLimits, Ingest, ParseLimits, PollPolicy, RuleMatcher, refresh_feed
from monitor.recorder import StateRecorder
from store import session_scope
from store.feeds import add_feed, claim_due_feeds, get_feed, request_poll
from store.tables import Feed
from store.values import PollResult


class CountingExecutor(Executor):
    """A real thread pool that counts the jobs it was given (here: parses)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(2)
        self.jobs = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.jobs += 1
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def make_ingest(
    engine: Engine,
    client: httpx.AsyncClient,
    limits: FetchLimits,
    *,
    clock: Callable[[], datetime] | None = None,
    parse_pool: Executor | None = None,
    policy: PollPolicy | None = None,
    recorder: StateRecorder | None = None,
) -> Ingest:
    return Ingest(
        engine=engine,
        client=client,
        matcher=RuleMatcher(),
        fetch_limits=limits,
        parse_limits=ParseLimits(max_body_bytes=limits.max_bytes),
        policy=policy or PollPolicy(),
        clock=clock or (lambda: datetime.now(UTC)),
        parse_pool=parse_pool,
        recorder=recorder,
    )


def new_feed(engine: Engine, url: str, now: datetime | None = None) -> int:
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url=url, now=now or datetime.now(UTC))
    assert feed.id is not None
    return feed.id


def feed_row(engine: Engine, feed_id: int) -> Feed:
    with session_scope(engine, readonly=True) as session:
        row = get_feed(session=session, feed_id=feed_id)
    assert row is not None
    return row.feed


async def poll_now(engine: Engine, ingest: Ingest, feed_id: int) -> PollResult:
    """Make the feed due, claim it, and run one refresh."""
    now = ingest.clock()
    with session_scope(engine) as session:
        request_poll(session=session, feed_id=feed_id, now=now)
        claims = claim_due_feeds(
            session=session, owner="test", now=now, lease_seconds=60, limit=100
        )
    (claim,) = [c for c in claims if c.id == feed_id]
    return await refresh_feed(claim, ingest)
