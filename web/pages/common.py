"""What every page module shares: its router class and the not-found page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

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
