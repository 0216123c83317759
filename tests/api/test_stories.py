"""Stories over the API: hits carry their story, GET /v1/stories/{id}, per_story on rules."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from monitor.normalise import Article
from monitor.story_index import assign_stories
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits_and_enqueue
from store.values import NewHit
from tests.conftest import auth, make_user
from tests.stories.cases import CASES

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _ingest_copy(engine: Engine, name: str, outlet: str, rule_id: int) -> list[int]:
    """Store one case as an outlet's article, give it a story, record the rule's hit."""
    case = next(c for c in CASES if c.name == name)
    url = f"https://{outlet.lower().replace(' ', '-')}.example/{name.replace(':', '-')}"
    article = Article(
        item_key=url,
        url=url,
        canonical_url=url,
        title=case.title,
        summary=case.text,
        content="",
        language="en",
        author="",
        published_at=NOW,
    )
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url=f"https://{outlet[:4]}.example/rss", now=NOW)
        feed.title = outlet
        session.add(feed)
        session.flush()
        new = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=[article], now=NOW
        )
        assign_stories(session=session, articles=new, prints={}, now=NOW)
        hits = [NewHit(rule_id, a.id, "snippet", ("huawei",)) for a in new]
        return record_hits_and_enqueue(session=session, hits=hits, now=NOW)


def test_hits_list_their_story_and_the_story_lists_its_articles(
    client: TestClient, engine: Engine
) -> None:
    """Three outlets, one story: one hit whose story names all three; the story endpoint
    lists the three articles first one first; another user may read the story too."""
    _, alice = make_user(engine, "alice")
    _, bob = make_user(engine, "bob")
    rule = client.post(
        "/v1/rules", json={"name": "r", "query": "Huawei"}, headers=auth(alice)
    ).json()
    assert rule["per_story"] is True
    assert _ingest_copy(engine, "en:wire", "Wire Service", rule["id"])
    assert _ingest_copy(engine, "en:edited", "Daily Tech", rule["id"]) == []
    assert _ingest_copy(engine, "en:short", "Asia Briefing", rule["id"]) == []
    [hit] = client.get("/v1/hits", headers=auth(alice)).json()["items"]
    assert hit["story"] == {
        "id": hit["article"]["id"],
        "articles": 3,
        "sources": ["Wire Service", "Daily Tech", "Asia Briefing"],
    }
    for token in (alice, bob):
        story = client.get(f"/v1/stories/{hit['story']['id']}", headers=auth(token))
        assert story.status_code == 200
        body = story.json()
        assert body["id"] == hit["story"]["id"]
        assert [a["feed_title"] for a in body["articles"]] == [
            "Wire Service",
            "Daily Tech",
            "Asia Briefing",
        ]
        assert set(body["articles"][0]) == {
            "id",
            "title",
            "url",
            "feed_id",
            "feed_title",
            "published_at",
        }
    assert client.get("/v1/stories/424242", headers=auth(alice)).status_code == 404
    assert client.get(f"/v1/stories/{hit['story']['id']}").status_code == 401


def test_per_story_off_alerts_on_every_copy(client: TestClient, engine: Engine) -> None:
    """`per_story: false` gives a hit per copy; switched on by PATCH, the rule alerts once
    per story from then on (the copies alerted before do not count)."""
    _, alice = make_user(engine, "alice")
    a = auth(alice)
    rule = client.post(
        "/v1/rules", json={"name": "r", "query": "Huawei", "per_story": False}, headers=a
    ).json()
    assert rule["per_story"] is False
    assert _ingest_copy(engine, "de:wire", "Wire Service", rule["id"])
    assert _ingest_copy(engine, "de:edited", "Daily Tech", rule["id"])
    patched = client.patch(f"/v1/rules/{rule['id']}", json={"per_story": True}, headers=a)
    assert patched.json()["per_story"] is True
    assert _ingest_copy(engine, "de:lead", "Market Watch", rule["id"])
    assert _ingest_copy(engine, "de:short", "Asia Briefing", rule["id"]) == []
    hits = client.get("/v1/hits", headers=a).json()["items"]
    assert len(hits) == 3
    assert {h["story"]["id"] for h in hits} == {hits[0]["story"]["id"]}
    assert hits[0]["story"]["articles"] == 4
    assert (
        client.patch(f"/v1/rules/{rule['id']}", json={"per_story": "x"}, headers=a).status_code
        == 422
    )
