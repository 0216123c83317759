"""The HTTP API (FastAPI): routes, auth, schemas, docs, health and metrics."""

from api.app import create_app
from api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
