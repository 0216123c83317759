"""Digest bench (`python -m bench.deliver --digest`): `--hits` hits held in hourly digests
for `--channels` webhooks (one rule each), then the hour ends on a controlled clock and the
real dispatcher builds and sends every digest to a loopback receiver.

Last stdout line: {"mode","hits","channels","digests","digests_per_s","hour_end_to_last_s",
"lost","duplicates"}: `hour_end_to_last_s` runs from the moment the clock reaches the hour's
end until the last digest is received; `lost` counts hits in no received digest, and
`duplicates` counts digest ids received more than once."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from monitor.normalise import Article
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy, WebhookLimits
from notifiers.webhook import make_sender, make_transport, new_secret
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.channels import set_schedule
from store.feeds import add_feed
from store.hits import WEBHOOK, record_hits_and_enqueue
from store.migrate import upgrade
from store.rules import create_rule
from store.schedule import Schedule
from store.users import create_user
from store.values import NewHit
from store.webhooks import create_webhook


class Clock:
    """The real time shifted so that the bench starts a few minutes into an hour; `jump`
    moves it to the end of that hour."""

    def __init__(self) -> None:
        real = datetime.now(UTC)
        start = real.replace(minute=5, second=0, microsecond=0) + timedelta(hours=1)
        self.offset = start - real
        self.hour_end = start.replace(minute=0) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump(self) -> None:
        self.offset = self.hour_end - datetime.now(UTC)


def _setup(engine: Engine, clock: Clock, hits: int, channels: int, url: str, secret: str) -> int:
    """Rules and hourly webhooks (one rule each), and the hits held for them."""
    now = clock()
    per_channel = max(1, hits // channels)
    with session_scope(engine) as s:
        user = create_user(session=s, name="bench", now=now)
        feed, _ = add_feed(session=s, url="https://bench.example/rss", now=now)
        rules = []
        for i in range(channels):
            rule = create_rule(session=s, user_id=user.id or 0, name=f"r{i}", query="x", now=now)
            hook = create_webhook(
                session=s,
                user_id=user.id or 0,
                url=url,
                secret=secret,
                rule_ids=[rule.id or 0],
                now=now,
            )
            set_schedule(
                session=s,
                kind=WEBHOOK,
                channel_id=hook.id or 0,
                schedule=Schedule(mode="hourly"),
                now=now,
            )
            rules.append(rule.id or 0)
        stored = insert_new_articles(
            session=s,
            feed_id=feed.id or 0,
            articles=[
                Article(
                    item_key=f"b{i}",
                    url=f"https://bench.example/{i}",
                    canonical_url=f"https://bench.example/{i}",
                    title=f"ByteDance and Huawei {i}",
                    summary="A bench article about ByteDance and Huawei.",
                    content="",
                    language="en",
                    author="",
                    published_at=now,
                )
                for i in range(per_channel)
            ],
            now=now,
        )
    recorded = 0
    for rule_id in rules:  # one ingest transaction per rule, as polls would commit them
        with session_scope(engine) as s:
            batch = [NewHit(rule_id, a.id, "**x**", ("x",)) for a in stored]
            recorded += len(record_hits_and_enqueue(session=s, hits=batch, now=clock()))
    return recorded


def _dispatching(engine: Engine, clock: Clock, digest_poll: float, ready: threading.Event) -> Any:
    holder: dict[str, Dispatcher] = {}

    async def main() -> None:
        limits = WebhookLimits(allow_private_networks=True)
        async with make_transport(limits) as transport:
            holder["d"] = Dispatcher(
                engine,
                {WEBHOOK: make_sender(transport, limits, lambda: datetime.now(UTC))},
                owner="bench",
                config=DispatcherConfig(poll_seconds=0.05, digest_poll_seconds=digest_poll),
                retry=RetryPolicy(scale=0.001),
                clock=clock,
            )
            asyncio.get_running_loop().call_soon(ready.set)
            await holder["d"].run()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    return thread, holder


def run(
    hits: int, *, channels: int, digest_poll: float, database_url: str | None
) -> dict[str, Any]:
    from bench.deliver import _receiver  # the same loopback receiver as the delivery bench

    secret = new_secret()
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    receiver = ctx.Process(target=_receiver, args=(secret, theirs), daemon=True)
    receiver.start()
    port = ours.recv()
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(db_url)
        try:
            upgrade(engine)
            recorded = _setup(engine, clock, hits, channels, f"http://127.0.0.1:{port}/d", secret)
            print(f"held {recorded} hits for {channels} channels", file=sys.stderr)
            ready = threading.Event()
            thread, holder = _dispatching(engine, clock, digest_poll, ready)
            ready.wait(30)
            time.sleep(0.5)  # the hour has not ended: nothing may be sent yet
            early = httpx.get(f"http://127.0.0.1:{port}/__records", timeout=30).json()
            clock.jump()
            hour_end = time.time()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = httpx.get(f"http://127.0.0.1:{port}/__records", timeout=30).json()
                if len({r[0] for r in got["records"]}) >= channels:
                    break
                time.sleep(0.05)
            time.sleep(0.5)  # let any duplicate show itself
            got = httpx.get(f"http://127.0.0.1:{port}/__records", timeout=30).json()
            holder["d"].stop()
            thread.join(30)
        finally:
            engine.dispose()
    ours.send("stop")
    receiver.join(10)

    records = got["records"]
    ids = [r[0] for r in records]
    hit_ids = [h for r in records for h in r[2]]
    last = max((r[1] for r in records), default=hour_end)
    first = min((r[1] for r in records), default=hour_end)
    return {
        "mode": "digest",
        "hits": recorded,
        "channels": channels,
        "digests": len(set(ids)),
        "digests_per_s": round(len(set(ids)) / (last - first), 1) if last > first else 0.0,
        "hour_end_to_last_s": round(last - hour_end, 3),
        "lost": recorded - len(set(hit_ids)),
        "duplicates": len(ids) - len(set(ids)) + len(early["records"]),
    }
