"""Apprise channels (Slack, Discord, Teams, Mattermost, Matrix, ntfy, Gotify, Pushover…):
alerts and digests as plain text through Apprise, on the outbox's retry schedule.

An Apprise URL often holds a secret (a token, a password), so it is validated and shown
only redacted (`redact`), and never logged: Apprise's own logger is silenced, and errors
name the service, not the URL. Where the URL names a host to contact (self-hosted
services: json://, ntfy://host, gotify://, mmost://…), that host goes through the SSRF
guard before every send. Apprise sends with `requests`, which resolves the name again:
the check narrows, but does not close, a DNS-rebinding window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import apprise

from net.errors import BlockedURLError
from net.guard import Guard
from notifiers.digest import grouped
from notifiers.outcome import SendOutcome
from store.digests import DIGEST_EVENT
from store.values import DeliveryJob

MAX_BODY = 20_000
MAX_TITLE = 250


class AppriseURLError(ValueError):
    """A URL that Apprise cannot use; the message never holds the URL itself."""


@dataclass(frozen=True)
class AppriseLimits:
    timeout_seconds: float = 20.0
    allow_private_networks: bool = False


def _silence() -> None:
    # Apprise logs request details that can include tokens from the URL; our own log
    # records each outcome without the URL.
    logging.getLogger("apprise").disabled = True


def parse(url: str) -> apprise.NotifyBase:
    """The Apprise plugin for a URL; AppriseURLError when no plugin takes it."""
    _silence()
    if len(url) > 2048 or "://" not in url:
        raise AppriseURLError("not an Apprise URL (like ntfy://host/topic or slack://…)")
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = url.split("://", 1)[0][:20]
        raise AppriseURLError(f"Apprise cannot use this {scheme}:// URL")
    return plugin


def redact(url: str) -> str:
    """The URL as the API shows it: Apprise's privacy form, secrets masked."""
    return str(parse(url).url(privacy=True))[:2048]


def contacted_host(plugin: apprise.NotifyBase) -> tuple[str, int] | None:
    """(host, port) when the URL itself names the server to contact (self-hosted
    services); None for services at a fixed address (discord://id/token)."""
    templates = " ".join(getattr(type(plugin), "templates", ()))
    host = getattr(plugin, "host", "") or ""
    if "{host}" not in templates or not host:
        return None
    port = getattr(plugin, "port", None) or (443 if getattr(plugin, "secure", False) else 80)
    return host, int(port)


async def check_target(url: str, guard: Guard) -> None:
    """Refuse a URL Apprise cannot use, or whose host is not a public address."""
    plugin = parse(url)
    target = contacted_host(plugin)
    if target is not None:
        await guard.connect_addresses(*target)


def _line(hit: DeliveryJob) -> str:
    source = " · ".join(x for x in (hit.feed_title[:150], _when(hit)) if x)
    snippet = hit.snippet.replace("**", "")[:400]
    return "\n".join(x for x in (hit.article_title[:300], hit.article_url, source, snippet) if x)


def _when(hit: DeliveryJob) -> str:
    at = hit.article_published_at
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def format(job: DeliveryJob) -> tuple[str, str]:
    """(title, body) in plain text, bounded. Pure."""
    if job.event_type == DIGEST_EVENT:
        count = len(job.digest_hits)
        title = f"newswatch digest: {count} alert{'s' if count != 1 else ''}"
        blocks = []
        for rule_name, hits in grouped(job):
            blocks.append(f"== {rule_name[:200]} ({len(hits)}) ==")
            blocks += [_line(hit) for hit in hits]
        body = "\n\n".join(blocks)
    else:
        title = f"newswatch: {job.rule_name}"
        body = _line(job)
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1] + "…"
    return title[:MAX_TITLE], body


def make_sender(
    limits: AppriseLimits, guard: Guard | None = None
) -> Callable[[DeliveryJob], Awaitable[SendOutcome]]:
    """The dispatcher's sender for channel kind "apprise"."""
    guard = guard or Guard(allow_private=limits.allow_private_networks)

    async def send_apprise(job: DeliveryJob) -> SendOutcome:
        return await send(job, limits=limits, guard=guard)

    return send_apprise


async def send(job: DeliveryJob, *, limits: AppriseLimits, guard: Guard) -> SendOutcome:
    """Check the URL's host, then notify through Apprise (in a thread: it blocks)."""
    try:
        await check_target(job.channel_target, guard)
        plugin = parse(job.channel_target)
    except AppriseURLError as exc:
        return SendOutcome(False, error=str(exc), permanent=True)
    except BlockedURLError as exc:
        return SendOutcome(False, error=f"blocked: {exc}", permanent=True)
    title, body = format(job)
    service = type(plugin).__name__.removeprefix("Notify")
    try:
        ok = await asyncio.wait_for(
            asyncio.to_thread(plugin.notify, body=body, title=title), limits.timeout_seconds
        )
    except TimeoutError:
        return SendOutcome(False, error=f"{service}: timed out after {limits.timeout_seconds:g} s")
    if not ok:
        return SendOutcome(False, error=f"{service} refused or failed the notification")
    return SendOutcome(True)
