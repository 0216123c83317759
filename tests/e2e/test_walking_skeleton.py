"""The whole path against real components: a loopback feed, the service as a subprocess
with a real uvicorn, and a loopback webhook receiver that verifies signatures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.feeds import BYTEDANCE_HUAWEI, HUAWEI_ONLY, rss
from tests.support.servers import FeedServer, WebhookReceiver
from tests.support.service import ServiceProcess, log_events, wait_until


def _wait_polled(api, feed_id: int, after: str | None) -> dict:  # type: ignore[no-untyped-def]
    def polled():  # type: ignore[no-untyped-def]
        response = api.get(f"/v1/feeds/{feed_id}")
        assert response.status_code == 200, response.text
        feed = response.json()
        return feed if feed["last_polled_at"] and feed["last_polled_at"] != after else None

    return wait_until(polled, message=f"a poll of feed {feed_id}")  # type: ignore[no-any-return]


def _settled(api, webhook_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    def done():  # type: ignore[no-untyped-def]
        rows = api.get(f"/v1/webhooks/{webhook_id}/deliveries").json()["items"]
        return rows if all(r["status"] != "pending" for r in rows) else None

    return wait_until(done, message="no pending deliveries")  # type: ignore[no-any-return]


def test_feed_to_signed_webhook(db_url: str, tmp_path: Path) -> None:
    """One matching Indonesian article gives exactly one signed hit.created; a partial
    match gives none; polling again gives no second alert."""
    with (
        FeedServer() as feeds,
        WebhookReceiver() as receiver,
        ServiceProcess(db_url, workdir=tmp_path) as service,
    ):
        feed_url = feeds.set_feed("/berita.xml", rss([BYTEDANCE_HUAWEI]))
        admin = service.client()
        user = admin.post("/v1/users", json={"name": "jurnalis"}).json()
        api = service.client(user["token"])

        rule = api.post("/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"})
        assert rule.status_code == 201, rule.text
        hook = api.post("/v1/webhooks", json={"url": receiver.url("/hook")})
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]
        assert secret.startswith("whsec_")
        feed = api.post("/v1/feeds", json={"url": feed_url})
        assert feed.status_code == 201, feed.text
        feed_id = feed.json()["id"]

        polled = _wait_polled(api, feed_id, None)
        assert polled["status"] == "ok" and polled["article_count"] == 1
        wait_until(lambda: receiver.deliveries, message="the webhook delivery")
        _settled(api, hook.json()["id"])
        assert len(receiver.deliveries) == 1
        delivery = receiver.deliveries[0]
        payload = Webhook(secret).verify(delivery.body, delivery.headers)
        assert payload["type"] == "hit.created"
        assert payload["data"]["rule"] == {
            "id": rule.json()["id"],
            "name": "bd-hw",
            "query": "ByteDance AND Huawei",
        }
        assert payload["data"]["matched_terms"] == ["bytedance", "huawei"]
        assert payload["data"]["article"]["feed"]["id"] == feed_id
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(delivery.body.replace(b"Huawei", b"Hua-wei"), delivery.headers)

        hits = api.get("/v1/hits").json()
        assert len(hits["items"]) == 1 and hits["next_cursor"] is None
        hit = hits["items"][0]
        assert hit["id"] == payload["data"]["hit_id"]
        assert "**ByteDance**" in hit["snippet"] and "**Huawei**" in hit["snippet"]
        assert hit["article"]["title"] == BYTEDANCE_HUAWEI.title

        # A second article with only one of the two words: stored, but no hit.
        feeds.set_feed("/berita.xml", rss([HUAWEI_ONLY, BYTEDANCE_HUAWEI]))
        assert api.post(f"/v1/feeds/{feed_id}/poll").status_code == 202
        polled = _wait_polled(api, feed_id, polled["last_polled_at"])
        assert polled["article_count"] == 2

        # The same feed again: a 304, and still exactly one alert.
        assert api.post(f"/v1/feeds/{feed_id}/poll").status_code == 202
        _wait_polled(api, feed_id, polled["last_polled_at"])
        assert feeds.fetches("/berita.xml")[-1].headers.get("if-none-match")
        _settled(api, hook.json()["id"])
        assert len(receiver.deliveries) == 1
        assert len(api.get("/v1/hits").json()["items"]) == 1
        assert json.loads(receiver.deliveries[0].body)["data"]["hit_id"] == hit["id"]

        # Structured logs: one JSON line per poll, hit and delivery, with ids and timings.
        def polls() -> list[dict]:  # type: ignore[type-arg]
            return [
                e
                for e in log_events(service.log())
                if e["event"].startswith("poll.") and e.get("feed_id") == feed_id
            ]

        wait_until(lambda: len(polls()) == 3, message="a log line for each of the 3 polls")
        events = log_events(service.log())
        lines = {e["event"]: e for e in events if "feed_id" in e or "delivery_id" in e}
        assert {"poll.ok", "hit.recorded", "delivery.sent"} <= set(lines)
        assert all(isinstance(e["ms"], int) for e in [*polls(), *lines.values()])
        assert [e["hit_id"] for e in events if e["event"] == "hit.recorded"] == [hit["id"]]
        assert lines["delivery.sent"]["delivery_id"] == _settled(api, hook.json()["id"])[0]["id"]
