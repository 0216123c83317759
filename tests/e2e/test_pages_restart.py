"""Pages pending when the service is killed are fetched after the restart: the queue is in
the database, and an expired lease makes a page due again. The real service, on loopback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import create_engine
from store.tables import Article, Delivery, Hit
from tests.support.databases import SqliteFactory
from tests.support.feeds import Item, rss
from tests.support.pages import Site, page_html
from tests.support.servers import Reply, Request
from tests.support.service import ServiceProcess, wait_until

PAGES = 6
SETTINGS = {
    "NEWSWATCH_FULL_TEXT_ENABLED": "true",
    "NEWSWATCH_PAGE_LEASE_SECONDS": "1",  # raised to 2 x the deadline + 5 s: 11 s
    "NEWSWATCH_PAGE_TIMEOUT_SECONDS": "3",
    # On a busy machine a hanging page can time out (3 s) before the kill; it then stays
    # pending for a retry, which must come within the wait below, not 60 s later.
    "NEWSWATCH_PAGE_RETRY_SECONDS": "2",
    # An alert the killed service had sent but not marked is leased to it: the lease must
    # run out within the wait for it to be sent again (at least once, same webhook-id).
    "NEWSWATCH_DISPATCH_LEASE_SECONDS": "1",
    "NEWSWATCH_FETCH_MAX_PER_HOST": "8",
    "NEWSWATCH_PAGE_HOST_GAP_SECONDS": "0",
    "NEWSWATCH_PAGE_PER_HOST": "8",
    "NEWSWATCH_PARSE_WORKERS": "0",
}


@pytest.mark.slow
def test_kill_while_pages_pending_loses_none(sqlite_factory: SqliteFactory, tmp_path: Path) -> None:
    """Pages hang while the service is killed (-9); after a restart each is fetched once
    more, its body-only hit is recorded exactly once and delivered; feed-text hits were
    delivered before any page came."""
    release = threading.Event()

    def page(request: Request) -> Reply:
        release.wait(60)  # hangs until the test lets go (the first service is dead then)
        n = request.path.rsplit("/", 1)[1]
        body = [f"Lead of story {n}.", f"Detail: the Ascend 910B order number {n} is confirmed."]
        return Reply(200, page_html(f"Story {n}", body), {"content-type": "text/html"})

    db_url = sqlite_factory.new_database()
    engine = create_engine(db_url)
    with Site() as site, Site() as hooks:
        items = [
            Item(f"g{n}", f"Huawei story {n}", f"Lead of story {n}.", site.url(f"/p/{n}"),
                 datetime.now(UTC))
            for n in range(PAGES)
        ]  # fmt: skip
        site.routes["/feed.xml"] = Reply(200, rss(items))
        for n in range(PAGES):
            site.routes[f"/p/{n}"] = page
        # Alerts by webhook-id: a delivery the killed service had sent but not yet marked
        # is sent again after the restart (at least once), with the same id.
        delivered: set[str] = set()

        def hook(request: Request) -> Reply:
            delivered.add(request.headers.get("webhook-id", ""))
            return Reply(200, b"ok")

        hooks.routes["/hook"] = hook
        with ServiceProcess(db_url, workdir=tmp_path, env=SETTINGS) as service:
            api = service.client()
            api.post("/v1/rules", json={"name": "lead", "query": "Huawei"}).raise_for_status()
            api.post(
                "/v1/rules", json={"name": "page", "query": '"Ascend 910B"'}
            ).raise_for_status()
            api.post("/v1/webhooks", json={"url": hooks.url("/hook")}).raise_for_status()
            api.post("/v1/feeds", json={"url": site.url("/feed.xml")}).raise_for_status()

            def in_flight() -> bool:
                return len([p for _, p in site.times if p.startswith("/p/")]) == PAGES

            wait_until(in_flight, timeout=30, message="every page requested")
            wait_until(lambda: len(delivered) >= PAGES, timeout=30, message="feed alerts")
            with engine.connect() as conn:
                statuses = set(conn.scalars(sa.select(Article.page_status)))
            assert statuses == {"pending"}
            service.kill()
        release.set()
        restarted = ServiceProcess(db_url, workdir=tmp_path, env=SETTINGS)
        with restarted:

            def done() -> bool:
                with engine.connect() as conn:
                    ok = conn.scalar(sa.select(sa.func.count()).where(Article.page_status == "ok"))
                    pending = conn.scalar(
                        sa.select(sa.func.count()).where(Delivery.status == "pending")
                    )
                return ok == PAGES and pending == 0 and len(delivered) == 2 * PAGES

            wait_until(done, timeout=60, interval=0.2, message="pages fetched after restart")
    with engine.connect() as conn:
        hits = conn.execute(sa.select(Hit.rule_id, Hit.article_id)).all()
    engine.dispose()
    assert len(hits) == 2 * PAGES == len(set(hits))
