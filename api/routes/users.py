"""Users, managed by the admin: create (a token is shown once), list, rename, disable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import AdminDep, ConfigDep, SessionDep, keyset_page, not_found, page_end, utcnow
from api.params import Id, UserCursor
from api.schemas import UserCreate, UserCreated, UserPage, UserPublic, UserUpdate
from api.tokens import issue_token
from store.tables import User
from store.users import NameTaken, create_user, list_users, update_user

router = APIRouter(prefix="/v1/users", tags=["users"])
USER_CURSOR = "u"
_TAKEN: dict[int | str, dict[str, Any]] = {409: {"description": "Another user has this name"}}


def to_public(user: User) -> UserPublic:
    assert user.id is not None
    return UserPublic(
        id=user.id,
        name=user.name,
        is_admin=user.is_admin,
        disabled=user.disabled_at is not None,
        created_at=user.created_at,
    )


def _taken(exc: NameTaken) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, f"{exc}; choose another name")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    summary="Create a user (admin only)",
    responses=_TAKEN,
)
def create(body: UserCreate, session: SessionDep, _admin: AdminDep) -> UserCreated:
    now = utcnow()
    try:
        user = create_user(session=session, name=body.name, now=now)
    except NameTaken as exc:
        raise _taken(exc) from None
    assert user.id is not None
    _, token = issue_token(session=session, user_id=user.id, now=now, name="initial")
    return UserCreated(id=user.id, name=user.name, token=token)


@router.get("", response_model=UserPage, summary="List users, oldest first (admin only)")
def list_(
    session: SessionDep,
    _admin: AdminDep,
    config: ConfigDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: UserCursor = None,
) -> UserPage:
    limit, after_id = keyset_page(config, limit, cursor, USER_CURSOR)
    rows = list_users(session=session, limit=limit + 1, after_id=after_id or 0)
    return UserPage(
        items=[to_public(u) for u in rows[:limit]],
        next_cursor=page_end([u.id or 0 for u in rows], limit, USER_CURSOR),
    )


@router.patch(
    "/{user_id:int}",
    response_model=UserPublic,
    summary="Rename a user, or disable it: its tokens and channels stop (admin only)",
    responses=_TAKEN,
)
def patch(user_id: Id, body: UserUpdate, session: SessionDep, admin: AdminDep) -> UserPublic:
    if body.disabled and user_id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "the admin cannot disable itself")
    try:
        user = update_user(
            session=session, user_id=user_id, now=utcnow(), name=body.name, disabled=body.disabled
        )
    except NameTaken as exc:
        raise _taken(exc) from None
    if user is None:
        raise not_found("user", user_id)
    return to_public(user)
