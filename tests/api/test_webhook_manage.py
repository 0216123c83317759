"""Managing a webhook after it is made: PATCH (url, rule_ids, active) and secret rotation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook, WebhookVerificationError

from store import session_scope
from store.webhooks import disable_webhook
from tests.conftest import auth, make_user
from tests.support.outbox import add_hits, add_rules, deliveries, running_dispatcher, utcnow
from tests.support.servers import WebhookReceiver
from tests.support.service import wait_until


def test_active_true_turns_a_410_disabled_webhook_back_on(
    engine: Engine, client: TestClient
) -> None:
    """After a 410 the dead deliveries cannot be retried (409); `active: true` turns the
    webhook on again and then the retry is accepted. url and rule_ids change too."""
    user_id, token = make_user(engine, "owner")
    headers = auth(token)
    hook = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=headers
    ).json()
    add_hits(engine, add_rules(engine, user_id), 1)
    with session_scope(engine) as s:
        disable_webhook(session=s, webhook_id=hook["id"], reason="410 Gone", now=utcnow())
    [dead] = deliveries(engine)
    refused = client.post(f"/v1/deliveries/{dead.id}/retry", headers=headers)
    assert refused.status_code == 409 and '"active": true' in refused.json()["detail"]

    on = client.patch(f"/v1/webhooks/{hook['id']}", json={"active": True}, headers=headers)
    assert on.status_code == 200
    assert (on.json()["active"], on.json()["disabled_reason"]) == (True, "")
    assert client.post(f"/v1/deliveries/{dead.id}/retry", headers=headers).status_code == 202

    moved = client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"url": "http://127.0.0.1:10/new", "rule_ids": [1]},
        headers=headers,
    ).json()
    assert (moved["url"], moved["rule_ids"], moved["active"]) == (
        "http://127.0.0.1:10/new",
        [1],
        True,
    )
    everything = client.patch(
        f"/v1/webhooks/{hook['id']}", json={"rule_ids": None}, headers=headers
    )
    assert everything.json()["rule_ids"] is None
    off = client.patch(f"/v1/webhooks/{hook['id']}", json={"active": False}, headers=headers)
    assert off.json()["active"] is False
    for body in ({"active": 1}, {"secret": "whsec_x"}):
        bad = client.patch(f"/v1/webhooks/{hook['id']}", json=body, headers=headers)
        assert bad.status_code == 422, body
    _, other = make_user(engine, "other")
    assert (
        client.patch(f"/v1/webhooks/{hook['id']}", json={}, headers=auth(other)).status_code == 404
    )


def _ping(client: TestClient, headers: dict[str, str], hook_id: int, receiver: WebhookReceiver):  # type: ignore[no-untyped-def]
    seen = len(receiver.deliveries)
    assert client.post(f"/v1/webhooks/{hook_id}/test", headers=headers).status_code == 202
    wait_until(lambda: len(receiver.deliveries) > seen, timeout=30, message="the ping")
    return receiver.deliveries[-1]


def test_rotation_signs_with_both_secrets_during_the_grace_period(
    engine: Engine, client: TestClient
) -> None:
    """After a rotation with a grace period, each delivery verifies with the old and the
    new secret (several signatures in one header); with no grace, only with the new one."""
    _, token = make_user(engine, "owner")
    headers = auth(token)
    with WebhookReceiver() as receiver, running_dispatcher(engine):
        hook = client.post("/v1/webhooks", json={"url": receiver.url("/h")}, headers=headers).json()
        old = hook["secret"]
        rotated = client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", json={"grace_hours": 1}, headers=headers
        ).json()
        new = rotated["secret"]
        assert new != old and rotated["previous_secret_expires_at"] is not None
        shown = client.get(f"/v1/webhooks/{hook['id']}", headers=headers).json()
        assert shown["previous_secret_expires_at"] is not None and "secret" not in shown

        during = _ping(client, headers, hook["id"], receiver)
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            assert Webhook(secret).verify(during.body, during.headers)["type"] == "ping"

        at_once = client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", json={"grace_hours": 0}, headers=headers
        ).json()
        after = _ping(client, headers, hook["id"], receiver)
        assert Webhook(at_once["secret"]).verify(after.body, after.headers)["type"] == "ping"
        for stale in (old, new):
            with pytest.raises(WebhookVerificationError):
                Webhook(stale).verify(after.body, after.headers)
