"""Delivery modes, quiet hours and mutes over the API: PATCH /v1/webhooks/{id} and the
mute routes, with clear 422s for bad times and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import auth, make_user


def _hook(client: TestClient, token: str) -> int:
    answer = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=auth(token))
    assert answer.status_code == 201
    return answer.json()["id"]


def test_patch_webhook_mode_fields(client: TestClient, engine: Engine) -> None:
    """Mode fields merge: daily at a local time, then quiet hours, then back to instant."""
    _, token = make_user(engine, "u")
    hook = _hook(client, token)
    assert client.get(f"/v1/webhooks/{hook}/mode", headers=auth(token)).json()["mode"] == "instant"
    answer = client.patch(
        f"/v1/webhooks/{hook}/mode",
        json={"mode": "daily", "at": "08:00", "timezone": "Asia/Jakarta"},
        headers=auth(token),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["mode"], body["at"], body["timezone"]) == ("daily", "08:00", "Asia/Jakarta")
    due = datetime.fromisoformat(body["next_digest_at"].replace("Z", "+00:00"))
    assert due.astimezone(UTC).hour == 1 and due.minute == 0  # 08:00 WIB
    body = client.patch(
        f"/v1/webhooks/{hook}/mode", json={"quiet_hours": "22:00-07:00"}, headers=auth(token)
    ).json()
    assert (body["mode"], body["quiet_hours"]) == ("daily", "22:00-07:00")
    body = client.patch(
        f"/v1/webhooks/{hook}/mode",
        json={"mode": "instant", "quiet_hours": ""},
        headers=auth(token),
    ).json()
    assert (body["mode"], body["at"], body["quiet_hours"]) == ("instant", None, None)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"mode": "daily"}, "at", "needs a time"),
        ({"mode": "daily", "at": "24:10"}, "at", "is not a time"),
        ({"mode": "hourly", "timezone": "Asia/Atlantis"}, "timezone", "not an IANA timezone"),
        ({"quiet_hours": "22-07"}, "quiet_hours", "is not a time"),
    ],
)
def test_bad_mode_fields_are_422_naming_the_field(
    client: TestClient, engine: Engine, body: dict[str, str], field: str, message: str
) -> None:
    """A bad time, zone or range is refused with the field and the value named."""
    _, token = make_user(engine, "u")
    hook = _hook(client, token)
    answer = client.patch(f"/v1/webhooks/{hook}/mode", json=body, headers=auth(token))
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert detail["loc"] == ["body", field] and message in detail["msg"]


def test_mute_rule_and_webhook(client: TestClient, engine: Engine) -> None:
    """Mute for a while or until a time, see it, unmute; past and open-ended mutes are 422."""
    _, token = make_user(engine, "u")
    rule = client.post("/v1/rules", json={"name": "r", "query": "x"}, headers=auth(token)).json()
    answer = client.post(
        f"/v1/rules/{rule['id']}/mute", json={"for_seconds": 7200}, headers=auth(token)
    )
    assert answer.status_code == 200
    until = datetime.fromisoformat(answer.json()["muted_until"].replace("Z", "+00:00"))
    assert timedelta(hours=1.9) < until - datetime.now(UTC) < timedelta(hours=2.1)
    shown = client.get(f"/v1/rules/{rule['id']}", headers=auth(token)).json()["muted_until"]
    assert shown == answer.json()["muted_until"]
    listed = client.get("/v1/rules", headers=auth(token)).json()["items"]
    assert [r["muted_until"] for r in listed] == [shown]
    assert client.delete(f"/v1/rules/{rule['id']}/mute", headers=auth(token)).status_code == 204
    assert client.get(f"/v1/rules/{rule['id']}", headers=auth(token)).json()["muted_until"] is None
    hook = _hook(client, token)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    answer = client.post(f"/v1/webhooks/{hook}/mute", json={"until": later}, headers=auth(token))
    assert answer.status_code == 200
    assert client.get(f"/v1/webhooks/{hook}/mode", headers=auth(token)).json()["muted_until"]
    assert client.delete(f"/v1/webhooks/{hook}/mute", headers=auth(token)).status_code == 204
    assert (
        client.get(f"/v1/webhooks/{hook}/mode", headers=auth(token)).json()["muted_until"] is None
    )
    for bad in (
        {},
        {"until": later, "for_seconds": 5},
        {"until": "2020-01-01T00:00:00Z"},
        {"until": "2030-01-01T00:00:00"},
        {"for_seconds": 10**9},
    ):
        answer = client.post(f"/v1/rules/{rule['id']}/mute", json=bad, headers=auth(token))
        assert answer.status_code == 422, bad


def test_other_users_cannot_mute_or_patch(client: TestClient, engine: Engine) -> None:
    """Another user's rule or webhook answers 404."""
    _, owner = make_user(engine, "a")
    _, other = make_user(engine, "b")
    hook = _hook(client, owner)
    rule = client.post("/v1/rules", json={"name": "r", "query": "x"}, headers=auth(owner)).json()
    assert (
        client.patch(f"/v1/webhooks/{hook}/mode", json={"mode": "hourly"}, headers=auth(other))
    ).status_code == 404
    assert (
        client.post(f"/v1/rules/{rule['id']}/mute", json={"for_seconds": 60}, headers=auth(other))
    ).status_code == 404


def test_patch_webhook_takes_the_mode_fields_with_its_own(
    client: TestClient, engine: Engine
) -> None:
    """PATCH /v1/webhooks/{id} takes the mode fields beside url and active; a bad zone
    answers 422 and changes nothing, the url included."""
    _, token = make_user(engine, "u")
    hook = _hook(client, token)
    path = f"/v1/webhooks/{hook}"
    bad = client.patch(
        path,
        json={
            "url": "http://127.0.0.1:9/other",
            "mode": "daily",
            "at": "08:00",
            "timezone": "Mars/Base",
        },
        headers=auth(token),
    )
    assert bad.status_code == 422, bad.text
    assert client.get(path, headers=auth(token)).json()["url"] == "http://127.0.0.1:9/h"
    answer = client.patch(
        path,
        json={"active": True, "mode": "daily", "at": "08:00", "timezone": "Asia/Jakarta"},
        headers=auth(token),
    )
    assert answer.status_code == 200, answer.text
    mode = client.get(f"{path}/mode", headers=auth(token)).json()
    assert (mode["mode"], mode["at"], mode["timezone"]) == ("daily", "08:00", "Asia/Jakarta")
