"""Liveness, readiness and metrics: no authentication."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.schemas import Health
from store.health import ping
from store.migrate import is_current

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    response_model_exclude_none=True,  # {"status":"ok"}, as documented
    summary="Liveness: the process answers",
)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: the database answers and its schema is current",
    responses={503: {"model": Health, "description": "Not ready: database down or schema old"}},
)
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        await asyncio.to_thread(ping, engine)
        current = await asyncio.to_thread(is_current, engine)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "detail": f"database: {type(exc).__name__}"}, status_code=503
        )
    if not current:
        return JSONResponse(
            {"status": "unavailable", "detail": "schema is not current; run `newswatch migrate`"},
            status_code=503,
        )
    return JSONResponse({"status": "ok"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    registry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
