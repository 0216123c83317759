"""A claim stays cheap with thousands of deliveries due, on a young outbox whose table
PostgreSQL has no statistics for yet (as right after a deploy, or in the bench): the plan
must not depend on them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import session_scope
from store.deliveries import claim_due_deliveries
from store.tables import Delivery
from store.webhooks import create_webhook
from tests.conftest import make_user

NOW = datetime.now(UTC)
DUE = 6000


def test_a_claim_with_thousands_due_takes_milliseconds(engine: Engine) -> None:
    """Three claims (as the dispatcher makes them, ranked per endpoint) each under 1 s
    with 6,000 due, and disjoint. Not a speed target (that is bench.deliver's): a guard
    against the plan that joined every due row to the ranking again, 1.8 s a claim on
    PostgreSQL then and 0.05 s now, so a loaded machine stays far from the bound."""
    user_id, _ = make_user(engine, "u")
    with session_scope(engine) as session:
        hook = create_webhook(
            session=session, user_id=user_id, url="https://example.com/h", secret="whsec_x", now=NOW
        )
        row = {
            "user_id": user_id,
            "channel_kind": "webhook",
            "channel_id": hook.id,
            "event_type": "ping",
            "next_attempt_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
        }
        session.execute(sa.insert(Delivery), [row] * DUE)
    slowest, claimed = 0.0, []
    for owner in ("a", "b", "c"):
        started = time.perf_counter()
        with session_scope(engine) as session:
            jobs = claim_due_deliveries(
                session=session,
                owner=owner,
                now=NOW,
                lease_seconds=60,
                limit=200,
                per_channel=64,
            )
        slowest = max(slowest, time.perf_counter() - started)
        claimed += [j.id for j in jobs]
    assert len(claimed) == len(set(claimed)) == 3 * 64
    assert slowest < 1.0, f"a claim took {slowest:.2f} s"
