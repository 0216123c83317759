"""Replicas share the polls: three pollers on one PostgreSQL database, each in its own
thread and event loop with its own client, as three processes would be."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from sqlalchemy.engine import Engine

from monitor import FetchLimits, Poller, PollPolicy, SchedulerConfig
from monitor.fetch import make_client
from net.guard import Guard
from tests.support.databases import POSTGRES_ONLY
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.polling import make_ingest
from tests.support.scale import add_feeds
from tests.support.servers import FeedServer

FEEDS = 300
REPLICAS = 3
INTERVAL = 4
RUN_SECONDS = 9.0


def _replica(
    engine: Engine, port: int, n: int, started: threading.Barrier, stop: threading.Event
) -> None:
    limits = FetchLimits(
        timeout_seconds=5,
        user_agent=f"replica-{n}",
        guard=Guard(allowlist=(f"127.0.0.1:{port}",)),
    )

    async def run() -> None:
        async with make_client(limits) as client:
            ingest = make_ingest(
                engine,
                client,
                limits,
                policy=PollPolicy(default_interval_seconds=INTERVAL, min_interval_seconds=1),
            )
            poller = Poller(
                ingest,
                SchedulerConfig(tick_seconds=5.0, concurrency=10, lease_seconds=30),
                owner=f"replica-{n}",
            )
            started.wait(30)
            await poller.start()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await poller.stop(timeout=5)

    asyncio.run(run())


@POSTGRES_ONLY
def test_three_replicas_share_300_feeds_evenly(engine: Engine) -> None:
    """300 feeds due over one interval, three replicas: every replica polls, and none
    takes more than half of the polls (idle replicas claim when feeds fall due too)."""
    body = rss([HUAWEI_ONLY])
    with FeedServer() as server:
        urls = [server.set_feed(f"/f{n}.xml", body) for n in range(FEEDS)]
        started, stop = threading.Barrier(REPLICAS + 1), threading.Event()
        threads = [
            threading.Thread(target=_replica, args=(engine, server.port, n, started, stop))
            for n in range(REPLICAS)
        ]
        for thread in threads:
            thread.start()
        add_feeds(engine, urls, spread=INTERVAL)  # due over the first interval
        started.wait(30)
        time.sleep(RUN_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(30)
        polls = Counter(r.headers.get("user-agent", "") for r in server.requests)
    total = sum(polls.values())
    print(f"polls per replica: {dict(polls)}")
    assert total >= FEEDS * 2, polls
    assert set(polls) == {f"replica-{n}" for n in range(REPLICAS)}
    assert max(polls.values()) <= total / 2, polls
