"""kill -9 at random moments loses no alert and doubles none in the database: the real
service as a subprocess, a stream of matching articles through loopback feeds, and a
receiver that verifies every signed delivery."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from store import create_engine
from store.tables import Article, Delivery, Hit
from tests.support.feeds import Item, rss
from tests.support.servers import FeedServer, LoopbackServer, Reply, Request
from tests.support.service import ServiceProcess, wait_until

SEED = 20261127
ARTICLES = 300
FEEDS = 4
KILLS = 5
CRASH_SETTINGS = {
    # Feeds are due every second, and the leases of a killed process run out quickly.
    "NEWSWATCH_POLL_INTERVAL_SECONDS": "1",
    "NEWSWATCH_MIN_POLL_INTERVAL_SECONDS": "1",
    "NEWSWATCH_POLL_LEASE_SECONDS": "1",
    "NEWSWATCH_DISPATCH_LEASE_SECONDS": "1",
    "NEWSWATCH_WEBHOOK_TIMEOUT_SECONDS": "2",
}


class Stream:
    """Publishes ARTICLES matching items across FEEDS feeds, a few at a time."""

    def __init__(self, feeds: FeedServer, rng: random.Random) -> None:
        self.feeds = feeds
        self.rng = rng
        self.items: list[list[Item]] = [[] for _ in range(FEEDS)]
        self.urls = [feeds.set_feed(f"/feed{i}.xml", rss([])) for i in range(FEEDS)]
        self.published = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.published < ARTICLES and not self.stop.wait(self.rng.uniform(0.05, 0.35)):
            for _ in range(min(ARTICLES - self.published, self.rng.randint(3, 15))):
                n = self.published
                feed = n % FEEDS
                self.items[feed].append(
                    Item(
                        guid=f"story-{n}",
                        title=f"ByteDance and Huawei, part {n}",
                        description=f"Story {n}: ByteDance talks with Huawei again.",
                        link=f"https://news.example/{n}",
                        published=datetime.now(UTC),
                    )
                )
                self.published += 1
                self.feeds.set_feed(f"/feed{feed}.xml", rss(self.items[feed]))


class Receiver:
    """Answers 200 after a short pause (so that sends are in flight when a kill lands),
    keeping only complete requests."""

    def __init__(self) -> None:
        self.received: list[Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        time.sleep(0.01)
        if len(request.body) != int(request.headers.get("content-length", -1)):
            return Reply(400)  # cut short by a kill: no web server would pass it on
        with self.lock:
            self.received.append(request)
        return Reply(200)


@pytest.mark.slow
def test_kill_9_loses_nothing_and_doubles_nothing(db_url: str, tmp_path: Path) -> None:
    """After repeated kill -9 and restarts, every hit's webhook-id has arrived, signed;
    the distinct ids are exactly the hits in the DB; no article, hit or delivery is
    stored twice, and nothing is left pending."""
    rng = random.Random(SEED)
    receiver = Receiver()
    engine = create_engine(db_url)
    with (
        FeedServer() as feeds,
        LoopbackServer(receiver) as hooks,
        ServiceProcess(db_url, workdir=tmp_path, env=CRASH_SETTINGS) as service,
    ):
        stream = Stream(feeds, rng)
        admin = service.client()
        user = admin.post("/v1/users", json={"name": "newsroom"}).json()
        api = service.client(user["token"])
        assert (
            api.post(
                "/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"}
            ).status_code
            == 201
        )
        hook = api.post("/v1/webhooks", json={"url": hooks.url("/hook")}).json()
        for url in stream.urls:
            assert api.post("/v1/feeds", json={"url": url}).status_code == 201
        stream.thread.start()

        published_at_kill = []
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.2, 0.9))
                service.kill()
                published_at_kill.append(stream.published)
                service.start()
        finally:
            stream.stop.set()
            stream.thread.join(10)
        assert stream.published == ARTICLES
        assert sum(1 for n in published_at_kill if n < ARTICLES) >= 2, "kills missed the stream"

        def settled() -> bool:
            with engine.connect() as conn:
                hits = conn.scalar(sa.select(sa.func.count()).select_from(Hit))
                pending = conn.scalar(
                    sa.select(sa.func.count()).where(Delivery.status == "pending")
                )
            return hits == ARTICLES and pending == 0

        wait_until(settled, timeout=60, interval=0.25, message="all hits delivered")
        metrics = service.client().get("/metrics").text
        assert "newswatch_outbox_pending 0.0" in metrics

    with engine.connect() as conn:
        articles = conn.scalar(sa.select(sa.func.count()).select_from(Article))
        hit_ids = set(conn.scalars(sa.select(Hit.id)))
        rows = conn.execute(
            sa.select(Delivery.id, Delivery.hit_id, Delivery.status, Delivery.channel_id)
        ).all()
    engine.dispose()

    assert articles == ARTICLES and len(hit_ids) == ARTICLES
    assert len(rows) == ARTICLES and {r.hit_id for r in rows} == hit_ids
    assert {r.status for r in rows} == {"sent"} and {r.channel_id for r in rows} == {hook["id"]}

    verify = Webhook(hook["secret"])
    ids_seen: Counter[str] = Counter()
    hits_seen: set[int] = set()
    for request in receiver.received:
        payload = verify.verify(request.body, request.headers)
        ids_seen[request.headers["webhook-id"]] += 1
        hits_seen.add(payload["data"]["hit_id"])
    assert set(ids_seen) == {f"msg_nw{r.id}" for r in rows}
    assert hits_seen == hit_ids
