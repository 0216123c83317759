"""`newswatch users create|list|token|rename|disable|enable`: users from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import Session

from newswatch.cli_common import open_engine
from newswatch.cli_output import JsonOption, print_rows
from store import session_scope
from store.tables import User
from store.users import NameTaken, create_user, find_user, list_users, update_user

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
UserArg = Annotated[str, typer.Argument(help="The user: an id or a name.")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="The owner: a user id or name.")]


def find_or_exit(session: Session, user: str) -> User:
    """The user named by an id or a name, or exit 2 saying there is none."""
    found = find_user(session=session, name=user)
    if found is None:
        errors.print(f"[red]No user {user!r}.[/red]")
        raise typer.Exit(2)
    return found


def _name_taken(exc: NameTaken) -> typer.Exit:
    errors.print(f"[red]{exc}[/red]: choose another name (`newswatch users list` shows them).")
    return typer.Exit(2)


@users_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The user's name (unique).")],
    admin: Annotated[bool, typer.Option(help="Make the user an admin.")] = False,
) -> None:
    """Create a user and print its API token (shown once)."""
    from api.tokens import issue_token

    if name.isdigit():
        errors.print(f"[red]A name of digits only ({name!r}) would read as an id.[/red]")
        raise typer.Exit(2)
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            try:
                user = create_user(session=session, name=name, is_admin=admin, now=_now())
            except NameTaken as exc:
                raise _name_taken(exc) from None
            _, token = issue_token(session=session, user_id=user.id or 0, now=_now(), name="cli")
            user_id = user.id
    finally:
        engine.dispose()
    console.print(f"user [bold]{user_id}[/bold] {name!r} created; token (shown once):")
    print(token)


@users_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List users: id, name, admin, disabled, created."""
    engine = open_engine()
    try:
        with session_scope(engine, readonly=True) as session:
            users = list_users(session=session, limit=1_000_000)
            rows = [
                {
                    "id": u.id,
                    "name": u.name,
                    "admin": u.is_admin,
                    "disabled": u.disabled_at is not None,
                    "created_at": u.created_at.isoformat(),
                }
                for u in users
            ]
    finally:
        engine.dispose()
    print_rows(["id", "name", "admin", "disabled", "created_at"], rows, as_json=as_json)


@users_app.command("token")
def token(
    user: UserArg,
    name: Annotated[str, typer.Option(help="A label for the new token.")] = "cli",
) -> None:
    """Create another API token for a user and print it (shown once)."""
    from api.tokens import issue_token

    engine = open_engine()
    try:
        with session_scope(engine) as session:
            found = find_or_exit(session, user)
            _, new = issue_token(session=session, user_id=found.id or 0, now=_now(), name=name)
            label = f"user [bold]{found.id}[/bold] {found.name!r}"
    finally:
        engine.dispose()
    console.print(f"new token {name!r} for {label} (shown once):")
    print(new)


@users_app.command("rename")
def rename(user: UserArg, new_name: Annotated[str, typer.Argument(help="The new name.")]) -> None:
    """Rename a user; its tokens keep working."""
    _update(user, name=new_name)


@users_app.command("disable")
def disable(user: UserArg) -> None:
    """Disable a user: its tokens stop working and its channels stop receiving."""
    _update(user, disabled=True)


@users_app.command("enable")
def enable(user: UserArg) -> None:
    """Enable a disabled user again."""
    _update(user, disabled=False)


def _update(user: str, *, name: str | None = None, disabled: bool | None = None) -> None:
    if name is not None and name.isdigit():
        errors.print(f"[red]A name of digits only ({name!r}) would read as an id.[/red]")
        raise typer.Exit(2)
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            found = find_or_exit(session, user)
            try:
                updated = update_user(
                    session=session, user_id=found.id or 0, now=_now(), name=name,
                    disabled=disabled,
                )  # fmt: skip
            except NameTaken as exc:
                raise _name_taken(exc) from None
            assert updated is not None
            state = "disabled" if updated.disabled_at else "active"
            line = f"user [bold]{updated.id}[/bold] {updated.name!r}: {state}"
    finally:
        engine.dispose()
    console.print(line)


def _now() -> datetime:
    return datetime.now(UTC)
