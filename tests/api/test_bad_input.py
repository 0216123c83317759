"""Bad input answers a clear 4xx, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/feeds", {"url": "file:///etc/passwd"}, "url"),
        ("/v1/feeds", {"url": "ftp://example.com/feed"}, "url"),
        ("/v1/feeds", {"url": 42}, "url"),
        (
            "/v1/feeds",
            {"url": "https://example.com/", "interval_seconds": "soon"},
            "interval_seconds",
        ),
        ("/v1/rules", {"name": "x", "query": "(ByteDance AND Huawei"}, "query"),
        ("/v1/rules", {"name": "x", "query": "a AND"}, "query"),
        ("/v1/rules", {"name": ["x"], "query": "a"}, "name"),
        ("/v1/rules", {"name": "x", "query": "a", "colour": "red"}, "colour"),
        ("/v1/webhooks", {"url": "gopher://example.com/"}, "url"),
    ],
)
def test_bad_field_is_422_naming_the_field(
    client: TestClient, admin_token: str, path: str, body: dict[str, object], field: str
) -> None:
    """A bad field value gives 422 with the field in `loc`."""
    response = client.post(path, json=body, headers=auth(admin_token))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == field


def test_rule_syntax_error_has_position(client: TestClient, admin_token: str) -> None:
    """An invalid query reports where it went wrong."""
    response = client.post(
        "/v1/rules", json={"name": "x", "query": "ByteDance AND"}, headers=auth(admin_token)
    )
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "query"]
    assert detail["ctx"]["position"] == 13
    assert "expected a term after AND" in detail["msg"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"name": "x", "query": }', b"\xff\xfe"])
def test_malformed_json_is_422(client: TestClient, admin_token: str, raw: bytes) -> None:
    """A body that is not JSON is a 422, not a 500."""
    response = client.post(
        "/v1/rules", content=raw, headers={**auth(admin_token), "content-type": "application/json"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_wrong_token_is_401(client: TestClient, header: str | None) -> None:
    """Every /v1 route needs a valid bearer token."""
    headers = {"Authorization": header} if header else {}
    assert client.get("/v1/rules", headers=headers).status_code == 401


def test_non_admin_cannot_create_users(client: TestClient, admin_token: str) -> None:
    """POST /v1/users is for the admin only."""
    user = client.post("/v1/users", json={"name": "u"}, headers=auth(admin_token)).json()
    assert (
        client.post("/v1/users", json={"name": "v"}, headers=auth(user["token"])).status_code == 403
    )


def test_unknown_ids_are_404(client: TestClient, admin_token: str) -> None:
    """An id that does not exist answers 404."""
    for path in ("/v1/feeds/999", "/v1/rules/999", "/v1/webhooks/999"):
        assert client.get(path, headers=auth(admin_token)).status_code == 404
