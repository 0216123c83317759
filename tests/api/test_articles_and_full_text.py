"""The article endpoint, and the per-feed full_text mode over the API and OPML."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from monitor.dedupe import item_key
from monitor.normalise import Article
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.pages import claim_pages, finish_page, queue_pages
from tests.conftest import auth, make_user
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.servers import FeedServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _article(n: int) -> Article:
    url = f"https://news.example/{n}"
    return Article(
        item_key=item_key(guid=url, link=url, title="", summary=""),
        url=url,
        canonical_url=url,
        title=f"Story {n}",
        summary="Huawei unveils a chip.",
        content="",
        language="",
        author="",
        published_at=None,
    )


def test_article_shows_its_best_text_to_any_user(
    client: TestClient, engine: Engine, admin_token: str
) -> None:
    """Any user reads any article: the feed's text until the page is in, then the page's,
    with the page's language filling an empty one; a missing article is 404."""
    _, token = make_user(engine, "reader")
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://news.example/feed", now=NOW)
        first, second = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=[_article(1), _article(2)], now=NOW
        )
        queue_pages(session=session, article_ids=[first.id], now=NOW)
    body = client.get(f"/v1/articles/{first.id}", headers=auth(token)).json()
    assert body == {
        "id": first.id,
        "title": "Story 1",
        "url": "https://news.example/1",
        "canonical_url": "https://news.example/1",
        "published_at": None,
        "lang": "",
        "feed_id": feed.id,
        "summary": "Huawei unveils a chip.",
        "text": "Huawei unveils a chip.",
        "text_source": "feed",
        "page_status": "pending",
    }
    with session_scope(engine) as session:
        (claim,) = claim_pages(session=session, owner="t", now=NOW, lease_seconds=60, limit=5)
        assert finish_page(
            session=session, claim=claim, status="ok", text="The whole story.", language="id"
        )
    body = client.get(f"/v1/articles/{first.id}", headers=auth(token)).json()
    assert (body["text"], body["text_source"], body["page_status"], body["lang"]) == (
        "The whole story.",
        "page",
        "ok",
        "id",
    )
    assert client.get(f"/v1/articles/{second.id}", headers=auth(token)).json()["page_status"] == (
        "skipped"
    )
    missing = client.get("/v1/articles/999999", headers=auth(token))
    assert missing.status_code == 404
    assert client.get(f"/v1/articles/{first.id}").status_code == 401


def test_full_text_mode_on_create_patch_and_opml(client: TestClient, admin_token: str) -> None:
    """`full_text` defaults to auto, is set on POST and PATCH, refuses other values, and
    round-trips through OPML as `newswatch:fullText`."""
    headers = auth(admin_token)
    with FeedServer() as server:
        urls = [server.set_feed(f"/{n}.xml", rss([HUAWEI_ONLY])) for n in range(3)]
        plain = client.post("/v1/feeds", json={"url": urls[0]}, headers=headers).json()
        assert plain["full_text"] == "auto"
        always = client.post(
            "/v1/feeds", json={"url": urls[1], "full_text": "always"}, headers=headers
        ).json()
        assert always["full_text"] == "always"
        bad = client.post("/v1/feeds", json={"url": urls[2], "full_text": "yes"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "full_text"]
        patched = client.patch(
            f"/v1/feeds/{plain['id']}", json={"full_text": "never"}, headers=headers
        )
        assert patched.json()["full_text"] == "never"
        kept = client.patch(f"/v1/feeds/{plain['id']}", json={"title": "x"}, headers=headers)
        assert kept.json()["full_text"] == "never"
    exported = client.get("/v1/feeds/export", headers=headers).text
    assert 'newswatch:fullText="never"' in exported and 'newswatch:fullText="always"' in exported
    document = (
        b'<?xml version="1.0"?><opml version="2.0" '
        b'xmlns:newswatch="https://github.com/newswatch/newswatch/opml"><head/><body>'
        b'<outline type="rss" text="a" xmlUrl="http://127.0.0.1:9/a" newswatch:fullText="always"/>'
        b'<outline type="rss" text="b" xmlUrl="http://127.0.0.1:9/b" newswatch:fullText="bogus"/>'
        b"</body></opml>"
    )
    client.post("/v1/feeds/import", content=document, headers=headers)
    modes = {
        f["url"]: f["full_text"] for f in client.get("/v1/feeds", headers=headers).json()["items"]
    }
    assert modes["http://127.0.0.1:9/a"] == "always" and modes["http://127.0.0.1:9/b"] == "auto"
