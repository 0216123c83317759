"""A rule made after the article: the create answer counts what already matches in the
alert window, and backfill alerts on those articles, each at most once."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from monitor.normalise import Article
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from tests.conftest import auth, make_user, now
from tests.support.outbox import add_webhook, deliveries


def _article(key: str, title: str, hours_ago: float | None) -> Article:
    return Article(
        item_key=key,
        url=f"https://news.example/{key}",
        canonical_url=f"https://news.example/{key}",
        title=title,
        summary="",
        content="",
        language="",
        author="",
        published_at=None if hours_ago is None else now() - timedelta(hours=hours_ago),
    )


def _seed(engine: Engine) -> None:
    articles = [
        _article("fresh", "Huawei unveils a chip", 1),
        _article("undated", "Huawei again", None),  # counts as published when fetched
        _article("old", "Huawei two days ago", 48),
        _article("other", "Apple news", 1),
    ]
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://wire.example/rss", title="W", now=now())
        insert_new_articles(session=session, feed_id=feed.id or 0, articles=articles, now=now())


def test_create_counts_the_backlog_and_backfill_alerts_it_once(
    engine: Engine, client: TestClient
) -> None:
    """By default nothing old alerts, but the answer says 2 match and how to get them;
    the backfill alerts those 2 (not the one outside the window) and, again, none."""
    _seed(engine)
    user_id, token = make_user(engine, "desk")
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    headers = auth(token)
    rule = client.post("/v1/rules", json={"name": "hw", "query": "Huawei"}, headers=headers)
    assert rule.status_code == 201
    found = rule.json()["backlog"]
    assert (found["hours"], found["matching"], found["alerted"]) == (24, 2, 0)
    assert f"POST /v1/rules/{rule.json()['id']}/backfill" in found["hint"]
    assert deliveries(engine) == []

    path = f"/v1/rules/{rule.json()['id']}/backfill"
    done = client.post(path, headers=headers).json()
    assert (done["matching"], done["alerted"], done["hint"]) == (2, 2, "")
    assert len(deliveries(engine)) == 2
    again = client.post(path, json={"hours": 24}, headers=headers).json()
    assert (again["matching"], again["alerted"]) == (0, 0)
    assert len(deliveries(engine)) == 2
    over = client.post(path, json={"hours": 25}, headers=headers)
    assert over.status_code == 422 and "ALERT_MAX_AGE_HOURS" in over.json()["detail"][0]["msg"]


def test_backfill_hours_on_create(engine: Engine, client: TestClient) -> None:
    """`backfill_hours` alerts at once on matches that recent; past the window it is a 422."""
    _seed(engine)
    user_id, token = make_user(engine, "desk")
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    headers = auth(token)
    body = {"name": "hw", "query": "Huawei", "backfill_hours": 2}
    found = client.post("/v1/rules", json=body, headers=headers).json()["backlog"]
    assert (found["hours"], found["matching"], found["alerted"]) == (2, 2, 2)
    assert len(deliveries(engine)) == 2
    too_far = client.post("/v1/rules", json={**body, "backfill_hours": 48}, headers=headers)
    assert too_far.status_code == 422
    assert too_far.json()["detail"][0]["loc"] == ["body", "backfill_hours"]
