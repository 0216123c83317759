"""Users and their API tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from store.tables import ApiToken, User


def create_user(*, session: Session, name: str, now: datetime, is_admin: bool = False) -> User:
    user = User(name=name, is_admin=is_admin, created_at=now)
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def add_token(
    *, session: Session, user_id: int, token_hash: str, prefix: str, now: datetime, name: str = ""
) -> ApiToken:
    token = ApiToken(
        user_id=user_id, token_hash=token_hash, prefix=prefix, name=name, created_at=now
    )
    session.add(token)
    session.flush()
    return token


def user_for_token(*, session: Session, token_hash: str) -> tuple[User, ApiToken] | None:
    """The user behind a live (not revoked) token hash."""
    row = session.exec(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    return (row[0], row[1]) if row else None


def has_admin(*, session: Session) -> bool:
    return (
        session.exec(select(User.id).where(User.is_admin == sa.true()).limit(1)).first() is not None
    )


def ensure_admin(*, session: Session, token_hash: str, prefix: str, now: datetime) -> bool:
    """Make sure an admin owns this token hash. True when it was added now."""
    if session.exec(select(ApiToken.id).where(ApiToken.token_hash == token_hash)).first():
        return False
    admin = session.exec(select(User).where(User.is_admin == sa.true()).order_by(User.id)).first()  # type: ignore[arg-type]
    if admin is None:
        admin = create_user(session=session, name="admin", now=now, is_admin=True)
    assert admin.id is not None
    add_token(
        session=session,
        user_id=admin.id,
        token_hash=token_hash,
        prefix=prefix,
        now=now,
        name="admin",
    )
    return True


def find_user(*, session: Session, name: str) -> User | None:
    """A user by id (digits) or else by name; the oldest when names repeat."""
    if name.isdigit():
        return session.get(User, int(name))
    return session.exec(select(User).where(User.name == name).order_by(User.id)).first()  # type: ignore[arg-type]


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    """A user's live tokens, oldest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .order_by(ApiToken.id)  # type: ignore[arg-type]
    )
    return list(session.exec(stmt))


def revoke_token(*, session: Session, user_id: int, token_id: int, now: datetime) -> bool:
    """Revoke one of the user's live tokens; False when there is none by that id."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.add(token)
    session.flush()
    return True


def list_users(*, session: Session, limit: int = 1000) -> list[tuple[User, int]]:
    """Every user, oldest first, with the number of live tokens each holds."""
    live = (
        select(ApiToken.user_id, sa.func.count().label("n"))
        .where(ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .group_by(ApiToken.user_id)  # type: ignore[arg-type]
        .subquery()
    )
    rows = session.exec(
        select(User, sa.func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return [(user, int(n)) for user, n in rows]


def revoke_all_tokens(*, session: Session, user_id: int, now: datetime) -> int:
    """Revoke every live token of a user (which ends their dashboard sessions too)."""
    result = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr,arg-type]
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
