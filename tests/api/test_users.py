"""Users for the admin: unique names, a paged list, rename and disable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from store import session_scope
from store.deliveries import load_jobs
from tests.conftest import auth
from tests.support.outbox import add_hits, add_rules, add_webhook, deliveries


def test_user_names_are_unique(client: TestClient, admin_token: str) -> None:
    """A second user of one name is a 409 naming it; a rename onto a taken name too."""
    admin = auth(admin_token)
    first = client.post("/v1/users", json={"name": "analyst"}, headers=admin)
    again = client.post("/v1/users", json={"name": "analyst"}, headers=admin)
    assert (first.status_code, again.status_code) == (201, 409)
    assert "analyst" in again.json()["detail"]
    other = client.post("/v1/users", json={"name": "desk"}, headers=admin).json()
    rename = client.patch(f"/v1/users/{other['id']}", json={"name": "analyst"}, headers=admin)
    assert rename.status_code == 409
    digits = client.post("/v1/users", json={"name": "1234"}, headers=admin)
    assert digits.status_code == 422  # the CLI would read it as an id


def test_list_users_pages_and_is_admin_only(client: TestClient, admin_token: str) -> None:
    """GET /v1/users pages oldest first with {items, next_cursor}; others get 403."""
    admin = auth(admin_token)
    tokens = [
        client.post("/v1/users", json={"name": f"u{i}"}, headers=admin).json()["token"]
        for i in range(3)
    ]
    first = client.get("/v1/users?limit=2", headers=admin).json()
    second = client.get(f"/v1/users?limit=2&cursor={first['next_cursor']}", headers=admin).json()
    names = [u["name"] for u in first["items"] + second["items"]]
    assert names == ["admin", "u0", "u1", "u2"] and second["next_cursor"] is None
    assert first["items"][1]["disabled"] is False
    assert client.get("/v1/users", headers=auth(tokens[0])).status_code == 403


def test_rename_and_disable(client: TestClient, admin_token: str, engine: Engine) -> None:
    """A renamed user keeps its token; a disabled one's tokens answer 401 and its channels
    stop receiving (pending deliveries are dropped, new hits enqueue nothing); enabling
    it again restores both."""
    admin = auth(admin_token)
    user = client.post("/v1/users", json={"name": "desk"}, headers=admin).json()
    mine = auth(user["token"])
    renamed = client.patch(f"/v1/users/{user['id']}", json={"name": "desk-2"}, headers=admin)
    assert renamed.json()["name"] == "desk-2"
    assert client.get("/v1/rules", headers=mine).status_code == 200

    rules = add_rules(engine, user["id"])
    add_webhook(engine, user["id"], "http://127.0.0.1:9/hook")
    add_hits(engine, rules, 1, tag="before")
    pending = deliveries(engine)
    assert len(pending) == 1

    off = client.patch(f"/v1/users/{user['id']}", json={"disabled": True}, headers=admin)
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert client.get("/v1/rules", headers=mine).status_code == 401
    with session_scope(engine, readonly=True) as session:
        assert [
            j.target_active for j in load_jobs(session=session, delivery_ids=[pending[0].id or 0])
        ] == [False]
    add_hits(engine, rules, 1, tag="while-off")
    assert len(deliveries(engine)) == 1  # no delivery for the hit while disabled

    on = client.patch(f"/v1/users/{user['id']}", json={"disabled": False}, headers=admin)
    assert on.json()["disabled"] is False
    assert client.get("/v1/rules", headers=mine).status_code == 200
    add_hits(engine, rules, 1, tag="after")
    assert len(deliveries(engine)) == 2


def test_patch_user_refusals(client: TestClient, admin_token: str) -> None:
    """Unknown user 404, non-boolean `disabled` 422, the admin cannot disable itself."""
    admin = auth(admin_token)
    me = client.get("/v1/users", headers=admin).json()["items"][0]
    assert client.patch("/v1/users/999", json={"name": "x"}, headers=admin).status_code == 404
    assert (
        client.patch(f"/v1/users/{me['id']}", json={"disabled": 0}, headers=admin).status_code
        == 422
    )
    assert (
        client.patch(f"/v1/users/{me['id']}", json={"disabled": True}, headers=admin).status_code
        == 409
    )
