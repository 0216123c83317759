"""One wire story under five URLs in five loopback feeds, through the service process:
one rule alerts once, the receiver gets one webhook, and the hit lists the five sources."""

from __future__ import annotations

from pathlib import Path

from standardwebhooks import Webhook

from tests.stories.cases import CASES, EN
from tests.support.feeds import Item, rss
from tests.support.servers import FeedServer, WebhookReceiver
from tests.support.service import ServiceProcess, wait_until

OUTLETS = ["Wire Service", "Daily Tech", "Market Watch", "Asia Briefing", "Evening Post"]


def _copies() -> list[Item]:
    by_name = {c.name: c for c in CASES}
    copies = [by_name[f"en:{v}"] for v in ("wire", "edited", "lead", "short")]
    items = [
        Item(f"copy-{n}", c.title, c.text, link=f"https://outlet{n}.example/2026/12/{n}/story")
        for n, c in enumerate(copies)
    ]
    items.append(
        Item(
            "copy-4",
            "TikTok owner ByteDance signs Huawei chip supply deal",
            "\n".join([*EN, "Copyright 2026 Evening Post Media. All rights reserved."]),
            link="https://outlet4.example/business/huawei-bytedance-chips",
        )
    )
    return items


def test_one_story_from_five_outlets_alerts_once(db_url: str, tmp_path: Path) -> None:
    """Five copies (headline edits, a different lead, a byline, boilerplate, a short item):
    one hit, one signed webhook naming the story, five sources, five story articles."""
    with (
        FeedServer() as feeds,
        WebhookReceiver() as receiver,
        ServiceProcess(db_url, workdir=tmp_path) as service,
    ):
        admin = service.client()
        user = admin.post("/v1/users", json={"name": "desk"}).json()
        api = service.client(user["token"])
        rule = api.post("/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"})
        assert rule.status_code == 201, rule.text
        assert rule.json()["per_story"] is True
        hook = api.post("/v1/webhooks", json={"url": receiver.url("/hook")}).json()
        feed_ids = []
        for n, (item, outlet) in enumerate(zip(_copies(), OUTLETS, strict=True)):
            url = feeds.set_feed(f"/outlet{n}.xml", rss([item], title=outlet, language="en"))
            created = api.post("/v1/feeds", json={"url": url})
            assert created.status_code == 201, created.text
            feed_ids.append(created.json()["id"])

        def all_polled() -> bool:
            return all(api.get(f"/v1/feeds/{f}").json()["article_count"] == 1 for f in feed_ids)

        wait_until(all_polled, timeout=60, message="five feeds polled")
        wait_until(lambda: receiver.deliveries, timeout=30, message="the webhook")

        def settled() -> list[dict]:  # type: ignore[type-arg]
            rows = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
            return rows if rows and all(r["status"] != "pending" for r in rows) else []

        wait_until(settled, timeout=30, message="no pending deliveries")
        hits = api.get("/v1/hits").json()["items"]
        assert len(hits) == 1, hits
        [hit] = hits
        assert hit["story"]["articles"] == 5
        assert sorted(hit["story"]["sources"]) == sorted(OUTLETS)
        assert len(receiver.deliveries) == 1
        payload = Webhook(hook["secret"]).verify(
            receiver.deliveries[0].body, receiver.deliveries[0].headers
        )
        assert payload["data"]["hit_id"] == hit["id"]
        assert payload["data"]["story"]["id"] == hit["story"]["id"]
        assert 1 <= payload["data"]["story"]["articles"] <= 5

        story = api.get(f"/v1/stories/{hit['story']['id']}")
        assert story.status_code == 200, story.text
        articles = story.json()["articles"]
        assert len(articles) == 5
        assert [a["id"] for a in articles] == sorted(a["id"] for a in articles)
        assert {a["feed_title"] for a in articles} == set(OUTLETS)
        assert articles[0]["id"] == hit["story"]["id"]  # a story is named for its first
        assert api.get("/v1/stories/999999").status_code == 404
