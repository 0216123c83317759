"""Feed management over the API: autodiscovery, OPML import and export, the guard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from tests.conftest import auth
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.servers import FeedServer

PAGE = b"""<!doctype html><html><head><title>Berita</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/atom+xml" href="/atom.xml">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">
</head><body><p>Hello</p></body></html>"""


@pytest.fixture
def site() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.set_feed("/", PAGE, "text/html; charset=utf-8")
        server.set_feed("/rss.xml", rss([HUAWEI_ONLY]))
        server.set_feed("/atom.xml", rss([HUAWEI_ONLY]))
        server.set_feed("/plain", b"<html><body>no feeds here</body></html>", "text/html")
        yield server


def test_autodiscovery_adds_the_advertised_feed(
    client: TestClient, admin_token: str, site: FeedServer
) -> None:
    """A web page URL becomes the feed it advertises (RSS first), and is idempotent."""
    first = client.post("/v1/feeds", json={"url": site.url("/")}, headers=auth(admin_token))
    assert first.status_code == 201, first.text
    assert first.json()["url"] == site.url("/rss.xml")
    again = client.post("/v1/feeds", json={"url": site.url("/")}, headers=auth(admin_token))
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    direct = client.post(
        "/v1/feeds", json={"url": site.url("/atom.xml")}, headers=auth(admin_token)
    )
    assert (direct.status_code, direct.json()["url"]) == (201, site.url("/atom.xml"))


def test_page_without_feed_is_422(client: TestClient, admin_token: str, site: FeedServer) -> None:
    """A page that is not a feed and advertises none is refused at the url field."""
    answer = client.post("/v1/feeds", json={"url": site.url("/plain")}, headers=auth(admin_token))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "url"]


def test_guard_on_refuses_private_urls(engine: Engine, admin_token: str, site: FeedServer) -> None:
    """With private networks refused, loopback feed and webhook URLs are 422 and never fetched."""
    app = create_app(engine=engine, config=ApiConfig(allow_private_networks=False))
    with TestClient(app) as guarded:
        for path, url in [
            ("/v1/feeds", site.url("/rss.xml")),
            ("/v1/feeds", f"http://0x7f000001:{site.port}/rss.xml"),
            ("/v1/webhooks", "http://169.254.169.254/hook"),
        ]:
            answer = guarded.post(path, json={"url": url}, headers=auth(admin_token))
            assert answer.status_code == 422, (url, answer.text)
    assert site.requests == []


def test_refusal_names_the_settings_that_open_it(engine: Engine, admin_token: str) -> None:
    """The 422 for a private address tells the user which settings let it through."""
    app = create_app(engine=engine, config=ApiConfig(allow_private_networks=False))
    with TestClient(app) as guarded:
        answer = guarded.post(
            "/v1/feeds", json={"url": "http://127.0.0.1:9/feed"}, headers=auth(admin_token)
        )
    message = answer.json()["detail"][0]["msg"]
    assert answer.status_code == 422
    assert "NEWSWATCH_ALLOW_PRIVATE_NETWORKS=true" in message
    assert "127.0.0.1:9 in NEWSWATCH_FETCH_ALLOWLIST" in message


def test_allowlist_opens_webhook_urls_too(
    engine: Engine, admin_token: str, site: FeedServer
) -> None:
    """FETCH_ALLOWLIST lets a webhook on a listed private service in; other ports stay shut."""
    config = ApiConfig(allow_private_networks=False, fetch_allowlist=(f"127.0.0.1:{site.port}",))
    with TestClient(create_app(engine=engine, config=config)) as guarded:
        listed = guarded.post(
            "/v1/webhooks", json={"url": site.url("/hook")}, headers=auth(admin_token)
        )
        other = guarded.post(
            "/v1/webhooks",
            json={"url": f"http://127.0.0.1:{site.port + 1}/hook"},
            headers=auth(admin_token),
        )
    assert listed.status_code == 201, listed.text
    assert other.status_code == 422


def _opml(*urls: str) -> bytes:
    outlines = "".join(
        f'<outline text="f{i}" type="rss" xmlUrl="{u}"/>' for i, u in enumerate(urls)
    )
    return (
        f'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head>'
        f'<body><outline text="news">{outlines}</outline></body></opml>'
    ).encode()


def test_opml_import_then_export_round_trips(client: TestClient, admin_token: str) -> None:
    """Import counts added, existing and invalid; the export re-imports as all existing."""
    headers = {**auth(admin_token), "content-type": "text/x-opml"}
    client.post(
        "/v1/feeds", json={"url": "http://127.0.0.1:9/known.xml"}, headers=auth(admin_token)
    )
    document = _opml(
        "http://127.0.0.1:9/a.xml",
        "http://127.0.0.1:9/b.xml",
        "http://127.0.0.1:9/known.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
    )
    result = client.post("/v1/feeds/import", content=document, headers=headers)
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["added"], body["existing"]) == (2, 1)
    assert [i["url"] for i in body["invalid"]] == ["file:///etc/passwd", "javascript:alert(1)"]

    exported = client.get("/v1/feeds/export", headers=auth(admin_token))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "text/x-opml"
    )
    again = client.post("/v1/feeds/import", content=exported.content, headers=headers).json()
    assert (again["added"], again["existing"], again["invalid"]) == (0, 3, [])


@pytest.mark.parametrize("document", [b"", b"not xml at all", b"<html><body>hi</body></html>"])
def test_import_of_a_non_opml_body_is_422(
    client: TestClient, admin_token: str, document: bytes
) -> None:
    """A body that is not OPML is a 422, never a 500."""
    answer = client.post("/v1/feeds/import", content=document, headers=auth(admin_token))
    assert answer.status_code == 422
