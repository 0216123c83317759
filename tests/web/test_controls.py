"""The dashboard's story grouping, mute controls and e-mail/Apprise channels, in process."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from store import session_scope
from store.channels import rule_muted_until
from store.rules import create_rule
from tests.conftest import auth, make_user
from tests.web.helpers import items, sign_in, story_copy
from web.pages.hits import _poll

SECRET_URL = "json://desk:hunter2secret@127.0.0.1:9/alerts"


@pytest.fixture
def web(engine: Engine) -> TestClient:
    config = ApiConfig(allow_private_networks=True, email_enabled=True)
    return TestClient(create_app(engine=engine, config=config))


def _rule(engine: Engine, user_id: int, name: str, *, per_story: bool = True) -> int:
    with session_scope(engine) as session:
        rule = create_rule(
            session=session,
            user_id=user_id,
            name=name,
            query="Huawei",
            per_story=per_story,
            now=datetime.now(UTC),
        )
        return rule.id or 0


def _entries(html: str) -> list[str]:
    return re.findall(r'<li class="hit".*?</li>', html, re.S)


def test_the_copies_of_one_story_are_one_entry(engine: Engine, web: TestClient) -> None:
    """Three outlets' copies hit by two rules show as one entry naming the other outlets,
    the article count and the story's page; the rule filter and the live stream group too."""
    user_id, token = make_user(engine, "ana")
    every = _rule(engine, user_id, "every copy", per_story=False)
    once = _rule(engine, user_id, "once")
    story = story_copy(engine, "Wire Service", [every, once])
    story_copy(engine, "Daily Tech", [every, once], story)  # `once` hit the story already
    sign_in(web, token)
    [entry] = _entries(web.get("/").text)
    assert "Also in Wire Service" in entry and f'href="/stories/{story}"' in entry
    assert "2 articles in this story" in entry
    assert "every copy" in entry and "once" in entry
    [only] = _entries(web.get(f"/?rule_id={once}").text)
    assert "every copy" not in only and "2 articles in this story" in only
    page = web.get(f"/stories/{story}").text
    assert "Huawei ships a new chip (Wire Service)" in page and "Daily Tech" in page
    assert web.get("/stories/999999").status_code == 404

    # A third copy arrives: the stream sends the story's entry again, drawn from all its hits.
    [newest] = items(web.get("/v1/hits", headers=auth(token)))[:1]
    story_copy(engine, "Asia Briefing", [every], story)
    batch = _poll(engine, web.cookies.get("nw_session"), user_id, newest["id"], None)
    assert batch is not None
    [(_, key, html)] = batch
    assert key == f"s{story}" and "3 articles in this story" in html
    assert "Wire Service" in html and "Daily Tech" in html and ">once<" in html


def test_paging_walks_every_entry_once(engine: Engine, web: TestClient) -> None:
    """Hits of separate stories page 50 at a time; "Older hits" reaches the rest."""
    user_id, token = make_user(engine, "ana")
    rule = _rule(engine, user_id, "r")
    for i in range(52):
        story_copy(engine, f"Outlet {i}", [rule])
    sign_in(web, token)
    first = web.get("/").text
    cursor = re.search(r'href="/\?cursor=(h\d+)"', first)
    assert len(_entries(first)) == 50 and cursor is not None
    assert len(_entries(web.get(f"/?cursor={cursor[1]}").text)) == 2


def test_a_rule_mutes_for_a_while_or_until_a_date_and_unmutes(
    engine: Engine, web: TestClient
) -> None:
    """The rules list mutes for 8 hours and shows it; the editor mutes until a date; a past
    date is refused with the reason; unmute ends it; no CSRF token changes nothing."""
    user_id, token = make_user(engine, "ana")
    rule = _rule(engine, user_id, "bd")
    csrf = sign_in(web, token)

    def muted() -> datetime | None:
        with session_scope(engine) as session:
            return rule_muted_until(session=session, rule_id=rule, now=datetime.now(UTC))

    assert web.post(f"/rules/{rule}/mute", data={"duration": "3600"}).status_code == 403
    assert muted() is None
    answer = web.post(f"/rules/{rule}/mute", data={"csrf": csrf, "duration": "28800"})
    assert "muted until" in answer.text and "Unmute" in answer.text
    until = muted()
    assert until is not None and abs(until - datetime.now(UTC) - timedelta(hours=8)) < timedelta(
        minutes=1
    )
    web.post(f"/rules/{rule}/unmute", data={"csrf": csrf, "next": f"/rules/{rule}"})
    assert muted() is None
    later = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
    editor = web.post(
        f"/rules/{rule}/mute",
        data={"csrf": csrf, "until": f"{later:%Y-%m-%dT%H:%M}", "next": f"/rules/{rule}"},
    )
    assert editor.url.path == f"/rules/{rule}"
    assert f"muted until {later:%Y-%m-%d %H:%M} UTC" in editor.text
    past = web.post(f"/rules/{rule}/mute", data={"csrf": csrf, "until": "2020-01-01T00:00"})
    assert "until must be in the future" in past.text
    odd = web.post(f"/rules/{rule}/mute", data={"csrf": csrf, "duration": "99"})
    assert "pick 1 hour" in odd.text and muted() == later


def test_email_and_apprise_channels(engine: Engine, web: TestClient) -> None:
    """An address says a confirmation was sent; an Apprise URL shows only redacted, never
    its secret; the delivery mode, mute and delete do what the API does."""
    _, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    mail = web.post("/channels/new", data={"csrf": csrf, "kind": "email", "target": "desk@x.org"})
    assert "Confirmation sent to desk@x.org" in mail.text and "confirmation sent" in mail.text
    added = web.post("/channels/new", data={"csrf": csrf, "kind": "apprise", "target": SECRET_URL})
    assert "json://desk:****@127.0.0.1:9/alerts" in added.text
    channel_id = int(added.url.path.rsplit("/", 1)[1])
    for path in ("/channels", f"/channels/{channel_id}"):
        assert "hunter2secret" not in web.get(path).text
    bad = web.post("/channels/new", data={"csrf": csrf, "kind": "apprise", "target": "nope://x"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "nope://x" not in bad.text

    mode = {"mode": "daily", "at": "08:00", "timezone": "Asia/Jakarta"}
    quiet = {"quiet_from": "22:00", "quiet_to": "07:00"}
    web.post(f"/channels/{channel_id}/mode", data={"csrf": csrf, **mode, **quiet})
    shown = web.get(f"/v1/channels/{channel_id}", headers=auth(token)).json()
    assert {k: shown[k] for k in mode} == mode and shown["quiet_hours"] == "22:00-07:00"
    wrong = web.post(f"/channels/{channel_id}/mode", data={"csrf": csrf, "timezone": "Mars/Base"})
    assert "Not changed" in wrong.text and "Mars/Base" in wrong.text
    web.post(f"/channels/{channel_id}/mute", data={"csrf": csrf, "duration": "3600"})
    assert web.get(f"/v1/channels/{channel_id}", headers=auth(token)).json()["muted_until"]
    web.post(f"/channels/{channel_id}/unmute", data={"csrf": csrf})
    assert web.get(f"/v1/channels/{channel_id}", headers=auth(token)).json()["muted_until"] is None
    web.post(f"/channels/{channel_id}/delete", data={"csrf": csrf})
    kinds = [c["kind"] for c in web.get("/v1/channels", headers=auth(token)).json()]
    assert kinds == ["email"]


def test_a_webhook_mutes_and_takes_a_delivery_mode(engine: Engine, web: TestClient) -> None:
    """The webhook page sets the mode as PATCH /v1/webhooks/{id} does, and mutes it."""
    _, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    web.post("/channels/webhooks", data={"csrf": csrf, "url": "http://127.0.0.1:9/h"})
    [hook] = items(web.get("/v1/webhooks", headers=auth(token)))
    base = f"/channels/webhooks/{hook['id']}"
    web.post(f"{base}/mode", data={"csrf": csrf, "mode": "hourly"})
    mode = web.get(f"/v1/webhooks/{hook['id']}/mode", headers=auth(token)).json()
    assert mode["mode"] == "hourly"
    muted = web.post(f"{base}/mute", data={"csrf": csrf, "duration": "86400"})
    assert "muted until" in muted.text
    assert web.get(f"/v1/webhooks/{hook['id']}/mode", headers=auth(token)).json()["muted_until"]
    [listed] = re.findall(
        r"<li><a href=\"/channels/webhooks/.*?</li>", web.get("/channels").text, re.S
    )
    assert "hourly" in listed and "muted until" in listed


def test_another_users_channels_and_mutes_answer_404(engine: Engine, web: TestClient) -> None:
    """B cannot see, mute, change or delete A's rule, webhook or channel: each is a 404."""
    a_id, a_token = make_user(engine, "ana")
    _, b_token = make_user(engine, "bo")
    rule = _rule(engine, a_id, "mine")
    a = auth(a_token)
    hook = web.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=a).json()
    channel = web.post(
        "/v1/channels", json={"kind": "apprise", "target": SECRET_URL}, headers=a
    ).json()
    csrf = sign_in(web, b_token)
    posts = [f"/rules/{rule}/mute", f"/rules/{rule}/unmute"]
    for base in (f"/channels/{channel['id']}", f"/channels/webhooks/{hook['id']}"):
        posts += [f"{base}/mute", f"{base}/unmute", f"{base}/mode"]
    posts += [f"/channels/{channel['id']}/delete", f"/channels/{channel['id']}/enable"]
    for path in posts:
        assert web.post(path, data={"csrf": csrf, "duration": "3600"}).status_code == 404, path
    assert web.get(f"/channels/{channel['id']}").status_code == 404
    assert web.get("/v1/channels", headers=a).json()[0]["muted_until"] is None
    with session_scope(engine) as session:
        assert rule_muted_until(session=session, rule_id=rule, now=datetime.now(UTC)) is None
