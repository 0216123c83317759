"""Every limit answers a clear 4xx: body size 413, query length and depth 422, rules per
user 409, page size 422, feeds per import 422."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from tests.conftest import auth, make_user

LIMITS = ApiConfig(
    allow_private_networks=True, max_request_bytes=4096, max_rules_per_user=3, max_page_size=20
)


@pytest.fixture
def tight(engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client of an app with small limits, and a user's auth headers."""
    _, token = make_user(engine, "limited")
    with TestClient(create_app(engine=engine, config=LIMITS)) as client:
        yield client, auth(token)


def test_body_over_limit_is_413_before_reading(tight: tuple[TestClient, dict[str, str]]) -> None:
    """A declared Content-Length over the limit answers 413 with a JSON detail."""
    client, headers = tight
    response = client.post(
        "/v1/rules/test", json={"query": "a", "text": "x" * 5000}, headers=headers
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "request body is over the limit of 4096 bytes"}


def test_chunked_body_over_limit_is_413(tight: tuple[TestClient, dict[str, str]]) -> None:
    """A body without Content-Length is counted as it streams in."""
    client, headers = tight

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "a", "text": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/v1/rules/test",
        content=chunks(),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["detail"]


def test_body_under_limit_passes(tight: tuple[TestClient, dict[str, str]]) -> None:
    """A chunked body under the limit is read as usual."""
    client, headers = tight
    response = client.post(
        "/v1/rules/test",
        content=iter([b'{"query": "huawei", ', b'"text": "Huawei news"}']),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200 and response.json()["matched"] is True


TOO_LONG_OR_DEEP = [
    ("a " * 10_001, "the limit is 20000"),
    ("(" * 51 + "a" + ")" * 51, "nested more than 50 levels deep"),
    ("-" * 5000 + "a", "nested more than 50 levels deep"),
    ("NOT " * 3000 + "a", "nested more than 50 levels deep"),
]


def test_query_too_long_or_deep_is_422(client: TestClient, admin_token: str) -> None:
    """Rules over 20,000 characters or nested over 50 levels answer 422 on `query`, when
    created, patched or tested."""
    headers = auth(admin_token)
    rule = client.post("/v1/rules", json={"name": "r", "query": "a"}, headers=headers).json()
    routes = [
        ("POST", "/v1/rules"),
        ("POST", "/v1/rules/test"),
        ("PATCH", f"/v1/rules/{rule['id']}"),
    ]
    for query, message in TOO_LONG_OR_DEEP:
        for method, path in routes:
            body = {"query": query} if path == "/v1/rules/test" else {"name": "r", "query": query}
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 422, (method, path, response.text[:200])
            detail = response.json()["detail"][0]
            assert detail["loc"] == ["body", "query"] and message in detail["msg"]
    assert client.get(f"/v1/rules/{rule['id']}", headers=headers).json()["query"] == "a"


def test_rules_per_user_limit_is_409(tight: tuple[TestClient, dict[str, str]]) -> None:
    """Past MAX_RULES_PER_USER a new rule answers 409; deleting one makes room."""
    client, headers = tight
    ids = [
        client.post("/v1/rules", json={"name": f"r{i}", "query": "a"}, headers=headers).json()["id"]
        for i in range(3)
    ]
    over = client.post("/v1/rules", json={"name": "r4", "query": "a"}, headers=headers)
    assert over.status_code == 409
    assert over.json() == {"detail": "rule limit reached: 3 per user"}
    client.delete(f"/v1/rules/{ids[0]}", headers=headers)
    again = client.post("/v1/rules", json={"name": "r4", "query": "a"}, headers=headers)
    assert again.status_code == 201


def test_page_size_limit_is_422(tight: tuple[TestClient, dict[str, str]]) -> None:
    """A page larger than MAX_PAGE_SIZE (or under 1) answers 422."""
    client, headers = tight
    for limit, status in [(20, 200), (21, 422), (0, 422), (-1, 422)]:
        response = client.get(f"/v1/hits?limit={limit}", headers=headers)
        assert response.status_code == status, (limit, response.text)
        if status == 422 and limit > 0:
            assert "maximum page size 20" in response.json()["detail"]


def test_feeds_per_import_limit_is_422(engine: Engine) -> None:
    """An OPML document listing more than MAX_IMPORT_FEEDS feeds answers 422, adding none."""
    _, token = make_user(engine, "importer")
    config = ApiConfig(allow_private_networks=True, max_import_feeds=2)
    outlines = "".join(
        f'<outline text="f{i}" xmlUrl="http://127.0.0.1:9/{i}.xml"/>' for i in range(3)
    )
    document = f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'
    headers = {**auth(token), "content-type": "text/x-opml"}
    with TestClient(create_app(engine=engine, config=config)) as client:
        over = client.post("/v1/feeds/import", content=document, headers=headers)
        assert over.status_code == 422
        assert "at most 2 (MAX_IMPORT_FEEDS)" in over.json()["detail"]
        assert client.get("/v1/feeds", headers=auth(token)).json()["items"] == []
        fits = document.replace(outlines, outlines[: outlines.index("<outline", 1) * 2])
        assert client.post("/v1/feeds/import", content=fits, headers=headers).json()["added"] == 2
