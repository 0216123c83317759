"""Deliveries over the API: redelivering a dead one by hand, paging a webhook's
deliveries, and the outbox on /metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from store import session_scope
from store.deliveries import claim_due_deliveries, mark_dead
from store.webhooks import disable_webhook
from tests.conftest import auth, make_user
from tests.support.outbox import add_hits, add_rules, add_webhook, deliveries, utcnow


def _kill_all(engine: Engine) -> None:
    """Declare every pending delivery dead, as the dispatcher would after the last try."""
    with session_scope(engine) as s:
        for job in claim_due_deliveries(
            session=s, owner="t", now=utcnow(), lease_seconds=60, limit=100
        ):
            mark_dead(
                session=s,
                delivery_id=job.id,
                owner="t",
                now=utcnow(),
                error="HTTP 500",
                status_code=500,
            )


def test_retry_a_dead_delivery(engine: Engine, client: TestClient) -> None:
    """A dead delivery goes back to pending, due now; a pending one is a 409; another
    user's and an unknown one are 404s."""
    user_id, token = make_user(engine, "owner")
    _, other = make_user(engine, "other")
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    add_hits(engine, add_rules(engine, user_id), 1)
    _kill_all(engine)
    [dead] = deliveries(engine)
    assert dead.status == "dead"

    assert client.post(f"/v1/deliveries/{dead.id}/retry", headers=auth(other)).status_code == 404
    assert client.post("/v1/deliveries/999999/retry", headers=auth(token)).status_code == 404
    answer = client.post(f"/v1/deliveries/{dead.id}/retry", headers=auth(token))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "pending" and body["next_attempt_at"] is not None
    [row] = deliveries(engine)
    assert row.status == "pending" and row.lease_owner == "" and row.attempts == 1
    again = client.post(f"/v1/deliveries/{dead.id}/retry", headers=auth(token))
    assert again.status_code == 409 and "pending" in again.json()["detail"]


def test_retry_refused_when_the_webhook_is_disabled(engine: Engine, client: TestClient) -> None:
    """A delivery to an endpoint that answered 410 cannot be retried: it would never land."""
    user_id, token = make_user(engine, "owner")
    hook_id, _ = add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    add_hits(engine, add_rules(engine, user_id), 1)
    with session_scope(engine) as s:
        disable_webhook(session=s, webhook_id=hook_id, reason="410 Gone", now=utcnow())
    [dead] = deliveries(engine)
    answer = client.post(f"/v1/deliveries/{dead.id}/retry", headers=auth(token))
    assert answer.status_code == 409 and "410 Gone" in answer.json()["detail"]


def test_deliveries_are_paged_newest_first(engine: Engine, client: TestClient) -> None:
    """Keyset pages cover every delivery once, newest first; a bad or foreign cursor is a
    422 and another user's webhook a 404."""
    user_id, token = make_user(engine, "owner")
    _, other = make_user(engine, "other")
    hook_id, _ = add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    for _ in range(5):
        assert client.post(f"/v1/webhooks/{hook_id}/test", headers=auth(token)).status_code == 202
    url = f"/v1/webhooks/{hook_id}/deliveries"
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get(url, params={"limit": 2, "cursor": cursor}, headers=auth(token)).json()
        seen += [d["id"] for d in page["items"]]
        assert all(d["event_type"] == "ping" and d["status"] == "pending" for d in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == sorted(seen, reverse=True) and len(set(seen)) == 5
    hits_cursor = client.get("/v1/hits", headers=auth(token)).json()["next_cursor"]
    for bad in ("nonsense!", "aDU", hits_cursor or "aDU"):
        answer = client.get(url, params={"cursor": bad}, headers=auth(token))
        assert answer.status_code == 422, bad
    assert client.get(url, headers=auth(other)).status_code == 404
    assert client.get(url, params={"limit": 501}, headers=auth(token)).status_code == 422


def _sample(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def test_metrics_show_the_outbox(engine: Engine, client: TestClient) -> None:
    """/metrics has the outbox depth and the oldest pending delivery's age from the DB,
    and the per-process delivery, poll and hit series; a second app registers fine."""
    user_id, _ = make_user(engine, "owner")
    text = client.get("/metrics").text
    assert _sample(text, "newswatch_outbox_pending") == 0
    assert _sample(text, "newswatch_outbox_oldest_pending_age_seconds") == 0
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    add_hits(engine, add_rules(engine, user_id), 3)
    with TestClient(create_app(engine=engine, config=ApiConfig())) as second:
        text = second.get("/metrics").text
    assert _sample(text, "newswatch_outbox_pending") == 3
    assert _sample(text, "newswatch_outbox_oldest_pending_age_seconds") > 0
    for family in (
        "newswatch_deliveries_total",
        "newswatch_delivery_attempts",
        "newswatch_feed_polls_total",
        "newswatch_hits_total",
    ):
        assert f"# TYPE {family} " in text, family
    assert 'newswatch_deliveries_total{channel="webhook",status="sent"}' in text
    assert 'newswatch_feed_polls_total{result="error"}' in text
