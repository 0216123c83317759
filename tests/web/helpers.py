"""Sign a test client in to the dashboard, as a browser would; store copies of a story."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from store import session_scope
from store.hits import record_hits_and_enqueue
from store.stories import save_stories
from store.values import NewHit
from tests.support.seed import seed_article

_FIELD = re.compile(r'name="(csrf|nonce)" value="([^"]+)"')


def field(html: str, name: str) -> str:
    for found, value in _FIELD.findall(html):
        if found == name:
            return value
    raise AssertionError(f"no {name} field in the page")


def sign_in(client: TestClient, token: str) -> str:
    """Sign in with an API token; return the session's CSRF token."""
    form = client.get("/signin")
    answer = client.post(
        "/signin",
        data={"token": token, "nonce": field(form.text, "nonce"), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return field(client.get("/rules").text, "csrf")


def items(answer: Any) -> list[Any]:
    """A list answer's rows, whether it is a bare list or `{"items", "next_cursor"}`."""
    body = answer.json()
    return list(body["items"] if isinstance(body, dict) else body)


def story_copy(engine: Engine, outlet: str, rule_ids: list[int], story: int | None = None) -> int:
    """An outlet's copy of one wire story, joined to `story` (or starting one), hit by the
    rules; returns its article id."""
    now = datetime.now(UTC)
    slug = outlet.lower().replace(" ", "-")
    with session_scope(engine) as session:
        stored = seed_article(
            session,
            url=f"https://{slug}.example/huawei",
            now=now,
            title=f"Huawei ships a new chip ({outlet})",
            summary="Huawei ships a new chip.",
            feed_url=f"http://127.0.0.1:9/{slug}.xml",
            feed_title=outlet,
        )
        if story is not None:
            save_stories(session=session, stories={stored.id: story}, keys={})
        hits = [NewHit(r, stored.id, "**Huawei** ships", ("huawei",)) for r in rule_ids]
        record_hits_and_enqueue(session=session, hits=hits, now=now)
        return stored.id
