"""Isolation: user B gets 404 for anything of user A, revoked tokens get 401, and a
non-admin gets 403 on admin-only routes. The routes come from the app's own OpenAPI
document, so routes added later are covered without editing this table."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import auth, make_user
from tests.support.seed import seed_hit

# Feeds and articles are shared catalogues (DESIGN.md): any user reads them; stories are
# made of articles, and shared the same way. Users are the admin's to manage (403 for
# anyone else, below).
SHARED = {"feed_id", "article_id", "story_id", "user_id"}
# Routes that must be in the matrix, so that it can never pass by being empty.
MUST_COVER = {
    ("GET", "/v1/rules/{rule_id}"),
    ("PATCH", "/v1/rules/{rule_id}"),
    ("DELETE", "/v1/rules/{rule_id}"),
    ("GET", "/v1/rules/{rule_id}/preview"),
    ("GET", "/v1/webhooks/{webhook_id}"),
    ("DELETE", "/v1/webhooks/{webhook_id}"),
    ("POST", "/v1/webhooks/{webhook_id}/test"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
    ("DELETE", "/v1/tokens/{token_id}"),
    ("POST", "/v1/deliveries/{delivery_id}/retry"),
    ("PATCH", "/v1/channels/{channel_id}"),
    ("POST", "/v1/rules/{rule_id}/mute"),
}
ADMIN_ONLY = {
    ("POST", "/v1/users"),
    ("GET", "/v1/users"),
    ("PATCH", "/v1/users/{user_id}"),
    ("DELETE", "/v1/feeds/{feed_id}"),
}


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every /v1 route, deletes last."""
    doc = client.get("/openapi.json").json()
    ops = [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
    ]
    # Deletes of sub-resources (a rule's mute) come before those of their parents.
    return sorted(
        ops,
        key=lambda o: (
            o[0] == "DELETE",
            "{token_id}" in o[1],
            -o[1].count("/") if o[0] == "DELETE" else 0,
            o[1],
            o[0],
        ),
    )


def example_body(client: TestClient, op: dict[str, Any]) -> Any:
    """The documented example of an operation's JSON body, or None without one."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    ref = content["schema"].get("$ref", "")
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    examples = schemas.get(ref.rsplit("/", 1)[-1], {}).get("examples", [{}])
    return examples[0]


def call(client: TestClient, method: str, path: str, token: str, body: Any) -> int:
    kwargs: dict[str, Any] = {"headers": auth(token)}
    if body is not None:
        kwargs["json"] = body
    return client.request(method, path, **kwargs).status_code


def fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def snapshot(client: TestClient, token: str, ids: dict[str, int]) -> dict[str, Any]:
    """Everything user A can read about their own objects."""
    paths = ["/v1/rules", "/v1/webhooks", "/v1/tokens", "/v1/hits"]
    paths += [f"/v1/rules/{ids['rule_id']}", f"/v1/webhooks/{ids['webhook_id']}/deliveries"]
    return {p: client.get(p, headers=auth(token)).json() for p in paths}


def test_isolation_matrix(client: TestClient, engine: Engine, admin_token: str) -> None:
    """B reading, changing or deleting anything of A gets 404 and A's data is unchanged;
    a revoked token gets 401 everywhere; a non-admin gets 403 on admin-only routes."""
    alice_id, alice = make_user(engine, "alice")
    _, bob = make_user(engine, "bob")
    a = auth(alice)
    rule = client.post("/v1/rules", json={"name": "r", "query": "ByteDance"}, headers=a).json()
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=a).json()
    spare = client.post("/v1/tokens", json={"name": "spare"}, headers=a).json()
    channel = client.post(
        "/v1/channels", json={"kind": "apprise", "target": "json://127.0.0.1:9/x"}, headers=a
    ).json()
    feed = client.post("/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}, headers=a).json()
    seed_hit(engine, rule_id=rule["id"])
    page = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=a).json()
    delivery = (page["items"] if isinstance(page, dict) else page)[0]
    ids = {
        "rule_id": rule["id"],
        "webhook_id": hook["id"],
        "token_id": spare["id"],
        "feed_id": feed["id"],
        "delivery_id": delivery["id"],
        "channel_id": channel["id"],
        "user_id": alice_id,
        "article_id": client.get("/v1/hits", headers=a).json()["items"][0]["article"]["id"],
        "story_id": client.get("/v1/hits", headers=a).json()["items"][0]["story"]["id"],
    }
    ops = operations(client)
    before = snapshot(client, alice, ids)

    owned = [
        (m, p, op)
        for m, p, op in ops
        if (params := set(re.findall(r"\{(\w+)\}", p))) and not params & SHARED
    ]
    assert {(m, p) for m, p, _ in owned} >= MUST_COVER
    wrong = {
        f"{m} {p}": status
        for m, p, op in owned
        if (status := call(client, m, fill(p, ids), bob, example_body(client, op))) != 404
    }
    assert wrong == {}, "user B reached user A's objects"
    assert client.get(f"/v1/hits?rule_id={rule['id']}", headers=auth(bob)).json()["items"] == []
    assert snapshot(client, alice, ids) == before

    # A non-admin is refused admin-only routes (403 documented there, and nowhere else).
    admin_only = {(m, p) for m, p, op in ops if "403" in op["responses"]}
    assert admin_only == ADMIN_ONLY
    for m, p, op in ops:
        if (m, p) in admin_only:
            assert call(client, m, fill(p, ids), bob, example_body(client, op)) == 403, (m, p)
    assert client.get(f"/v1/feeds/{feed['id']}", headers=a).status_code == 200

    # A revoked token answers 401 on every /v1 route, at once.
    assert client.delete(f"/v1/tokens/{spare['id']}", headers=a).status_code == 204
    revoked = {
        f"{m} {p}": status
        for m, p, op in ops
        if (status := call(client, m, fill(p, ids), spare["token"], example_body(client, op)))
        != 401
    }
    assert revoked == {}

    # The owner still reaches every one of those routes (the matrix was not vacuous); a
    # 409 (e.g. retrying a delivery that is not dead) is about state, not access.
    ids["token_id"] = client.post("/v1/tokens", json={"name": "t2"}, headers=a).json()["id"]
    refused = {
        f"{m} {p}": status
        for m, p, op in owned
        if (status := call(client, m, fill(p, ids), alice, example_body(client, op)))
        in (401, 403, 404, 422)
    }
    assert refused == {}
