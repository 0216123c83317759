"""The `newswatch` command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from newswatch.cli_feeds import feeds_app
from newswatch.cli_rules import rules_app
from newswatch.cli_users import users_app
from newswatch.cli_webhooks import webhooks_app
from newswatch.logging import configure
from newswatch.settings import get_settings

app = typer.Typer(
    help="newswatch: boolean watch rules over news feeds, with alerts.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(users_app, name="users")
app.add_typer(feeds_app, name="feeds")
app.add_typer(rules_app, name="rules")
app.add_typer(webhooks_app, name="webhooks")
dev_app = typer.Typer(help="Tools for trying newswatch locally.", no_args_is_help=True)
app.add_typer(dev_app, name="dev")
console = Console()


def _setup() -> None:
    settings = get_settings()
    configure(level=settings.log_level, fmt=settings.log_format)


@app.command()
def run(
    host: Annotated[
        str | None, typer.Option(help="Address the API listens on [default: NEWSWATCH_HOST].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port the API listens on [default: NEWSWATCH_PORT].")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated roles: api,poller,dispatcher,bot [default: NEWSWATCH_ROLES, all]."
        ),
    ] = None,
) -> None:
    """Run the service (all roles by default). Migrates SQLite by itself."""
    from newswatch.service import ROLES, serve

    _setup()
    settings = get_settings()
    roles = {r.strip() for r in (role or settings.roles).split(",") if r.strip()}
    unknown = roles - set(ROLES)
    if unknown or not roles:
        raise typer.BadParameter(
            f"unknown role(s) {sorted(unknown)}; choose from {', '.join(ROLES)}",
            param_hint="--role",
        )
    code = asyncio.run(
        serve(
            settings,
            roles=roles,
            host=host or settings.host,
            port=settings.port if port is None else port,
        )
    )
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (the upgrade path between versions)."""
    from newswatch.service import STARTUP_DB_WAIT_SECONDS, build_engine, wait_for_database
    from store.migrate import current_revision, upgrade

    _setup()
    engine = build_engine(get_settings())
    wait_for_database(engine, wait_seconds=STARTUP_DB_WAIT_SECONDS)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    console.print(
        f"schema at [bold]{after}[/bold]" + (f" (was {before})" if before != after else "")
    )
    engine.dispose()


@dev_app.command("telegram")
def dev_telegram(
    port: Annotated[
        int | None, typer.Option(help="Port the API listens on [default: NEWSWATCH_PORT].")
    ] = None,
) -> None:
    """Chat with the bot in this terminal: the service runs against a local fake Bot API.
    Each line is a message; `>N` presses a button; Ctrl-D stops."""
    from newswatch import dev_telegram as dev
    from newswatch.service import ROLES

    _setup()
    settings = get_settings()
    code = dev.run(
        settings,
        roles=set(ROLES),
        host=settings.host,
        port=settings.port if port is None else port,
    )
    raise typer.Exit(code)


@app.command()
def prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Apply retention now: old hits with their finished deliveries, articles no hit
    refers to, and old page texts (ARTICLE/FULL_TEXT/HIT_RETENTION_DAYS)."""
    from datetime import UTC, datetime

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from monitor.retention import prune as run_prune
    from newswatch.cli_common import open_engine
    from newswatch.service import lease_owner_id, retention_policy

    engine = open_engine()
    policy = retention_policy(get_settings())
    try:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("counting" if dry_run else "pruning")
            report = run_prune(
                engine,
                policy,
                now=datetime.now(UTC),
                owner=lease_owner_id(),
                dry_run=dry_run,
                on_batch=lambda r: progress.update(task, description=f"batch {r.batches}"),
            )
    finally:
        engine.dispose()
    if report.skipped:
        console.print("[yellow]Another replica is pruning now; nothing done.[/yellow]")
        raise typer.Exit(1)
    verb = "would delete" if dry_run else "deleted"
    counts = report.counts
    console.print(
        f"{verb}: {counts['hits']} hits, {counts['deliveries']} finished deliveries, "
        f"{counts['articles']} articles; {'would drop' if dry_run else 'dropped'} "
        f"{counts['texts']} page texts"
    )
