"""Exception handlers: bad input is a clear 4xx, and nothing leaks a stack trace."""

from __future__ import annotations

import re

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """Every method the OpenAPI document lists at this path, or None for
    a path it does not list. Starlette's 405 names only the first route that matched, and
    FastAPI makes one route per method. Path parameters here are all integer ids."""
    table = getattr(app.state, "allow_table", None)
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[0-9]+", re.escape(template)) + "$"), item)
            for template, item in app.openapi()["paths"].items()
        ]
        app.state.allow_table = table
    for pattern, item in table:
        if pattern.match(path):
            return sorted(m.upper() for m in item if m in _HTTP_METHODS)
    return None


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        methods = allowed_methods(app, request.url.path) if exc.status_code == 405 else None
        if methods:
            exc = StarletteHTTPException(405, exc.detail, headers={"Allow": ", ".join(methods)})
        return await http_exception_handler(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A foreign key to something that does not exist, or a race on a unique key.
        log.info("api.integrity_error", path=request.url.path, error=str(exc.orig)[:200])
        return JSONResponse({"detail": "conflicts with existing data"}, status_code=409)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # An id or number past the database's 64-bit integers (SQLite raises
        # OverflowError, PostgreSQL a DataError): it cannot name anything stored.
        log.info("api.out_of_range", path=request.url.path, error=str(exc)[:200])
        return JSONResponse({"detail": "a number in the request is out of range"}, 422)
