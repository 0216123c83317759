"""SIGTERM in the middle of a poll cycle and of a batch of deliveries: the process exits 0
within its grace period, holds no lease afterwards, and loses nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.databases import POSTGRES_ONLY
from tests.support.scale import (
    GrowingFeedServer,
    SlowReceiver,
    add_feeds,
    live_leases,
    scalar,
    seed,
    settled,
    wait_started,
)
from tests.support.service import ServiceProcess, wait_until

FEEDS = 8
CONCURRENCY = 4  # polls at once; the dispatcher also sends 4 at once to one endpoint
ENV = {
    "NEWSWATCH_POLL_INTERVAL_SECONDS": "2",
    "NEWSWATCH_MIN_POLL_INTERVAL_SECONDS": "1",
    "NEWSWATCH_POLL_CONCURRENCY": str(CONCURRENCY),
    # Leases far longer than the test: any lease still held afterwards would show.
    "NEWSWATCH_POLL_LEASE_SECONDS": "120",
    "NEWSWATCH_DISPATCH_LEASE_SECONDS": "120",
}


@pytest.mark.slow
@POSTGRES_ONLY
@pytest.mark.parametrize(
    ("grace", "in_flight_done"),
    [(1.0, False), (6.0, True)],
    ids=["grace-shorter-than-work-releases", "grace-longer-than-work-finishes"],
)
def test_sigterm_mid_cycle_exits_0_and_leaves_no_lease(
    db_url: str, engine: Engine, tmp_path: Path, grace: float, in_flight_done: bool
) -> None:
    """SIGTERM with polls and sends in flight and more claimed: exit 0 within the grace
    period; work in flight finishes (long grace) or is given back (short grace), claimed
    work not started is given back, and a later process alerts everything exactly once."""
    paths = [f"/slow/{n}.xml" for n in range(FEEDS)]
    env = {**ENV, "NEWSWATCH_SHUTDOWN_GRACE_SECONDS": str(grace)}
    with (
        GrowingFeedServer(growing=paths, static=[]) as feeds,
        SlowReceiver() as receiver,
        ServiceProcess(db_url, workdir=tmp_path, roles="poller,dispatcher", env=env) as service,
    ):
        seed(engine, webhook_url=receiver.url("/hook"))
        wait_started(service)
        receiver.hold()
        add_feeds(engine, [feeds.url(p) for p in paths])
        # The first round of polls makes one delivery per feed: 4 are being sent (held at
        # the receiver); the others are claimed in the same batch and wait, or are not yet.
        wait_until(lambda: receiver.busy == CONCURRENCY, 15, message="sends in flight")
        # The second round of polls (after the 2 s interval) hangs at the feed server.
        feeds.hold()
        wait_until(lambda: feeds.busy == CONCURRENCY, 15, message="polls in flight")
        claimed = scalar(engine, "SELECT count(*) FROM deliveries WHERE lease_owner <> ''")
        assert claimed >= CONCURRENCY  # (those beyond 4 are claimed and wait for a slot)
        assert scalar(engine, "SELECT count(*) FROM deliveries WHERE status = 'sent'") == 0
        assert scalar(engine, "SELECT count(*) FROM articles") == FEEDS

        started = time.monotonic()
        service.signal(signal.SIGTERM)
        if in_flight_done:  # the work in flight completes within the grace period
            time.sleep(0.5)
            feeds.release()
            receiver.release()
        assert service.wait(timeout=grace + 10) == 0, service.log()[-3000:]
        elapsed = time.monotonic() - started
        print(f"exited 0 after {elapsed:.1f} s (grace {grace} s)")
        assert elapsed < grace + 2.0
        assert live_leases(engine) == 0
        sent = scalar(engine, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
        second_polls = scalar(engine, "SELECT count(*) FROM articles") - FEEDS
        # Finished: the 4 sends and 4 polls in flight, and nothing more was started.
        # Cut off: nothing recorded, all given back.
        expected = CONCURRENCY if in_flight_done else 0
        assert (sent, second_polls) == (expected, expected)
        feeds.release()
        receiver.release()

        # Nothing lost: another process takes up what was given back, at once.
        feeds.frozen = True
        with ServiceProcess(db_url, workdir=tmp_path, roles="poller,dispatcher", env=env) as again:
            wait_until(lambda: settled(engine, feeds, paths), 20, message="all alerted")
            hits = scalar(engine, "SELECT count(*) FROM hits")
            assert hits == sum(feeds.items_served(p) for p in paths)
            assert len(set(receiver.webhook_ids())) == hits
            assert again.terminate(timeout=15) == 0
