"""The FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.engine import Engine

from api.config import ApiConfig
from api.errors import install_error_handlers
from api.routes import feeds, health, hits, rules, telegram, users, webhooks


def create_app(
    *, engine: Engine, config: ApiConfig | None = None, registry: CollectorRegistry | None = None
) -> FastAPI:
    """Build the app around an engine; nothing here reads the environment."""
    app = FastAPI(
        title="newswatch",
        version="1",
        summary="Boolean watch rules over news feeds, alerting to Telegram and signed webhooks.",
    )
    app.state.engine = engine
    app.state.config = config or ApiConfig()
    app.state.registry = registry or REGISTRY
    for module in (health, users, feeds, rules, hits, webhooks, telegram):
        app.include_router(module.router)
    install_error_handlers(app)
    return app
