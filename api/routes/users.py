"""Users: created by the admin; each gets a token shown once."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminDep, SessionDep, utcnow
from api.schemas import UserCreate, UserCreated
from api.tokens import issue_token
from store.users import create_user

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    summary="Create a user (admin only)",
)
def create(body: UserCreate, session: SessionDep, _admin: AdminDep) -> UserCreated:
    now = utcnow()
    user = create_user(session=session, name=body.name, now=now)
    assert user.id is not None
    _, token = issue_token(session=session, user_id=user.id, now=now, name="initial")
    return UserCreated(id=user.id, name=user.name, token=token)
