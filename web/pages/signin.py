"""Sign in with an API token, and sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from web.pages.common import web_router
from web.render import page
from web.sessions import (
    COOKIE,
    TokenField,
    WriterDep,
    find_viewer,
    new_signin_nonce,
    remember_signin_nonce,
    safe_next,
    sign_in,
    sign_out,
)

router = web_router()


@router.get("/signin")
def signin_form(
    request: Request, session: SessionDep, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    if find_viewer(session, request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next)


def _form(request: Request, next_path: str, error: str = "", status_code: int = 200) -> Response:
    nonce = new_signin_nonce()
    response = page(
        request, "signin.html", status_code, viewer=None, next=next_path, error=error, nonce=nonce
    )
    remember_signin_nonce(response, request, nonce)
    return response


@router.post("/signin")
def signin_submit(
    request: Request,
    session: SessionDep,
    token: TokenField,
    nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    result = sign_in(request, session, token, nonce, next)
    if isinstance(result, str):
        return _form(request, next, result, 401)
    return result


@router.post("/signout")
def signout(request: Request, session: SessionDep, _viewer: WriterDep) -> Response:
    return sign_out(request, session)
