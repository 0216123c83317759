"""Sign a test client in to the dashboard, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

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
