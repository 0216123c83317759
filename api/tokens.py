"""API tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session

from store.tables import ApiToken
from store.users import add_token

TOKEN_PREFIX = "nw_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters, enough to tell tokens apart in a list."""
    return token[:10]


def issue_token(
    *, session: Session, user_id: int, now: datetime, name: str = ""
) -> tuple[ApiToken, str]:
    """Store a new token of a user (its hash only); return the row and the secret, which
    is shown once and never again."""
    secret = new_token()
    row = add_token(
        session=session,
        user_id=user_id,
        token_hash=hash_token(secret),
        prefix=display_prefix(secret),
        now=now,
        name=name,
    )
    return row, secret
