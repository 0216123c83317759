"""The dashboard in process: sessions, CSRF, isolation, headers and inert feed content."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from store import session_scope
from store.rules import create_rule
from store.webhooks import create_webhook
from tests.conftest import auth, make_user
from tests.support.seed import seed_hit
from tests.web.helpers import field, items, sign_in


@pytest.fixture
def web(engine: Engine) -> TestClient:
    return TestClient(create_app(engine=engine, config=ApiConfig(allow_private_networks=True)))


def _rule(engine: Engine, user_id: int, query: str = "ByteDance AND Huawei") -> int:
    with session_scope(engine) as session:
        return (
            create_rule(
                session=session, user_id=user_id, name="bd-hw", query=query, now=datetime.now(UTC)
            ).id
            or 0
        )


def _webhook(engine: Engine, user_id: int) -> int:
    with session_scope(engine) as session:
        return (
            create_webhook(
                session=session,
                user_id=user_id,
                url="http://127.0.0.1:9/h",
                secret="whsec_x",
                now=datetime.now(UTC),
            ).id
            or 0
        )


def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_it(engine: Engine, web: TestClient) -> None:
    """Sign-in sets an HttpOnly, SameSite=Lax cookie (not Secure over http); sign-out ends it."""
    _, token = make_user(engine, "ana")
    form = web.get("/signin")
    answer = web.post(
        "/signin",
        data={"token": token, "nonce": field(form.text, "nonce")},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "nw_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie
    stolen = web.cookies.get("nw_session")
    page = web.get("/")
    assert page.status_code == 200 and "ana" in page.text
    web.post("/signout", data={"csrf": field(page.text, "csrf")}, follow_redirects=False)
    web.cookies.set("nw_session", stolen or "")
    assert web.get("/", follow_redirects=False).status_code == 303


def test_unknown_token_and_missing_nonce_are_refused(engine: Engine, web: TestClient) -> None:
    """A wrong token, or a sign-in form without its nonce, opens no session."""
    _, token = make_user(engine, "ana")
    nonce = field(web.get("/signin").text, "nonce")
    assert web.post("/signin", data={"token": "nw_wrong", "nonce": nonce}).status_code == 401
    assert web.post("/signin", data={"token": token, "nonce": "forged"}).status_code == 401
    assert web.get("/", follow_redirects=False).headers["location"].startswith("/signin")


def test_revoking_the_token_ends_its_sessions(engine: Engine, web: TestClient) -> None:
    """Revoking the API token that opened a session signs that session out at once."""
    _, token = make_user(engine, "ana")
    sign_in(web, token)
    [mine] = items(web.get("/v1/tokens", headers=auth(token)))
    assert web.delete(f"/v1/tokens/{mine['id']}", headers=auth(token)).status_code == 204
    assert web.get("/rules", follow_redirects=False).status_code == 303


def test_a_form_post_without_the_csrf_token_is_refused(engine: Engine, web: TestClient) -> None:
    """A change without the session's CSRF token is a 403 and changes nothing."""
    user_id, token = make_user(engine, "ana")
    csrf = sign_in(web, token)
    rule_id = _rule(engine, user_id)
    for data in ({"enabled": "false"}, {"enabled": "false", "csrf": "forged"}):
        assert web.post(f"/rules/{rule_id}/enabled", data=data).status_code == 403
    assert web.get(f"/v1/rules/{rule_id}", headers=auth(token)).json()["enabled"] is True
    web.post(f"/rules/{rule_id}/enabled", data={"enabled": "false", "csrf": csrf})
    assert web.get(f"/v1/rules/{rule_id}", headers=auth(token)).json()["enabled"] is False
    refused = web.post("/rules/check", json={"query": "a"})
    assert refused.status_code == 403


def test_another_users_objects_answer_404(engine: Engine, web: TestClient) -> None:
    """User B sees A's rule, webhook and the admin page exactly like missing ones."""
    a_id, _ = make_user(engine, "ana")
    _, b_token = make_user(engine, "bo")
    rule_id = _rule(engine, a_id)
    hook_id = _webhook(engine, a_id)
    csrf = sign_in(web, b_token)
    assert web.get(f"/rules/{rule_id}").status_code == 404
    assert web.get(f"/rules/{rule_id + 999}").status_code == 404
    assert (
        web.post(f"/rules/{rule_id}/enabled", data={"enabled": "false", "csrf": csrf}).status_code
        == 404
    )
    assert web.get(f"/channels/webhooks/{hook_id}").status_code == 404
    assert web.post(f"/channels/webhooks/{hook_id}/test", data={"csrf": csrf}).status_code == 404
    assert web.get("/admin").status_code == 404
    assert "bd-hw" not in web.get("/rules").text


def test_every_page_sends_the_security_headers(engine: Engine, web: TestClient) -> None:
    """Every page, signed in or not, has a CSP without unsafe-inline and X-Frame-Options DENY."""
    admin_id, token = make_user(engine, "root", admin=True)
    rule_id = _rule(engine, admin_id)
    seed_hit(engine, rule_id=rule_id)
    hook_id = _webhook(engine, admin_id)
    channel = web.post(
        "/v1/channels",
        json={"kind": "apprise", "target": "json://127.0.0.1:9/x"},
        headers=auth(token),
    ).json()
    story = items(web.get("/v1/hits", headers=auth(token)))[0]["story"]["id"]
    pages = ["/signin"]
    assert web.get("/", follow_redirects=False).headers["content-security-policy"]
    sign_in(web, token)
    pages += [
        "/",
        "/rules",
        "/rules/new",
        f"/rules/{rule_id}",
        "/rules/999999",
        "/feeds",
        "/channels",
        f"/channels/webhooks/{hook_id}",
        f"/channels/{channel['id']}",
        f"/stories/{story}",
        "/admin",
        f"/admin/users/{admin_id}",
    ]
    for path in pages:
        answer = web.get(path)
        csp = answer.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert "<script>" not in answer.text and "style=" not in answer.text, path


def test_hostile_feed_content_is_shown_inert(engine: Engine, web: TestClient) -> None:
    """A <script> title or feed title, a javascript: link and a huge snippet come out escaped
    and bounded, on the hits page and on the story's page."""
    user_id, token = make_user(engine, "ana")
    rule_id = _rule(engine, user_id)
    seed_hit(engine, rule_id=_rule(engine, user_id, "Huawei"), url="https://copy.example/x")
    hit_id = seed_hit(engine, rule_id=rule_id, url="javascript:alert(1)//x")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE articles SET title = '<script>alert(1)</script><img src=x onerror=alert(2)>'"
        )
        conn.exec_driver_sql(
            f"UPDATE hits SET snippet = '**<b>x</b>**' || '{'y' * 50_000}' WHERE id = {hit_id}"
        )
        conn.exec_driver_sql("UPDATE feeds SET title = '<script>alert(3)</script>'")
        # the two articles are copies of one story
        conn.exec_driver_sql("UPDATE articles SET story_id = (SELECT min(id) FROM articles)")
    sign_in(web, token)
    html = web.get("/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;script&gt;alert(3)" in html
    assert "<img" not in html and "javascript:" not in html and "<script>" not in html
    assert "<mark>&lt;b&gt;x&lt;/b&gt;</mark>" in html
    assert "2 articles in this story" in html
    assert len(html) < 20_000
    story = web.get(re.findall(r'href="(/stories/\d+)"', html)[0]).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in story and "&lt;script&gt;alert(3)" in story
    assert "<img" not in story and "javascript:" not in story and "<script>" not in story


def test_editor_shows_the_error_position_then_a_backtest(engine: Engine, web: TestClient) -> None:
    """A bad query answers with its position and a caret; a good one backtests with marks."""
    user_id, token = make_user(engine, "ana")
    seed_hit(engine, rule_id=_rule(engine, user_id))
    csrf = sign_in(web, token)
    check = web.post(
        "/rules/check", json={"query": "ByteDance AND"}, headers={"x-csrf-token": csrf}
    )
    assert check.json()["ok"] is False and check.json()["position"] == len("ByteDance AND")
    bad = web.post(
        "/rules/new", data={"csrf": csrf, "name": "x", "query": "ByteDance AND", "action": "save"}
    )
    assert bad.status_code == 422 and "at position 13" in bad.text
    good = web.post(
        "/rules/new",
        data={"csrf": csrf, "name": "x", "query": "ByteDance AND Huawei", "action": "backtest"},
    )
    assert "<mark>ByteDance</mark>" in good.text and '<svg class="chart"' in good.text
    assert "1 match in the newest 1 articles" in good.text
    saved = web.post(
        "/rules/new",
        data={"csrf": csrf, "name": "bd", "query": "ByteDance AND Huawei", "action": "save"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert [r["name"] for r in items(web.get("/v1/rules", headers=auth(token)))] == ["bd-hw", "bd"]
