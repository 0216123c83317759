"""Mount the dashboard into the FastAPI app: pages, sign-in, assets, favicon."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web.pages import admin, channels, feeds, hits, rules, signin, stories, targets
from web.render import page
from web.security import secure
from web.sessions import CsrfRefused, SignInRequired, signin_url

STATIC = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routes (kept out of the OpenAPI document) to the app."""
    for module in (signin, hits, stories, rules, feeds, channels, targets, admin):
        app.include_router(module.router)
    app.mount("/assets", StaticFiles(directory=STATIC), name="assets")
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


def _favicon() -> Response:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    if request.method == "GET" and "text/event-stream" not in request.headers.get("accept", ""):
        return secure(RedirectResponse(signin_url(request), status_code=303))
    return secure(JSONResponse({"detail": "sign in first"}, status_code=401))


async def _csrf_refused(request: Request, _exc: Exception) -> Response:
    return secure(
        page(
            request,
            "error.html",
            status_code=403,
            viewer=None,
            title="Refused",
            message="This form was not sent from the dashboard (its CSRF token is missing or "
            "wrong). Reload the page and try again.",
        )
    )
