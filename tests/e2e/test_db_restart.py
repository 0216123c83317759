"""The service rides out a PostgreSQL restart: readiness reports the outage, and polling
and alerting resume by themselves, with nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from store import create_engine
from store.migrate import upgrade
from tests.support.pgcluster import PrivatePostgres, unavailable_reason
from tests.support.scale import GrowingFeedServer, SlowReceiver, add_feeds, scalar, seed, settled
from tests.support.service import ServiceProcess, wait_until

ENV = {
    "NEWSWATCH_POLL_INTERVAL_SECONDS": "2",
    "NEWSWATCH_MIN_POLL_INTERVAL_SECONDS": "1",
    "NEWSWATCH_POLL_LEASE_SECONDS": "3",
    "NEWSWATCH_DISPATCH_LEASE_SECONDS": "3",
    "NEWSWATCH_SHUTDOWN_GRACE_SECONDS": "5",
}


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test's own, since the test restarts it."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with PrivatePostgres() as server:
        yield server


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=3).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.slow
def test_service_recovers_from_a_postgres_restart(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    """Stop PostgreSQL under a running service, start it again: the service recovers on its
    own within 30 s and every item the feeds showed is alerted exactly once."""
    engine = create_engine(private_pg.url)
    upgrade(engine)
    paths = [f"/news/{n}.xml" for n in range(3)]
    try:
        with (
            GrowingFeedServer(growing=paths, static=[]) as feeds,
            SlowReceiver() as receiver,
            ServiceProcess(
                private_pg.url, workdir=tmp_path, roles="api,poller,dispatcher", env=ENV
            ) as service,
        ):
            seed(engine, webhook_url=receiver.url("/hook"))
            add_feeds(engine, [feeds.url(p) for p in paths])
            wait_until(
                lambda: len(set(receiver.webhook_ids())) >= 2 * len(paths), 20, message="alerts"
            )

            private_pg.stop()
            wait_until(lambda: _status(service.url + "/readyz") == 503, 10, message="readyz 503")
            assert _status(service.url + "/healthz") == 200  # alive: no restart wanted
            time.sleep(1.5)  # polls and deliveries fail meanwhile
            before = len(set(receiver.webhook_ids()))
            private_pg.start()
            up = time.monotonic()
            wait_until(
                lambda: (
                    _status(service.url + "/readyz") == 200
                    and len(set(receiver.webhook_ids())) >= before + len(paths)
                ),
                30,
                message="recovery after the restart",
            )
            print(f"recovered {time.monotonic() - up:.1f} s after PostgreSQL came back")

            feeds.frozen = True
            wait_until(lambda: settled(engine, feeds, paths), 20, message="all alerted")
            hits = scalar(engine, "SELECT count(*) FROM hits")
            assert hits == sum(feeds.items_served(p) for p in paths)
            assert scalar(engine, "SELECT count(*) FROM deliveries") == hits
            assert len(set(receiver.webhook_ids())) == hits
            assert service.terminate(timeout=15) == 0, service.log()[-3000:]
    finally:
        engine.dispose()
