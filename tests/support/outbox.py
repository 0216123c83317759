"""Seed the outbox directly through `store/`: rules, a webhook, and hits with deliveries."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.normalise import Article as NormalArticle
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy, WebhookLimits
from notifiers.webhook import make_sender, make_transport, new_secret
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.rules import create_rule
from store.tables import Delivery
from store.values import NewHit
from store.webhooks import create_webhook


def utcnow() -> datetime:
    return datetime.now(UTC)


def add_rules(engine: Engine, user_id: int, count: int = 1) -> list[int]:
    with session_scope(engine) as s:
        return [
            create_rule(session=s, user_id=user_id, name=f"r{i}", query="t", now=utcnow()).id or 0
            for i in range(count)
        ]


def add_webhook(
    engine: Engine, user_id: int, url: str, rule_ids: list[int] | None = None
) -> tuple[int, str]:
    """A webhook with a fresh secret; returns (id, secret)."""
    secret = new_secret()
    with session_scope(engine) as s:
        hook = create_webhook(
            session=s, user_id=user_id, url=url, secret=secret, rule_ids=rule_ids, now=utcnow()
        )
        return hook.id or 0, secret


def add_hits(engine: Engine, rule_ids: list[int], articles: int, tag: str = "a") -> list[int]:
    """`articles` new articles, each hit by every rule, in one transaction: the hit ids."""
    now = utcnow()
    with session_scope(engine) as s:
        feed, _ = add_feed(session=s, url="http://feed.example/rss", now=now)
        stored = insert_new_articles(
            session=s,
            feed_id=feed.id or 0,
            articles=[
                NormalArticle(
                    item_key=f"{tag}{i}",
                    url=f"https://news.example/{tag}/{i}",
                    canonical_url=f"https://news.example/{tag}/{i}",
                    title=f"Story {i}",
                    summary="ByteDance and Huawei",
                    content="",
                    language="en",
                    author="",
                    published_at=now,
                )
                for i in range(articles)
            ],
            now=now,
        )
        hits = [NewHit(r, a.id, "**t**", ("t",)) for a in stored for r in rule_ids]
        return record_hits_and_enqueue(session=s, hits=hits, now=now)


def deliveries(engine: Engine) -> list[Delivery]:
    with session_scope(engine, readonly=True) as s:
        return list(s.scalars(sa.select(Delivery).order_by(Delivery.id)))


@contextmanager
def running_dispatcher(
    engine: Engine,
    *,
    retry: RetryPolicy | None = None,
    timeout: float = 2.0,
    owner: str = "test-dispatcher",
    config: DispatcherConfig | None = None,
    allow_private: bool = True,
) -> Iterator[Dispatcher]:
    """The real dispatcher and webhook sender (with the service's client) on their own
    event loop in a thread."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        limits = WebhookLimits(timeout_seconds=timeout, allow_private_networks=allow_private)
        async with make_transport(limits) as transport:
            dispatcher = Dispatcher(
                engine,
                {"webhook": make_sender(transport, limits, utcnow)},
                owner=owner,
                config=config or DispatcherConfig(poll_seconds=0.05, lease_seconds=30),
                retry=retry or RetryPolicy(scale=0.001),
                clock=utcnow,
            )
            holder["dispatcher"] = dispatcher
            loop = asyncio.get_running_loop()
            loop.call_soon(ready.set)  # once `run` has taken the loop
            await dispatcher.run()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10), "dispatcher did not start"
    dispatcher = holder["dispatcher"]
    assert isinstance(dispatcher, Dispatcher)
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        thread.join(15)
        assert not thread.is_alive(), "dispatcher did not stop"


def settle(
    engine: Engine, timeout: float = 20.0, done: Callable[[list[Delivery]], bool] | None = None
) -> list[Delivery]:
    """Wait until no delivery is pending (or `done` holds); return all deliveries."""
    deadline = time.monotonic() + timeout
    while True:
        rows = deliveries(engine)
        if (done or (lambda rs: all(r.status != "pending" for r in rs)))(rows):
            return rows
        if time.monotonic() > deadline:
            pending = [(r.id, r.attempts, r.last_error) for r in rows if r.status == "pending"]
            raise AssertionError(f"deliveries still pending after {timeout} s: {pending[:5]}")
        time.sleep(0.05)
