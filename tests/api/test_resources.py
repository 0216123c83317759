"""CRUD over the API, and per-user scoping: another user's object answers 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import auth


def _user(client: TestClient, admin_token: str, name: str) -> dict[str, str]:
    return auth(
        client.post("/v1/users", json={"name": name}, headers=auth(admin_token)).json()["token"]
    )


def test_rule_crud_and_patch_changes_only_sent_fields(client: TestClient, admin_token: str) -> None:
    """Create, read, patch one field, delete."""
    alice = _user(client, admin_token, "alice")
    rule = client.post("/v1/rules", json={"name": "r", "query": "a OR b"}, headers=alice).json()
    assert rule.pop("backlog") == {"hours": 24, "matching": 0, "alerted": 0, "hint": ""}
    assert rule["enabled"] is True and rule["feed_ids"] is None
    patched = client.patch(f"/v1/rules/{rule['id']}", json={"enabled": False}, headers=alice).json()
    assert patched == {**rule, "enabled": False}
    assert [r["id"] for r in client.get("/v1/rules", headers=alice).json()["items"]] == [rule["id"]]
    assert client.delete(f"/v1/rules/{rule['id']}", headers=alice).status_code == 204
    assert client.get(f"/v1/rules/{rule['id']}", headers=alice).status_code == 404


def test_other_users_objects_are_404(client: TestClient, admin_token: str) -> None:
    """Bob can neither see nor change nor delete Alice's rule and webhook."""
    alice, bob = _user(client, admin_token, "alice"), _user(client, admin_token, "bob")
    rule = client.post("/v1/rules", json={"name": "r", "query": "x"}, headers=alice).json()
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=alice).json()
    for path in (f"/v1/rules/{rule['id']}", f"/v1/webhooks/{hook['id']}"):
        assert client.get(path, headers=bob).status_code == 404
        assert client.delete(path, headers=bob).status_code == 404
        assert client.get(path, headers=alice).status_code == 200
    assert (
        client.patch(f"/v1/rules/{rule['id']}", json={"name": "mine"}, headers=bob).status_code
        == 404
    )
    assert client.get("/v1/rules", headers=bob).json()["items"] == []
    assert client.get(f"/v1/rules/{rule['id']}", headers=alice).json()["name"] == "r"


def test_feed_add_is_idempotent(client: TestClient, admin_token: str) -> None:
    """Adding a known URL answers 200 with the existing feed."""
    first = client.post(
        "/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}, headers=auth(admin_token)
    )
    again = client.post(
        "/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}, headers=auth(admin_token)
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "new"


def test_webhook_secret_shown_only_on_create(client: TestClient, admin_token: str) -> None:
    """The whsec_ secret is in the create answer and nowhere else."""
    created = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=auth(admin_token)
    )
    assert created.json()["secret"].startswith("whsec_")
    listed = client.get("/v1/webhooks", headers=auth(admin_token)).json()["items"]
    assert "secret" not in listed[0]


def test_health_and_readiness(client: TestClient) -> None:
    """/healthz and /readyz answer 200 on a migrated database, without a token."""
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ok"}


def test_every_list_answers_one_page_shape(client: TestClient, admin_token: str) -> None:
    """Feeds, rules, webhooks and tokens page like hits: {items, next_cursor}, by keyset."""
    headers = auth(admin_token)
    for i in range(3):
        client.post("/v1/feeds", json={"url": f"http://127.0.0.1:9/{i}.xml"}, headers=headers)
        client.post("/v1/rules", json={"name": f"r{i}", "query": "x"}, headers=headers)
        client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:9/h{i}"}, headers=headers)
        client.post("/v1/tokens", json={"name": f"t{i}"}, headers=headers)
    for path in ("/v1/feeds", "/v1/rules", "/v1/webhooks", "/v1/tokens"):
        first = client.get(f"{path}?limit=2", headers=headers).json()
        rest = client.get(f"{path}?limit=2&cursor={first['next_cursor']}", headers=headers).json()
        ids = [item["id"] for item in first["items"] + rest["items"]]
        assert len(ids) >= 3 and ids == sorted(set(ids)), path
        assert len(first["items"]) == 2 and first["next_cursor"], path
        assert client.get(f"{path}?cursor=bm9wZQ", headers=headers).status_code == 422, path
