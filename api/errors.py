"""Exception handlers: bad input is a clear 4xx, and nothing leaks a stack trace."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError

log = structlog.get_logger(__name__)


def install_error_handlers(app: FastAPI) -> None:
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
