"""`newswatch rules add|list|test`: manage watch rules and try queries from a terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlmodel import Session

from newswatch.cli_common import console, open_engine
from newswatch.cli_output import JsonOption, print_rows
from newswatch.settings import get_settings
from rules import MARK_CLOSE, MARK_OPEN, Document, RuleIndex, RuleSyntaxError, parse
from store.tables import User

rules_app = typer.Typer(help="Manage watch rules and try queries.", no_args_is_help=True)

UserOption = Annotated[str, typer.Option("--user", "-u", help="The owner: a user id or name.")]


def _parse_or_exit(query: str) -> None:
    try:
        parse(query)
    except RuleSyntaxError as exc:
        console.print(f"[red]Invalid query: {escape(exc.message)} at {exc.position}[/red]")
        console.print(escape(exc.caret()), highlight=False)
        raise typer.Exit(2) from None
    except RecursionError:
        console.print("[red]Invalid query: the query is nested too deeply[/red]")
        raise typer.Exit(2) from None


def _owner(session: Session, user: str) -> User:
    from store.users import find_user

    found = find_user(session=session, name=user)
    if found is None:
        console.print(f"[red]No user {user!r}.[/red]")
        raise typer.Exit(2)
    return found


def highlight(snippet: str) -> str:
    """Rich markup for a snippet: the matched words (between marks) in bold."""
    parts = snippet.split(MARK_OPEN) if MARK_OPEN == MARK_CLOSE else [snippet]
    return "".join(
        f"[bold yellow]{escape(p)}[/bold yellow]" if i % 2 else escape(p)
        for i, p in enumerate(parts)
    )


@rules_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name for the rule.")],
    query: Annotated[str, typer.Argument(help='The query, e.g. "ByteDance AND Huawei".')],
    user: UserOption,
    feed: Annotated[
        list[int] | None, typer.Option(help="Limit the rule to this feed id (repeatable).")
    ] = None,
    disabled: Annotated[bool, typer.Option(help="Create the rule switched off.")] = False,
    backfill_hours: Annotated[
        float,
        typer.Option(
            min=0, help="Also alert on stored articles this recent (at most ALERT_MAX_AGE_HOURS)."
        ),
    ] = 0,
) -> None:
    """Add a rule for a user; a bad query is refused with a caret under the error. Says
    how many stored articles of the alert window already match."""
    from monitor.backfill import backlog
    from store import session_scope
    from store.rules import count_rules, create_rule

    _parse_or_exit(query)
    window = _window_or_exit(backfill_hours or None)
    engine = open_engine()
    limit = get_settings().max_rules_per_user
    try:
        with session_scope(engine) as session:
            owner = _owner(session, user)
            if count_rules(session=session, user_id=owner.id or 0) >= limit:
                console.print(f"[red]Rule limit reached: {limit} per user.[/red]")
                raise typer.Exit(2)
            rule = create_rule(
                session=session,
                user_id=owner.id or 0,
                name=name,
                query=query,
                feed_ids=feed or None,
                enabled=not disabled,
                now=datetime.now(UTC),
            )
            rule_id = rule.id
            found = backlog(
                session=session,
                rule=rule,
                now=datetime.now(UTC),
                hours=backfill_hours or window,
                record=backfill_hours > 0,
            )
    finally:
        engine.dispose()
    console.print(f"rule [bold]{rule_id}[/bold] {name!r} added for {user}")
    _say_backlog(rule_id or 0, found.hours, found.matching, found.alerted)


def _window_or_exit(hours: float | None) -> float:
    """`hours`, or the alert window when None; exit 2 past the window."""
    window = get_settings().alert_max_age_hours
    if hours is not None and hours > window:
        console.print(
            f"[red]{hours:g} hours is past the alert window: at most {window:g} "
            "(NEWSWATCH_ALERT_MAX_AGE_HOURS).[/red]"
        )
        raise typer.Exit(2)
    return window if hours is None else hours


def _say_backlog(rule_id: int, hours: float, matching: int, alerted: int) -> None:
    if alerted:
        console.print(f"alerted {alerted} stored article(s) of the last {hours:g} h")
    elif matching:
        console.print(
            f"{matching} stored article(s) of the last {hours:g} h already match; a new rule "
            f"alerts only new articles: `newswatch rules backfill {rule_id}` alerts them"
        )


@rules_app.command("backfill")
def backfill(
    rule: Annotated[int, typer.Argument(help="The rule id.")],
    hours: Annotated[
        float | None,
        typer.Option(min=0, help="How far back [default: and at most ALERT_MAX_AGE_HOURS]."),
    ] = None,
) -> None:
    """Alert on the stored articles of the alert window the rule matches, each once."""
    from monitor.backfill import backlog
    from store import session_scope
    from store.rules import get_rule

    window = _window_or_exit(hours)
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            found_rule = get_rule(session=session, rule_id=rule)
            if found_rule is None:
                console.print(f"[red]No rule {rule}.[/red]")
                raise typer.Exit(2)
            found = backlog(
                session=session, rule=found_rule, now=datetime.now(UTC), hours=window, record=True
            )
    finally:
        engine.dispose()
    if not found.matching:
        console.print(f"nothing to alert: no stored article of the last {window:g} h is new to it")
    elif not found.alerted:
        console.print(f"{found.matching} match, but rule {rule} is disabled: enable it first")
    else:
        _say_backlog(rule, window, found.matching, found.alerted)


@rules_app.command("list")
def list_(user: UserOption, as_json: JsonOption = False) -> None:
    """List a user's rules (full values in a pipe, tab-separated)."""
    from store import session_scope
    from store.rules import list_rules

    engine = open_engine()
    try:
        with session_scope(engine, readonly=True) as session:
            owner = _owner(session, user)
            rows = list_rules(session=session, user_id=owner.id or 0, limit=100_000)
    finally:
        engine.dispose()
    out = [
        {
            "id": r.id,
            "name": r.name,
            "enabled": r.enabled,
            "feed_ids": r.feed_ids if r.feed_ids else "all",
            "query": r.query,
        }
        for r in rows
    ]
    print_rows(["id", "name", "enabled", "feed_ids", "query"], out, as_json=as_json)


@rules_app.command("test")
def test(
    query: Annotated[str, typer.Argument(help="The query to try.")],
    text: Annotated[str, typer.Option(help="The article body to match against.")] = "",
    title: Annotated[str, typer.Option(help="The article title.")] = "",
    file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Read the body from a file.")
    ] = None,
) -> None:
    """Match a query against some text and explain it: the matched terms and a snippet.
    Exits 0 on a match, 1 on none, 2 on an invalid query."""
    _parse_or_exit(query)
    if file is not None:
        text = file.read_text(encoding="utf-8", errors="replace")
    index = RuleIndex()
    index.add(0, parse(query))
    hits = index.match(Document(title=title, text=text))
    if not hits:
        console.print("[red]no match[/red]")
        raise typer.Exit(1)
    console.print("[green]match[/green]")
    console.print(
        "matched terms: " + ", ".join(f"[bold]{escape(t)}[/bold]" for t in hits[0].matched_terms)
    )
    console.print("snippet: " + highlight(hits[0].snippet), highlight=False)
