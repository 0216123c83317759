"""kill -9 while digests are built and sent, then restarts: every digest id reaches the
receiver (repeats carry the same id and the same hits), and every hit is in exactly one
digest. The real service as a subprocess; the digest time is made due in the database."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from store import create_engine, session_scope
from store.channels import set_schedule
from store.hits import WEBHOOK
from store.schedule import Schedule
from store.tables import ChannelSetting, Delivery, Digest
from tests.conftest import make_user
from tests.notifiers.test_digests import Clock, record
from tests.support.outbox import add_rules, add_webhook
from tests.support.servers import LoopbackServer, Reply, Request
from tests.support.service import ServiceProcess, wait_until

SEED = 20261201
CHANNELS, HITS_PER_CHANNEL, PER_DIGEST, KILLS = 6, 40, 2, 3
SETTINGS = {
    "NEWSWATCH_DISPATCH_LEASE_SECONDS": "1",
    "NEWSWATCH_WEBHOOK_TIMEOUT_SECONDS": "2",
    "NEWSWATCH_DIGEST_POLL_SECONDS": "0.1",
    "NEWSWATCH_DIGEST_MAX_HITS": str(PER_DIGEST),  # many digests, so that kills land among them
}


class Receiver:
    """Answers 200 after a short pause, keeping only complete requests."""

    def __init__(self) -> None:
        self.received: list[Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        time.sleep(0.15)
        if len(request.body) != int(request.headers.get("content-length", -1)):
            return Reply(400)
        with self.lock:
            self.received.append(request)
        return Reply(200)


@pytest.mark.slow
def test_kill_9_mid_digest_doubles_and_loses_nothing(db_url: str, tmp_path: Path) -> None:
    """Each digest id arrives (at least once, always with the same hits); the hits of
    all digests received are exactly the hits held, each in one digest."""
    rng = random.Random(SEED)
    engine = create_engine(db_url)
    receiver = Receiver()
    with LoopbackServer(receiver) as hooks:
        user_id, _ = make_user(engine, "u")
        clock = Clock(datetime.now(UTC))
        secrets, held = {}, []
        for n in range(CHANNELS):
            [rule] = add_rules(engine, user_id)
            hook_id, secret = add_webhook(engine, user_id, hooks.url(f"/h{n}"), [rule])
            secrets[f"/h{n}"] = secret
            with session_scope(engine) as s:
                set_schedule(
                    session=s,
                    kind=WEBHOOK,
                    channel_id=hook_id,
                    schedule=Schedule(mode="daily", at=datetime.now(UTC).time()),
                    now=clock.now,
                )
            held += record(engine, clock, [rule], f"c{n}-", HITS_PER_CHANNEL)
        with session_scope(engine) as s:  # the digest time has come for every channel
            s.execute(sa.update(ChannelSetting).values(next_digest_at=datetime.now(UTC)))

        with ServiceProcess(db_url, workdir=tmp_path, roles="dispatcher", env=SETTINGS) as svc:
            sent_at_kill = []
            for _ in range(KILLS):
                # Kill while digests are being sent: once this run has sent one more.
                before = len(receiver.received)
                wait_until(
                    lambda before=before: len(receiver.received) > before,  # type: ignore[misc]
                    timeout=30,
                    message="a digest sent by this run",
                )
                time.sleep(rng.uniform(0.0, 0.3))
                svc.kill()
                sent_at_kill.append(len({r.headers["webhook-id"] for r in receiver.received}))
                svc.start()

            def settled() -> bool:
                with engine.connect() as conn:
                    pending = conn.scalar(
                        sa.select(sa.func.count()).where(Delivery.status.in_(["pending", "held"]))
                    )
                return pending == 0

            wait_until(settled, timeout=60, interval=0.25, message="all digests sent")

    with engine.connect() as conn:
        digest_ids = set(conn.scalars(sa.select(Digest.id)))
        rows = conn.execute(
            sa.select(Delivery.hit_id, Delivery.digest_id, Delivery.status, Delivery.event_type)
        ).all()
    engine.dispose()
    assert {r.status for r in rows if r.event_type == "hit.created"} == {"digested"}
    assert {r.status for r in rows if r.event_type == "digest.created"} == {"sent"}

    hits_of: dict[str, set[int]] = {}
    seen: dict[int, set[str]] = defaultdict(set)
    for request in receiver.received:
        payload = Webhook(secrets[request.path]).verify(request.body, request.headers)
        msg_id = request.headers["webhook-id"]
        hits = {h["hit_id"] for h in payload["data"]["hits"]}
        assert hits_of.setdefault(msg_id, hits) == hits, "a repeat carried other hits"
        for hit in hits:
            seen[hit].add(msg_id)
    assert set(hits_of) == {f"msg_nwdigest{d}" for d in digest_ids}
    assert set(seen) == set(held)
    assert all(len(ids) == 1 for ids in seen.values()), "a hit went out in two digests"
    assert len(digest_ids) == CHANNELS * HITS_PER_CHANNEL // PER_DIGEST
    total = len(digest_ids)
    assert sum(1 for n in sent_at_kill if 0 < n < total) >= 1, f"kills missed: {sent_at_kill}"
