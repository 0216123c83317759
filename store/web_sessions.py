"""Dashboard sessions: a row per sign-in, valid only while its API token is live."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.tables import ApiToken, User, WebSession


def open_session(
    *, session: Session, session_hash: str, token_id: int, now: datetime, expires_at: datetime
) -> WebSession:
    row = WebSession(
        session_hash=session_hash, token_id=token_id, created_at=now, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def session_user(
    *, session: Session, session_hash: str, now: datetime
) -> tuple[User, ApiToken] | None:
    """The user and token behind a live session: not expired, its token not revoked, the
    user not disabled."""
    row = session.exec(
        select(User, ApiToken)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .join(WebSession, col(WebSession.token_id) == ApiToken.id)
        .where(
            WebSession.session_hash == session_hash,
            col(WebSession.expires_at) > now,
            col(ApiToken.revoked_at).is_(None),
            col(User.disabled_at).is_(None),
        )
    ).first()
    return (row[0], row[1]) if row else None


def close_session(*, session: Session, session_hash: str, now: datetime) -> None:
    """Sign out: the row goes, and expired rows with it."""
    table: sa.Table = WebSession.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.delete(table).where(
            sa.or_(table.c.session_hash == session_hash, table.c.expires_at <= now)
        )
    )


def prune_sessions(*, session: Session, now: datetime) -> None:
    """Drop expired sessions (done at each sign-in, so the table stays small)."""
    table: sa.Table = WebSession.__table__  # type: ignore[attr-defined]
    session.execute(sa.delete(table).where(table.c.expires_at <= now))
