"""A user creates, lists and revokes their own tokens; revocation takes effect at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import auth, make_user


def test_token_lifecycle(client: TestClient, engine: Engine) -> None:
    """The secret is shown once, listed never; a revoked token is refused on its next use."""
    _, first = make_user(engine, "alice")
    created = client.post("/v1/tokens", json={"name": "ci"}, headers=auth(first))
    assert created.status_code == 201
    second = created.json()
    assert second["token"].startswith("nw_") and second["token"].startswith(second["prefix"])
    assert client.get("/v1/rules", headers=auth(second["token"])).status_code == 200

    listed = client.get("/v1/tokens", headers=auth(second["token"])).json()["items"]
    assert [t["name"] for t in listed] == ["", "ci"]
    assert all(set(t) == {"id", "name", "prefix", "created_at"} for t in listed)

    # A token can revoke itself; the very next request with it is refused.
    assert (
        client.delete(f"/v1/tokens/{second['id']}", headers=auth(second["token"])).status_code
        == 204
    )
    refused = client.get("/v1/rules", headers=auth(second["token"]))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "invalid or revoked token"}
    assert [t["name"] for t in client.get("/v1/tokens", headers=auth(first)).json()["items"]] == [
        ""
    ]
    assert client.delete(f"/v1/tokens/{second['id']}", headers=auth(first)).status_code == 404


def test_tokens_of_users_are_apart(client: TestClient, engine: Engine) -> None:
    """Each user lists only their own tokens and cannot revoke another's."""
    _, alice = make_user(engine, "alice")
    _, bob = make_user(engine, "bob")
    [alices] = client.get("/v1/tokens", headers=auth(alice)).json()["items"]
    assert alices["id"] not in [
        t["id"] for t in client.get("/v1/tokens", headers=auth(bob)).json()["items"]
    ]
    assert client.delete(f"/v1/tokens/{alices['id']}", headers=auth(bob)).status_code == 404
    assert client.get("/v1/rules", headers=auth(alice)).status_code == 200
