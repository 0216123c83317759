"""Admin only: users (create, list, disable) and their tokens. Others get a 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep, utcnow
from api.tokens import issue_token
from store.users import (
    create_user,
    get_user,
    list_tokens,
    revoke_token,
    update_user,
    users_with_live_tokens,
)
from web.pages.common import back, not_found, web_router
from web.render import page
from web.sessions import Viewer, ViewerDep, WriterDep

router = web_router()

NameField = Annotated[str, Form(min_length=1, max_length=200)]


@router.get("/admin")
def admin_page(
    request: Request, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    if not viewer.user.is_admin:
        return not_found(request, viewer, "page")
    return _users(request, session, viewer, notice=notice[:300])


def _users(request: Request, session: SessionDep, viewer: Viewer, **context: Any) -> HTMLResponse:
    return page(
        request,
        "admin.html",
        viewer=viewer,
        users=users_with_live_tokens(session=session),
        **context,
    )


@router.post("/admin/users")
def add_user(request: Request, session: SessionDep, viewer: WriterDep, name: NameField) -> Response:
    if not viewer.user.is_admin:
        return not_found(request, viewer, "page")
    now = utcnow()
    user = create_user(session=session, name=name.strip(), now=now)
    _, token = issue_token(session=session, user_id=user.id or 0, now=now, name="initial")
    # The token is shown in this answer only.
    return _users(request, session, viewer, created=user, token=token)


@router.get("/admin/users/{user_id:int}")
def user_page(
    request: Request, user_id: int, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    user = get_user(session=session, user_id=user_id) if viewer.user.is_admin else None
    if user is None:
        return not_found(request, viewer, "user")
    return _user(request, session, viewer, user_id, notice=notice[:300])


def _user(
    request: Request, session: SessionDep, viewer: Viewer, user_id: int, **context: Any
) -> HTMLResponse:
    user = get_user(session=session, user_id=user_id)
    tokens = list_tokens(session=session, user_id=user_id)
    return page(request, "admin_user.html", viewer=viewer, user=user, tokens=tokens, **context)


@router.post("/admin/users/{user_id:int}/tokens")
def add_token(
    request: Request,
    user_id: int,
    session: SessionDep,
    viewer: WriterDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    user = get_user(session=session, user_id=user_id) if viewer.user.is_admin else None
    if user is None:
        return not_found(request, viewer, "user")
    _, token = issue_token(session=session, user_id=user_id, now=utcnow(), name=name.strip())
    return _user(request, session, viewer, user_id, token=token)


@router.post("/admin/users/{user_id:int}/tokens/{token_id:int}/revoke")
def revoke(
    request: Request, user_id: int, token_id: int, session: SessionDep, viewer: WriterDep
) -> Response:
    if not viewer.user.is_admin or not revoke_token(
        session=session, user_id=user_id, token_id=token_id, now=utcnow()
    ):
        return not_found(request, viewer, "token")
    return back(f"/admin/users/{user_id}", "token revoked; its sessions have ended")


@router.post("/admin/users/{user_id:int}/disable")
def disable(request: Request, user_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    return _set_disabled(request, user_id, session, viewer, disabled=True)


@router.post("/admin/users/{user_id:int}/enable")
def enable(request: Request, user_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    return _set_disabled(request, user_id, session, viewer, disabled=False)


def _set_disabled(
    request: Request, user_id: int, session: SessionDep, viewer: Viewer, *, disabled: bool
) -> Response:
    """Disable a user as PATCH /v1/users/{id} does (its tokens, sessions and channels stop
    at once, nothing is deleted), or enable it again. The admin cannot disable itself."""
    user = None
    if viewer.user.is_admin and user_id != viewer.user_id:
        user = update_user(session=session, user_id=user_id, now=utcnow(), disabled=disabled)
    if user is None:
        return not_found(request, viewer, "user")
    done = "disabled: its tokens, sessions and channels have stopped" if disabled else "enabled"
    return back("/admin", f"{user.name}: {done}")
