"""Sign-in with an API token, the session cookie, and the signed-in viewer of a request.

A session is a random cookie value whose hash names a `web_sessions` row, which names the
API token that opened it. Every request reads that row joined to the token, so revoking
the token (or signing out) ends the session at once on every replica.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, utcnow
from api.tokens import hash_token
from store.tables import User
from store.users import user_for_token
from store.web_sessions import close_session, open_session, prune_sessions, session_user
from web.security import csrf_token, same

COOKIE = "nw_session"
SIGNIN_COOKIE = "nw_signin"  # double-submit value for the sign-in form, before a session
SESSION_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Viewer:
    user: User
    token_id: int
    csrf: str

    @property
    def user_id(self) -> int:
        return self.user.id or 0


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in, scripts get a 401."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_viewer(session: Session, secret: str | None) -> Viewer | None:
    if not secret or len(secret) > 200:
        return None
    found = session_user(session=session, session_hash=_hash(secret), now=utcnow())
    if found is None:
        return None
    user, token = found
    return Viewer(user=user, token_id=token.id or 0, csrf=csrf_token(secret))


def current_viewer(request: Request, session: SessionDep) -> Viewer:
    viewer = find_viewer(session, request.cookies.get(COOKIE))
    if viewer is None:
        raise SignInRequired()
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


async def checked_viewer(request: Request, viewer: ViewerDep) -> Viewer:
    """The viewer of a request that changes something: it must carry the CSRF token, in
    the form's `csrf` field or (from scripts) the `x-csrf-token` header."""
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf", ""))
    if not same(sent, viewer.csrf):
        raise CsrfRefused()
    return viewer


WriterDep = Annotated[Viewer, Depends(checked_viewer)]


def sign_in(
    request: Request, session: Session, token: str, form_nonce: str, next_path: str
) -> Response | str:
    """Open a session for a live token: a redirect that sets the cookie, or an error."""
    if not same(form_nonce, request.cookies.get(SIGNIN_COOKIE, "")):
        return "The sign-in form expired; please try again."
    found = user_for_token(session=session, token_hash=hash_token(token.strip()))
    if found is None:
        return "That token is unknown or revoked."
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    prune_sessions(session=session, now=now)
    open_session(
        session=session,
        session_hash=_hash(secret),
        token_id=found[1].id or 0,
        now=now,
        expires_at=now + SESSION_LIFETIME,
    )
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


def sign_out(request: Request, session: Session) -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        close_session(session=session, session_hash=_hash(secret), now=utcnow())
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def new_signin_nonce() -> str:
    return secrets.token_urlsafe(24)


def remember_signin_nonce(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def safe_next(path: str) -> str:
    """Only a local path: never an open redirect to another site."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def signin_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(here, safe="")


TokenField = Annotated[str, Form(max_length=200)]
