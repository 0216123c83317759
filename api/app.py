"""The FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from api.config import ApiConfig
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.metrics import app_registry
from api.openapi import install_openapi
from api.routes import (
    articles,
    channels,
    deliveries,
    email_links,
    feeds,
    health,
    hits,
    mutes,
    rules,
    stories,
    telegram,
    tokens,
    users,
    webhook_modes,
    webhooks,
)

DOCS_ASSETS = "/docs/assets"


def create_app(
    *, engine: Engine, config: ApiConfig | None = None, registry: CollectorRegistry | None = None
) -> FastAPI:
    """Build the app around an engine; nothing here reads the environment."""
    # /docs (Swagger UI) and /redoc load their scripts from the app, not from a CDN.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        title="newswatch",
        version="1",
        summary="Boolean watch rules over news feeds, alerting to Telegram and signed webhooks.",
    )
    app.state.engine = engine
    app.state.config = config or ApiConfig()
    app.state.registry = app_registry(engine, registry)
    for module in (
        health,
        users,
        feeds,
        articles,
        rules,
        mutes,
        hits,
        stories,
        webhooks,
        webhook_modes,
        channels,
        deliveries,
        telegram,
        email_links,
    ):
        app.include_router(module.router)
    app.include_router(tokens.router)
    # Imported here: the dashboard calls the API's shared functions, so `web` imports `api`.
    from web import install_dashboard

    install_dashboard(app)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=app.state.config.max_request_bytes)
    install_openapi(app)
    return app
