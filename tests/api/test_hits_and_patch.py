"""Hits: keyset pages newest first, `rule_id` and `since` filters. PATCH changes only the
fields sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import auth, make_user
from tests.support.seed import seed_hit

T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)


def pages(client: TestClient, token: str, **params: Any) -> list[list[int]]:
    """Every page of /v1/hits with these parameters, following next_cursor."""
    out, cursor = [], None
    for _ in range(20):
        page = client.get(
            "/v1/hits", params={**params, "cursor": cursor}, headers=auth(token)
        ).json()
        out.append([h["id"] for h in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("pagination did not end")


def flat(pages: list[list[int]]) -> list[int]:
    return [i for page in pages for i in page]


def test_hits_pages_and_filters(client: TestClient, engine: Engine) -> None:
    """Pages cover every hit once, newest first; rule_id and since filter, also together."""
    _, token = make_user(engine, "alice")
    h = auth(token)
    r1 = client.post("/v1/rules", json={"name": "a", "query": "ByteDance"}, headers=h).json()
    r2 = client.post("/v1/rules", json={"name": "b", "query": "Huawei"}, headers=h).json()
    ids = {
        seed_hit(
            engine,
            rule_id=rule["id"],
            url=f"https://news.example/{i}",
            now=T0 + timedelta(minutes=i),
        ): (rule["id"], i)
        for i, rule in enumerate([r1, r2, r1, r2, r1])
    }
    newest_first = sorted(ids, reverse=True)

    assert pages(client, token, limit=2) == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert flat(pages(client, token, rule_id=r1["id"])) == [
        i for i in newest_first if ids[i][0] == r1["id"]
    ]
    since = (T0 + timedelta(minutes=2)).isoformat()
    assert flat(pages(client, token, since=since, limit=1)) == [
        i for i in newest_first if ids[i][1] >= 2
    ]
    assert flat(pages(client, token, since=since, rule_id=r2["id"])) == [
        i for i in newest_first if ids[i] == (r2["id"], 3)
    ]
    first = client.get("/v1/hits", params={"limit": 1}, headers=h).json()["items"][0]
    assert first["rule_name"] == "a" and first["article"]["url"] == "https://news.example/4"
    assert first["matched_terms"] == ["bytedance", "huawei"]

    for bad in [
        {"cursor": "nonsense!"},
        {"since": "2026-11-27T12:00:00"},
        {"since": "1700000000"},
        {"rule_id": 0},
    ]:
        assert client.get("/v1/hits", params=bad, headers=h).status_code == 422, bad


RULE_PATCHES: list[dict[str, Any]] = [
    {"name": "renamed"},
    {"query": "Huawei OR 华为"},
    {"enabled": False},
    {"feed_ids": [1]},
    {"feed_ids": None},
    {},
]


def test_patch_changes_only_the_fields_sent(client: TestClient, admin_token: str) -> None:
    """Each PATCH changes exactly the fields in its body; a null feed_ids means all feeds."""
    h = auth(admin_token)
    feed = client.post("/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}, headers=h).json()
    rule = client.post(
        "/v1/rules",
        json={"name": "r", "query": "ByteDance", "feed_ids": [feed["id"]]},
        headers=h,
    ).json()
    for patch in RULE_PATCHES:
        before = client.get(f"/v1/rules/{rule['id']}", headers=h).json()
        after = client.patch(f"/v1/rules/{rule['id']}", json=patch, headers=h)
        assert after.status_code == 200, after.text
        assert after.json() == {**before, **patch}, patch
        assert client.get(f"/v1/rules/{rule['id']}", headers=h).json() == after.json()

    before = client.get(f"/v1/feeds/{feed['id']}", headers=h).json()
    after = client.patch(f"/v1/feeds/{feed['id']}", json={"title": "Antara"}, headers=h).json()
    assert after == {**before, "title": "Antara"}
