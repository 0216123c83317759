"""Headers every dashboard answer carries, and the CSRF token of a session."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

# No inline script or style anywhere: every script and stylesheet is a file under /assets.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class SecureRoute(APIRoute):
    """A route whose every answer carries the dashboard's security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            return secure(await handler(request))

        return with_headers


def csrf_token(session_secret: str) -> str:
    """Derived from the session's cookie value, which only the signed-in browser holds,
    so it needs no storage and no server key."""
    return hmac.new(session_secret.encode(), b"newswatch-csrf", hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return bool(a) and hmac.compare_digest(a.encode(), b.encode())
