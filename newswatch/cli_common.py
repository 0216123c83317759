"""What the CLI's commands share: the console, logging set-up and a checked engine."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from newswatch.logging import configure
from newswatch.settings import get_settings

console = Console()


def open_engine() -> Engine:
    """Configure logging and open the database; exit 2 when its schema is not current."""
    from newswatch.service import build_engine
    from store.migrate import is_current

    settings = get_settings()
    configure(level=settings.log_level, fmt=settings.log_format)
    engine = build_engine(settings)
    if not is_current(engine):
        engine.dispose()
        console.print("[red]The database schema is not current; run `newswatch migrate`.[/red]")
        raise typer.Exit(2)
    return engine
