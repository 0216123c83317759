"""The service wakes its dispatcher when an ingest commits hits: the alert goes out at
once, not at the dispatcher's next poll."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.databases import SqliteFactory
from tests.support.feeds import BYTEDANCE_HUAWEI, rss
from tests.support.servers import FeedServer, WebhookReceiver
from tests.support.service import ServiceProcess, wait_until


def test_new_hits_wake_the_dispatcher(sqlite_factory: SqliteFactory, tmp_path: Path) -> None:
    """With a dispatcher that polls only every 60 s, a new hit still arrives in seconds."""
    env = {"NEWSWATCH_DISPATCH_POLL_SECONDS": "60"}
    with (
        FeedServer() as feeds,
        WebhookReceiver() as receiver,
        ServiceProcess(sqlite_factory.new_database(), workdir=tmp_path, env=env) as service,
    ):
        admin = service.client()
        user = admin.post("/v1/users", json={"name": "u"}).json()
        api = service.client(user["token"])
        api.post("/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"})
        api.post("/v1/webhooks", json={"url": receiver.url("/hook")})
        time.sleep(0.5)  # the dispatcher has looked once and found nothing
        started = time.monotonic()
        api.post("/v1/feeds", json={"url": feeds.set_feed("/f.xml", rss([BYTEDANCE_HUAWEI]))})
        wait_until(lambda: receiver.deliveries, timeout=20, message="the alert")
        assert time.monotonic() - started < 20
