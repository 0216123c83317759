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
from rich.table import Table
from sqlalchemy.engine import Engine

from monitor.discover import resolve_feed_url
from monitor.errors import BlockedURLError, ParseError
from monitor.opml import Subscription, read_opml, write_opml
from net.guard import Guard, check_urls
from newswatch.settings import Settings, get_settings
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


def _guard(settings: Settings) -> Guard:
    from newswatch.service import _allowlist

    return Guard(allow_private=settings.allow_private_networks, allowlist=_allowlist(settings))


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
        found = asyncio.run(resolve_feed_url(url, _guard(get_settings())))
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
def list_() -> None:
    """List feeds with their poll status."""
    engine = _engine()
    with session_scope(engine, readonly=True) as session:
        rows = all_feeds(session=session)
    table = Table("id", "title", "url", "status", "errors", "articles", "last polled")
    for row in rows:
        feed = row.feed
        status = (
            feed.status if feed.status != "error" else f"[red]error[/red] {feed.last_error[:60]}"
        )
        polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "-"
        table.add_row(
            str(feed.id), feed.title[:40], feed.url, status, str(feed.error_count),
            str(row.article_count), polled,
        )  # fmt: skip
    Console().print(table)  # made now, so that it measures the terminal now
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
    checked = asyncio.run(check_urls([s.url for s in subscriptions], _guard(get_settings())))
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
