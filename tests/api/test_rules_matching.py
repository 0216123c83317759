"""`POST /v1/rules/test` and `GET /v1/rules/{id}/preview`: matching over the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from monitor.normalise import Article
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from tests.conftest import auth, now


def _article(key: str, title: str, text: str = "", language: str = "") -> Article:
    return Article(
        item_key=key,
        url=f"https://news.example/{key}",
        canonical_url=f"https://news.example/{key}",
        title=title,
        summary=text,
        content="",
        language=language,
        author="",
        published_at=now() - timedelta(days=3),
    )


def _store(engine: Engine, feed_url: str, articles: list[Article]) -> int:
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url=feed_url, title="Tech Wire", now=now())
        assert feed.id is not None
        insert_new_articles(session=session, feed_id=feed.id, articles=articles, now=now())
        return feed.id


# One client per test costs a fresh database, so each table runs inside a single test.
TRIES = [
    (
        {"query": "ByteDance AND Huawei", "title": "Huawei and ByteDance", "text": "talks"},
        True,
        ["bytedance", "huawei"],
        "**Huawei**",
    ),
    ({"query": "华为", "text": "华为公司发布"}, True, ["华为"], "**华为**"),
    ({"query": "AI", "text": "he said"}, False, [], ""),
]
REFUSED = [
    ("/v1/rules/test", "Huawei OR chips AND", 19),
    ("/v1/rules", "NOT huawei", 0),
    ("/v1/rules", "", 0),
    ("/v1/rules", "x" * 20_001, 20_000),
    ("/v1/rules", "(" * 51 + "x" + ")" * 51, 50),
]


def test_rule_test_endpoint(client: TestClient, admin_token: str) -> None:
    """Trying a query returns whether it matched, the terms, and a marked snippet."""
    for body, matched, terms, mark in TRIES:
        result = client.post("/v1/rules/test", json=body, headers=auth(admin_token)).json()
        assert (result["matched"], result["matched_terms"]) == (matched, terms), body
        assert mark in result["snippet"]


FIELD_TRIES = [
    ({"query": "lang:id AND banjir", "text": "banjir di Jakarta"}, False, ["lang"]),
    ({"query": "lang:id AND banjir", "text": "banjir di Jakarta", "lang": "id"}, True, []),
    ({"query": "url:antaranews AND banjir", "text": "banjir"}, False, ["url"]),
    ({"query": "url:antaranews", "url": "https://www.antaranews.com/berita/1"}, True, []),
    ({"query": "feed:antara -title:iklan", "feed": "Antara terkini"}, True, ["title"]),
    ({"query": "banjir", "title": "Banjir"}, True, []),
]


def test_rule_test_takes_every_field_and_names_the_missing(
    client: TestClient, admin_token: str
) -> None:
    """`url`, `feed` and `lang` are matched; fields the query reads but the request left
    empty are listed in `missing_fields`."""
    for body, matched, missing in FIELD_TRIES:
        answer = client.post("/v1/rules/test", json=body, headers=auth(admin_token))
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert (result["matched"], result["missing_fields"]) == (matched, missing), body


def test_rule_test_feed_id_stands_for_that_feed(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """`feed_id` makes the article one of that feed: its title and URL answer `feed:`."""
    feed_id = _store(engine, "https://wire.example/rss", [])
    headers = auth(admin_token)
    body = {"query": "feed:wire.example AND feed:tech", "feed_id": feed_id}
    result = client.post("/v1/rules/test", json=body, headers=headers).json()
    assert (result["matched"], result["missing_fields"]) == (True, [])
    unknown = client.post(
        "/v1/rules/test", json={"query": "x", "feed_id": feed_id + 1}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "feed_id"])


def test_bad_query_is_422_with_position(client: TestClient, admin_token: str) -> None:
    """Every refused query names the field and the position of the problem."""
    for path, query, position in REFUSED:
        body = {"name": "r", "query": query}
        response = client.post(path, json=body, headers=auth(admin_token))
        assert response.status_code == 422, query[:30]
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "query"]
        assert detail["ctx"]["position"] == position


def test_preview_lists_stored_matches_newest_first(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A preview backtests the rule over stored articles, newest first, within feed scope."""
    wire = _store(
        engine,
        "https://wire.example/rss",
        [
            _article("1", "Huawei unveils chip", "Ascend-910B"),
            _article("2", "Apple news", "nothing here"),
            _article("3", "华为公司发布", "芯片", language="zh-CN"),
            _article("4", "Huawei again", "more chips"),
        ],
    )
    other = _store(engine, "https://other.example/rss", [_article("5", "Huawei elsewhere")])
    headers = auth(admin_token)
    rule = client.post(
        "/v1/rules", json={"name": "hw", "query": "Huawei OR 华为"}, headers=headers
    ).json()
    items = client.get(f"/v1/rules/{rule['id']}/preview", headers=headers).json()["items"]
    assert [i["article"]["title"] for i in items] == [
        "Huawei elsewhere",
        "Huawei again",
        "华为公司发布",
        "Huawei unveils chip",
    ]
    assert items[0]["article"]["feed_id"] == other
    assert "**华为**" in items[2]["snippet"] and items[2]["matched_terms"] == ["华为"]

    limited = client.get(f"/v1/rules/{rule['id']}/preview?limit=2", headers=headers).json()["items"]
    assert len(limited) == 2

    client.patch(f"/v1/rules/{rule['id']}", json={"feed_ids": [wire]}, headers=headers)
    scoped = client.get(f"/v1/rules/{rule['id']}/preview", headers=headers).json()["items"]
    assert {i["article"]["feed_id"] for i in scoped} == {wire} and len(scoped) == 3


def test_preview_of_another_users_rule_is_404(client: TestClient, admin_token: str) -> None:
    """A preview is only for the rule's owner; a bad limit is a 422."""
    headers = auth(admin_token)
    rule = client.post("/v1/rules", json={"name": "r", "query": "x"}, headers=headers).json()
    bob = auth(client.post("/v1/users", json={"name": "bob"}, headers=headers).json()["token"])
    assert client.get(f"/v1/rules/{rule['id']}/preview", headers=bob).status_code == 404
    assert client.get(f"/v1/rules/{rule['id']}/preview?limit=0", headers=headers).status_code == 422
    assert client.get(f"/v1/rules/{rule['id']}/preview", headers=headers).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_preview_pages_over_every_stored_article(engine: Engine, admin_token: str) -> None:
    """Preview answers {items, next_cursor}; the cursor continues the scan past the
    articles one page reads, so that the oldest match is found too."""
    old = [_article("old", "Huawei long ago")]
    _store(
        engine,
        "https://wire.example/rss",
        old + [_article(f"n{i}", f"news {i}") for i in range(25)],
    )
    config = ApiConfig(allow_private_networks=True, preview_scan_articles=10)
    headers = auth(admin_token)
    with TestClient(create_app(engine=engine, config=config)) as client:
        rule = client.post("/v1/rules", json={"name": "hw", "query": "Huawei"}, headers=headers)
        path = f"/v1/rules/{rule.json()['id']}/preview"
        pages = [client.get(path, headers=headers).json()]
        while pages[-1]["next_cursor"] and len(pages) < 10:
            pages.append(
                client.get(f"{path}?cursor={pages[-1]['next_cursor']}", headers=headers).json()
            )
        bad = client.get(f"{path}?cursor=nope", headers=headers)
    assert [len(p["items"]) for p in pages] == [0, 0, 1]
    assert pages[-1]["items"][0]["article"]["title"] == "Huawei long ago"
    assert pages[-1]["next_cursor"] is None
    assert bad.status_code == 422


def test_preview_sees_every_feed_that_carries_a_story(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A story stored by one feed first matches rules limited to, or naming, a later one."""
    _store(engine, "https://wire.example/rss", [_article("7", "Huawei shared story")])
    other = _store(engine, "https://other.example/rss", [_article("7", "Huawei shared story")])
    headers = auth(admin_token)
    for body in (
        {"name": "s", "query": "huawei", "feed_ids": [other]},
        {"name": "f", "query": "huawei feed:other"},
    ):
        rule = client.post("/v1/rules", json=body, headers=headers).json()
        items = client.get(f"/v1/rules/{rule['id']}/preview", headers=headers).json()["items"]
        assert [i["article"]["title"] for i in items] == ["Huawei shared story"], body
