"""What every page module shares: its router class and the not-found page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.pages.modes import FormProblem
from web.render import page
from web.security import SecureRoute
from web.sessions import Viewer


def web_router() -> APIRouter:
    return APIRouter(route_class=SecureRoute, include_in_schema=False)


def not_found(request: Request, viewer: Viewer | None, what: str) -> HTMLResponse:
    """Another user's object looks exactly like a missing one, as in the API."""
    return page(
        request, "error.html", 404, viewer=viewer, title="Not found", message=f"No such {what}."
    )


def problem(exc: HTTPException) -> str:
    """An API error's detail, in words."""
    detail = exc.detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", detail))
    return str(detail)


def back(path: str, notice: str = "") -> RedirectResponse:
    """After a change: the page again (303, so a reload does not post twice)."""
    if notice:
        path += ("&" if "?" in path else "?") + "notice=" + quote(notice)
    return RedirectResponse(path, status_code=303)


T = TypeVar("T")


def act(
    request: Request,
    viewer: Viewer,
    what: str,
    to: str,
    notice: Callable[[T], str] | str,
    call: Callable[..., T],
    *args: Any,
) -> Response:
    """A form's change, made by calling the API's route function with `args`: a form the
    API's schema refused, or any refusal of the route, goes back to `to` with the reason;
    its 404 is this page's not-found (another user's object too)."""
    refused = next((a for a in args if isinstance(a, FormProblem)), None)
    if refused is not None:
        return back(to, f"Not changed: {refused}")
    try:
        result = call(*args)
    except HTTPException as exc:
        if exc.status_code == 404:
            return not_found(request, viewer, what)
        return back(to, f"Not changed: {problem(exc)}")
    return back(to, notice if isinstance(notice, str) else notice(result))


def muted_notice(result: Any) -> str:
    return f"muted until {result.muted_until:%Y-%m-%d %H:%M} UTC"
