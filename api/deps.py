"""Request dependencies: the database session and the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.config import ApiConfig
from api.tokens import hash_token
from store import session_scope
from store.hits import decode_cursor, encode_cursor
from store.tables import User
from store.users import user_for_token

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer nw_…`")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_config(request: Request) -> ApiConfig:
    return request.app.state.config


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request; reads do not take SQLite's write lock."""
    readonly = request.method in ("GET", "HEAD", "OPTIONS")
    with session_scope(get_engine(request), readonly=readonly) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
ConfigDep = Annotated[ApiConfig, Depends(get_config)]


def current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = user_for_token(session=session, token_hash=hash_token(credentials.credentials))
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found[0]


UserDep = Annotated[User, Depends(current_user)]


def admin_user(user: UserDep) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route is for the admin only")
    return user


AdminDep = Annotated[User, Depends(admin_user)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def not_found(what: str, ident: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} {ident} not found")


def field_error(
    field: str, message: str, kind: str = "value_error", **ctx: object
) -> HTTPException:
    """A 422 in FastAPI's validation shape, for checks that need I/O (DNS, the database)."""
    detail: dict[str, object] = {"loc": ["body", field], "msg": message, "type": kind}
    if ctx:
        detail["ctx"] = ctx
    return HTTPException(422, [detail])


def page_end(ids: list[int], limit: int, kind: str) -> str | None:
    """`next_cursor` for a page fetched with `limit + 1` rows: the last id shown, when
    there is more."""
    return encode_cursor(ids[limit - 1], kind) if len(ids) > limit else None


def keyset_page(
    config: ApiConfig, limit: int | None, cursor: str | None, kind: str = "h"
) -> tuple[int, int | None]:
    """A page's size and the id it continues before (from `cursor`), or a 422."""
    limit = limit or config.default_page_size
    if limit > config.max_page_size:
        raise HTTPException(
            422, f"limit {limit} is over the maximum page size {config.max_page_size}"
        )
    if not cursor:
        return limit, None
    try:
        return limit, decode_cursor(cursor, kind)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, "invalid cursor") from None
