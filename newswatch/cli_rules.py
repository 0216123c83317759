"""`newswatch rules add|list|test`: manage watch rules and try queries from a terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from newswatch.cli_common import console, open_engine
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
) -> None:
    """Add a rule for a user; a bad query is refused with a caret under the error."""
    from store import session_scope
    from store.rules import count_rules, create_rule

    _parse_or_exit(query)
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
    finally:
        engine.dispose()
    console.print(f"rule [bold]{rule_id}[/bold] {name!r} added for {user}")


@rules_app.command("list")
def list_(user: UserOption) -> None:
    """List a user's rules."""
    from store import session_scope
    from store.rules import list_rules

    engine = open_engine()
    try:
        with session_scope(engine, readonly=True) as session:
            owner = _owner(session, user)
            rows = list_rules(session=session, user_id=owner.id or 0, limit=100_000)
    finally:
        engine.dispose()
    table = Table("id", "name", "enabled", "feeds", "query", title=f"rules of {owner.name}")
    for r in rows:
        feeds = ", ".join(map(str, r.feed_ids)) if r.feed_ids else "all"
        table.add_row(
            str(r.id), escape(r.name), "yes" if r.enabled else "no", feeds, escape(r.query)
        )
    console.print(table)


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
