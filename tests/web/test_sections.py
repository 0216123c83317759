"""The dashboard's sections in process: feeds (discovery, OPML), channels, admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from store import session_scope
from store.webhooks import disable_webhook
from tests.conftest import auth, make_user
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.servers import FeedServer
from tests.web.helpers import items, sign_in
from web.render import error_words
from web.sessions import safe_next


@pytest.fixture
def web(engine: Engine) -> TestClient:
    config = ApiConfig(allow_private_networks=True, telegram_bot_username="newswatch_bot")
    return TestClient(create_app(engine=engine, config=config))


def test_add_by_page_url_finds_the_feed_and_opml_reports_each_outcome(
    engine: Engine, web: TestClient
) -> None:
    """A web page's advertised feed is added; an OPML import counts added, existing and
    invalid (with the reason); export lists the catalogue."""
    _, token = make_user(engine, "ana")
    with FeedServer() as server:
        feed_url = server.set_feed("/rss.xml", rss([HUAWEI_ONLY]))
        page_url = server.set_feed(
            "/", b'<html><head><link rel="alternate" type="application/rss+xml" '
            b'href="/rss.xml"></head></html>', "text/html",
        )  # fmt: skip
        csrf = sign_in(web, token)
        added = web.post("/feeds", data={"csrf": csrf, "url": page_url})
        assert "Added" in added.text and feed_url in added.text
        plain = server.set_feed("/plain", b"<html><body>no feed here</body></html>", "text/html")
        bad = web.post("/feeds", data={"csrf": csrf, "url": plain})
        assert bad.status_code == 422 and 'role="alert"' in bad.text
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" xmlUrl="{feed_url}"/>'
        '<outline type="rss" xmlUrl="http://127.0.0.1:9/new.xml"/>'
        '<outline type="rss" xmlUrl="ftp://news.example/x.xml"/>'
        "</body></opml>"
    ).encode()
    result = web.post(
        "/feeds/import", data={"csrf": csrf}, files={"opml": ("f.opml", opml, "text/x-opml")}
    )
    text = re.sub(r"\s+", " ", result.text)
    assert "1 added, 1 already watched, 1 invalid" in text and "ftp://news.example/x.xml" in text
    assert "http://127.0.0.1:9/new.xml" in web.get("/feeds/export").text


def test_a_webhook_turned_off_by_a_410_can_be_turned_back_on(
    engine: Engine, web: TestClient
) -> None:
    """The secret shows once; a 410-disabled webhook gets a Turn back on button that works."""
    _, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    created = web.post("/channels/webhooks", data={"csrf": csrf, "url": "http://127.0.0.1:9/h"})
    assert re.search(r"whsec_[A-Za-z0-9+/=]+", created.text)
    [hook] = items(web.get("/v1/webhooks", headers=auth(token)))
    assert "whsec_" not in web.get(f"/channels/webhooks/{hook['id']}").text
    with session_scope(engine) as session:
        disable_webhook(
            session=session, webhook_id=hook["id"], reason="410 Gone", now=datetime.now(UTC)
        )
    page = web.get(f"/channels/webhooks/{hook['id']}").text
    assert "410 Gone" in page and "Turn back on" in page
    web.post(f"/channels/webhooks/{hook['id']}/enable", data={"csrf": csrf})
    assert items(web.get("/v1/webhooks", headers=auth(token)))[0]["active"] is True
    pinged = web.post(f"/channels/webhooks/{hook['id']}/test", data={"csrf": csrf})
    assert "ping" in pinged.text


def test_telegram_link_code_has_a_deep_link_and_an_svg_qr_code(
    engine: Engine, web: TestClient
) -> None:
    """A link code comes with the bot's deep link and a QR code drawn as inline SVG."""
    _, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    page = web.post("/channels/telegram", data={"csrf": csrf}).text
    code = re.search(r"/start ([A-Za-z0-9_-]+)", page)
    assert code is not None
    assert f"https://t.me/newswatch_bot?start={code[1]}" in page
    assert '<svg width="' in page and 'class="segno"' in page


def test_telegram_link_code_without_a_bot_says_why(engine: Engine) -> None:
    """With no bot running the page answers 409 with the reason, and shows no code."""
    web = TestClient(create_app(engine=engine, config=ApiConfig(allow_private_networks=True)))
    _, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    answer = web.post("/channels/telegram", data={"csrf": csrf})
    assert answer.status_code == 409
    assert "no Telegram bot runs: set NEWSWATCH_TELEGRAM_BOT_TOKEN" in answer.text
    assert "/start " not in answer.text and "segno" not in answer.text


def test_admin_creates_and_disables_users(engine: Engine, web: TestClient) -> None:
    """The admin creates a user (token shown once) and disables it, which ends its sessions."""
    _, admin = make_user(engine, "root", admin=True)
    csrf = sign_in(web, admin)
    created = web.post("/admin/users", data={"csrf": csrf, "name": "desk"}).text
    token = re.search(r'id="new-token">(nw_[^<]+)<', created)
    assert token is not None
    other = TestClient(web.app)
    sign_in(other, token[1])
    [desk] = [u for u in web.get("/admin").text.split("<tr") if "desk" in u]
    user_id = re.search(r"/admin/users/(\d+)", desk)
    assert user_id is not None
    web.post(f"/admin/users/{user_id[1]}/disable", data={"csrf": csrf})
    assert other.get("/", follow_redirects=False).status_code == 303
    assert web.get("/v1/rules", headers=auth(token[1])).status_code == 401
    assert "(disabled)" in web.get("/admin").text
    web.post(f"/admin/users/{user_id[1]}/enable", data={"csrf": csrf})
    assert web.get("/v1/rules", headers=auth(token[1])).status_code == 200
    assert other.get("/", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("fetch: HTTP 404 from https://x/rss", "The server says the feed is not there (HTTP 404"),
        ("fetch: HTTP 503 from https://x/rss", "The server has a problem (HTTP 503"),
        ("fetch: ConnectError: All connection attempts failed", "Could not connect"),
        ("fetch: no complete answer within 20 s", "The server did not answer in time"),
        ("parse: not a feed", "Not a feed we can read (not a feed)"),
        ("", ""),
    ],
)
def test_feed_errors_read_as_words(error: str, words: str) -> None:
    """A feed's last error starts with what it means, the detail kept in brackets."""
    assert error_words(error).startswith(words)


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/rules/3", "/rules/3"),
        ("/?rule_id=2", "/?rule_id=2"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
def test_sign_in_returns_only_to_a_local_path(asked: str, goes: str) -> None:
    """The page to return to after sign-in is never another site (no open redirect)."""
    assert safe_next(asked) == goes
