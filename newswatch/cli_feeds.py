"""`newswatch feeds add|list|import|export`: the feed catalogue from the command line."""

from __future__ import annotations

import asyncio
import enum
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine

from monitor.discover import resolve_feed_url
from monitor.errors import BlockedURLError, ParseError
from monitor.opml import Subscription, read_opml, write_opml
from net.guard import Guard, check_urls
from newswatch.cli_output import JsonOption, print_rows
from newswatch.settings import get_settings
from store import session_scope
from store.feeds import add_feed, all_feeds


class FullText(enum.StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


feeds_app = typer.Typer(help="Manage the feed catalogue.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _engine() -> Engine:
    from newswatch.cli import _setup
    from newswatch.service import build_engine
    from store.migrate import is_current

    _setup()
    engine = build_engine(get_settings())
    if not is_current(engine):
        errors.print("[red]The database schema is not current; run `newswatch migrate`.[/red]")
        raise typer.Exit(2)
    return engine


def _guard() -> Guard:
    from newswatch.service import url_guard  # the service's imports, only when needed

    return url_guard(get_settings())


@feeds_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="A feed URL, or a web page that advertises one.")],
    title: Annotated[str, typer.Option(help="A title to show instead of the feed's.")] = "",
    interval: Annotated[int | None, typer.Option(help="Poll interval in seconds.")] = None,
    full_text: Annotated[
        FullText,
        typer.Option(help="Fetch each item's page: when the feed's text is short, always, never."),
    ] = FullText.auto,
) -> None:
    """Add a feed (autodiscovered from a web page if needed)."""
    engine = _engine()
    try:
        found = asyncio.run(resolve_feed_url(url, _guard()))
    except (BlockedURLError, ParseError) as exc:
        errors.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    with session_scope(engine) as session:
        feed, created = add_feed(
            session=session,
            url=found,
            now=datetime.now(UTC),
            title=title,
            interval_seconds=interval,
            full_text=full_text.value,
        )
    verb = "added" if created else "already known as"
    console.print(f"feed [bold]{feed.id}[/bold] {verb} {found}")
    engine.dispose()


@feeds_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List feeds with their poll status (full values in a pipe, tab-separated)."""
    engine = _engine()
    with session_scope(engine, readonly=True) as session:
        rows = all_feeds(session=session)
    default = get_settings().poll_interval_seconds
    out = [
        {
            "id": r.feed.id,
            "title": r.feed.title,
            "url": r.feed.url,
            "status": r.feed.status,
            "errors": r.feed.error_count,
            "last_error": r.feed.last_error,
            "articles": r.article_count,
            "interval": r.feed.interval_seconds or default,
            "effective_interval": r.feed.effective_interval_seconds
            or r.feed.interval_seconds
            or default,
            "last_polled_at": r.feed.last_polled_at.isoformat() if r.feed.last_polled_at else None,
        }
        for r in rows
    ]
    print_rows(list(out[0]) if out else ["id", "title", "url"], out, as_json=as_json)
    engine.dispose()


@feeds_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="An OPML file ('-' for standard input).")],
) -> None:
    """Import the feeds of an OPML file, with a progress bar."""
    engine = _engine()
    document = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    try:
        subscriptions = read_opml(document)
    except ParseError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    checked = asyncio.run(check_urls([s.url for s in subscriptions], _guard()))
    added = existing = 0
    invalid: list[tuple[str, str]] = []
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress, session_scope(engine) as session:
        task = progress.add_task("import", total=len(subscriptions))
        for sub, error in zip(subscriptions, checked, strict=True):
            if error:
                invalid.append((sub.url, error))
            else:
                _, created = add_feed(
                    session=session,
                    url=sub.url,
                    now=datetime.now(UTC),
                    title=sub.title,
                    full_text=sub.full_text,
                )
                added += created
                existing += not created
            progress.advance(task)
    console.print(f"added [bold]{added}[/bold], existing {existing}, invalid {len(invalid)}")
    for url, reason in invalid:
        console.print(f"  [yellow]invalid[/yellow] {url}: {reason}")
    engine.dispose()


@feeds_app.command("export")
def export(
    path: Annotated[Path | None, typer.Argument(help="Write here instead of stdout.")] = None,
) -> None:
    """Export every feed as OPML."""
    engine = _engine()
    with session_scope(engine, readonly=True) as session:
        rows = all_feeds(session=session)
    document = write_opml(
        [Subscription(r.feed.url, r.feed.title, r.feed.site_url, r.feed.full_text) for r in rows]
    )
    if path is None:
        sys.stdout.write(document)
    else:
        path.write_text(document, encoding="utf-8")
        console.print(f"{len(rows)} feeds written to {path}")
    engine.dispose()
