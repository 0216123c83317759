"""`newswatch webhooks add|list|test|deliveries|retry`: a user's webhooks from a terminal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from net.errors import BlockedURLError
from newswatch.cli_common import open_engine
from newswatch.cli_output import JsonOption, print_rows
from newswatch.cli_users import UserOption, find_or_exit
from newswatch.settings import get_settings
from store import session_scope
from store.deliveries import DEAD, list_deliveries, redeliver
from store.hits import WEBHOOK, enqueue
from store.tables import Delivery
from store.webhooks import create_webhook, get_webhook, list_webhooks

webhooks_app = typer.Typer(
    help="Manage a user's webhooks and their deliveries.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)
WebhookArg = Annotated[int, typer.Argument(help="The webhook id.")]


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Where to POST signed deliveries.")],
    user: UserOption,
    rule: Annotated[
        list[int] | None, typer.Option(help="Only this rule's hits (repeatable); else all.")
    ] = None,
) -> None:
    """Add a webhook; its whsec_ signing secret is printed once, alone on the last line."""
    from newswatch.service import url_guard
    from notifiers.webhook import new_secret

    try:
        asyncio.run(url_guard(get_settings()).check_url(url))
    except BlockedURLError as exc:
        raise _fail(f"refused: {exc}", 1) from None
    engine = open_engine()
    secret = new_secret()
    try:
        with session_scope(engine) as session:
            owner = find_or_exit(session, user)
            hook = create_webhook(
                session=session, user_id=owner.id or 0, url=url, secret=secret,
                rule_ids=rule or None, now=_now(),
            )  # fmt: skip
            hook_id = hook.id
    finally:
        engine.dispose()
    console.print(f"webhook [bold]{hook_id}[/bold] added for {url}; signing secret (shown once):")
    print(secret)


@webhooks_app.command("list")
def list_(user: UserOption, as_json: JsonOption = False) -> None:
    """List a user's webhooks: id, url, rules, active, and why one was disabled."""
    engine = open_engine()
    try:
        with session_scope(engine, readonly=True) as session:
            owner = find_or_exit(session, user)
            rows = [
                {
                    "id": w.id,
                    "url": w.url,
                    "rule_ids": w.rule_ids if w.rule_ids is not None else "all",
                    "active": w.active,
                    "disabled_reason": w.disabled_reason,
                }
                for w in list_webhooks(session=session, user_id=owner.id or 0)
            ]
    finally:
        engine.dispose()
    print_rows(["id", "url", "rule_ids", "active", "disabled_reason"], rows, as_json=as_json)


@webhooks_app.command("test")
def test(webhook: WebhookArg) -> None:
    """Queue a ping event to the webhook (a running dispatcher sends it)."""
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            hook = get_webhook(session=session, webhook_id=webhook)
            if hook is None:
                raise _fail(f"No webhook {webhook}.")
            delivery_id = enqueue(
                session=session, user_id=hook.user_id, kind=WEBHOOK, channel_id=webhook,
                now=_now(), event_type="ping",
            )  # fmt: skip
    finally:
        engine.dispose()
    console.print(f"ping queued as delivery [bold]{delivery_id}[/bold]")


@webhooks_app.command("deliveries")
def deliveries(
    webhook: WebhookArg,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """A webhook's recent deliveries: status, attempts, last answer and error."""
    engine = open_engine()
    try:
        with session_scope(engine, readonly=True) as session:
            if get_webhook(session=session, webhook_id=webhook) is None:
                raise _fail(f"No webhook {webhook}.")
            rows = [
                {
                    "id": d.id,
                    "event": d.event_type,
                    "status": d.status,
                    "attempts": d.attempts,
                    "code": d.last_status_code,
                    "error": d.last_error,
                    "updated_at": d.updated_at.isoformat(),
                }
                for d in list_deliveries(
                    session=session, kind=WEBHOOK, channel_id=webhook, limit=limit
                )
            ]
    finally:
        engine.dispose()
    columns = ["id", "event", "status", "attempts", "code", "error", "updated_at"]
    print_rows(columns, rows, as_json=as_json)


@webhooks_app.command("retry")
def retry(delivery: Annotated[int, typer.Argument(help="A dead delivery's id.")]) -> None:
    """Send a dead delivery again (same webhook-id), if its webhook is active."""
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            row = session.get(Delivery, delivery)
            if row is None:
                raise _fail(f"No delivery {delivery}.")
            if row.status != DEAD:
                raise _fail(f"Delivery {delivery} is {row.status}; only a dead one is retried.")
            hook = get_webhook(session=session, webhook_id=row.channel_id)
            if row.channel_kind == WEBHOOK and (hook is None or not hook.active):
                reason = hook.disabled_reason if hook else "deleted"
                raise _fail(f"Webhook {row.channel_id} is not active ({reason}).")
            redeliver(session=session, delivery_id=delivery, now=_now())
    finally:
        engine.dispose()
    console.print(f"delivery [bold]{delivery}[/bold] queued again")
