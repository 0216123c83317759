"""Readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def ping(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
