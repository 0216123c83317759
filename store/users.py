"""Users and their API tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.tables import ApiToken, User


class NameTaken(Exception):
    """Another user has this name (names are unique, so that a name finds one user)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a user named {name!r} exists already")
        self.name = name


def create_user(*, session: Session, name: str, now: datetime, is_admin: bool = False) -> User:
    """A new user; raises NameTaken when the name is in use."""
    user = User(name=name, is_admin=is_admin, created_at=now)
    try:
        with session.begin_nested():  # a taken name fails alone; the session goes on
            session.add(user)
    except IntegrityError:
        raise NameTaken(name) from None
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(*, session: Session, limit: int, after_id: int = 0) -> list[User]:
    """Users in id order, keyset-paged."""
    stmt = select(User).where(col(User.id) > after_id).order_by(col(User.id)).limit(limit)
    return list(session.exec(stmt))


def update_user(
    *,
    session: Session,
    user_id: int,
    now: datetime,
    name: str | None = None,
    disabled: bool | None = None,
) -> User | None:
    """Rename and/or disable (or enable) a user. None when there is no such user; raises
    NameTaken for a name in use. A disabled user's tokens and channels stop at once."""
    user = session.get(User, user_id)
    if user is None:
        return None
    try:
        with session.begin_nested():  # changes made inside, so that they flush inside
            if name is not None:
                user.name = name
            if disabled is not None:
                user.disabled_at = (user.disabled_at or now) if disabled else None
            session.add(user)
    except IntegrityError:
        raise NameTaken(name or "") from None
    return user


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
    """The user behind a live (not revoked) token hash, unless the user is disabled."""
    row = session.exec(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .where(col(User.disabled_at).is_(None))
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
        name = "admin" if find_user(session=session, name="admin") is None else "admin-0"
        admin = create_user(session=session, name=name, now=now, is_admin=True)
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
    """A user by id (digits) or else by its (unique) name."""
    if name.isdigit():
        return session.get(User, int(name))
    return session.exec(select(User).where(User.name == name)).first()


def list_tokens(
    *, session: Session, user_id: int, limit: int | None = None, after_id: int = 0
) -> list[ApiToken]:
    """A user's live tokens, oldest first, keyset-paged."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .where(col(ApiToken.id) > after_id)
        .order_by(ApiToken.id)  # type: ignore[arg-type]
        .limit(limit)
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


def users_with_live_tokens(*, session: Session, limit: int = 1000) -> list[tuple[User, int]]:
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
