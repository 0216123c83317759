"""Giving leases back: a stopping process releases what it claimed, and only that, so that
another one may claim it at once rather than after the lease expires."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from store import session_scope
from store.deliveries import claim_due_deliveries, mark_sent, release_delivery_leases
from store.feeds import add_feed, claim_due_feeds, release_feed_leases
from store.hits import enqueue
from store.webhooks import create_webhook
from tests.conftest import make_user

NOW = datetime.now(UTC)


def _feeds(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        for n in range(count):
            add_feed(session=session, url=f"https://example.com/{n}.xml", now=NOW)


def _claim_feeds(engine: Engine, owner: str) -> list[int]:
    with session_scope(engine) as session:
        claims = claim_due_feeds(session=session, owner=owner, now=NOW, lease_seconds=300, limit=10)
    return [c.id for c in claims]


@pytest.mark.parametrize(
    ("release_owner", "subset", "released", "b_claims"),
    [
        ("a", None, 3, 3),  # all of a's leases
        ("a", 2, 2, 2),  # only the feeds named
        ("b", None, 0, 0),  # another owner's leases are not ours to give back
    ],
)
def test_released_feeds_can_be_claimed_at_once(
    engine: Engine, release_owner: str, subset: int | None, released: int, b_claims: int
) -> None:
    """Released feeds stay due and go to the next claimer; unreleased ones stay leased."""
    _feeds(engine, 3)
    claimed = _claim_feeds(engine, "a")
    assert len(claimed) == 3 and _claim_feeds(engine, "b") == []
    with session_scope(engine) as session:
        ids = claimed[:subset] if subset else None
        count = release_feed_leases(session=session, owner=release_owner, feed_ids=ids)
    assert count == released
    assert len(_claim_feeds(engine, "b")) == b_claims


def test_released_deliveries_are_due_again_without_an_attempt(engine: Engine) -> None:
    """Only pending deliveries of the owner are released; attempts stay unchanged."""
    user_id, _ = make_user(engine, "u")
    with session_scope(engine) as session:
        hook = create_webhook(
            session=session, user_id=user_id, url="https://example.com/h", secret="whsec_x", now=NOW
        )
        for _ in range(3):
            enqueue(
                session=session,
                user_id=user_id,
                kind="webhook",
                channel_id=hook.id or 0,
                now=NOW,
                event_type="ping",
            )
    with session_scope(engine) as session:
        jobs = claim_due_deliveries(session=session, owner="a", now=NOW, lease_seconds=60, limit=10)
        assert len(jobs) == 3
        mark_sent(session=session, delivery_id=jobs[0].id, owner="a", now=NOW, status_code=200)
    with session_scope(engine) as session:
        assert release_delivery_leases(session=session, owner="b") == 0
        assert release_delivery_leases(session=session, owner="a") == 2
    with session_scope(engine) as session:
        again = claim_due_deliveries(
            session=session, owner="b", now=NOW, lease_seconds=60, limit=10
        )
    assert sorted(j.id for j in again) == sorted(j.id for j in jobs[1:])
    assert all(j.attempts == 0 for j in again)
