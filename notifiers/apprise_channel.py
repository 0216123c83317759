"""Apprise channels (Slack, Discord, Teams, Mattermost, Matrix, ntfy, Gotify, Pushover…):
alerts and digests as plain text through Apprise, on the outbox's retry schedule.

An Apprise URL often holds a secret (a token, a password), so it is validated and shown
only redacted (`redact`), and never logged: Apprise's own logger is silenced, and errors
name the service, not the URL. Where the URL names a host to contact (self-hosted
services: json://, ntfy://host, gotify://, mmost://…), that host goes through the SSRF
guard before every send, for a clear, permanent refusal.

Apprise itself runs in worker processes whose only way out is `net.egress`'s proxy on
127.0.0.1 (`requests` honours the proxy variables; an audit hook refuses any other
connection). The proxy resolves and checks every host Apprise contacts, fixed services
included, and dials the address it checked, so a DNS answer that changes after the
check (rebinding) reaches nothing private. Services that do not speak HTTP(S)
(mailto://, mqtt://…) therefore fail: e-mail is a channel kind of its own."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import apprise

from net.egress import EgressProxy, confine
from net.errors import BlockedURLError
from net.guard import Guard
from notifiers.digest import Entry, grouped
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
    workers: int = 2  # Apprise processes, each sending one notification at a time


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


def _line(entry: Entry) -> str:
    hit = entry.hit
    source = " · ".join(x for x in (hit.feed_title[:150], _when(hit)) if x)
    also = [
        f"{label}: {', '.join(n[:100] for n in names[:5])}{' …' if len(names) > 5 else ''}"
        for label, names in (("also in", entry.also_in), ("also matched", entry.also_matched))
        if names
    ]
    snippet = hit.snippet.replace("**", "")[:400]
    lines = (hit.article_title[:300], hit.article_url, source, *also, snippet)
    return "\n".join(x for x in lines if x)


def _when(hit: DeliveryJob) -> str:
    at = hit.article_published_at
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def format(job: DeliveryJob) -> tuple[str, str]:
    """(title, body) in plain text, bounded. Pure."""
    if job.event_type == DIGEST_EVENT:
        groups = grouped(job)
        count = sum(len(entries) for _, entries in groups)
        title = f"newswatch digest: {count} alert{'s' if count != 1 else ''}"
        blocks = []
        for rule_name, entries in groups:
            blocks.append(f"== {rule_name[:200]} ({len(entries)}) ==")
            blocks += [_line(entry) for entry in entries]
        body = "\n\n".join(blocks)
    else:
        title = f"newswatch: {job.rule_name}"
        body = _line(Entry(job))
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1] + "…"
    return title[:MAX_TITLE], body


Notify = Callable[[str, str, str], Awaitable[bool]]


def _start_worker(proxy_url: str, parent: int) -> None:
    # Ctrl-C reaches the whole process group; stopping the workers is the parent's job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    confine(proxy_url, parent)
    _silence()


def _notify_in_worker(url: str, title: str, body: str) -> bool:
    """Apprise's send, in a confined worker. Only a bool comes back: an exception's text
    could hold the URL, and with it the secret."""
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        return plugin is not None and bool(plugin.notify(body=body, title=title))
    except Exception:
        return False


def _ready() -> bool:
    return True


STARTUP_SECONDS = 120.0  # spawning the workers, before any send's own timeout


class AppriseSender:
    """The dispatcher's sender for channel kind "apprise". The proxy and the workers start
    with the first send, in the running event loop; `aclose` stops both."""

    def __init__(self, limits: AppriseLimits, guard: Guard) -> None:
        self.limits = limits
        self.guard = guard
        self.proxy: EgressProxy | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, job: DeliveryJob) -> SendOutcome:
        # Start the workers outside the send's own timeout: spawning them and importing
        # Apprise takes seconds on a busy machine, and a send that timed out while its
        # worker still delivered would be sent again.
        try:
            await asyncio.wait_for(self._started(), STARTUP_SECONDS)
        except (TimeoutError, BrokenProcessPool):
            await self._discard_pool()
            return SendOutcome(False, error=f"Apprise workers did not start in {STARTUP_SECONDS} s")
        return await send(job, limits=self.limits, guard=self.guard, notify=self.notify)

    async def notify(self, url: str, title: str, body: str) -> bool:
        """Send through a worker; False when Apprise reports a failure."""
        pool = await self._started()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, _notify_in_worker, url, title, body
            )
        except BrokenProcessPool:  # a worker died: start afresh for the next send
            await self._discard_pool(pool)
            raise

    async def _discard_pool(self, pool: ProcessPoolExecutor | None = None) -> None:
        async with self._lock:
            if self._pool is not None and pool in (None, self._pool):
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    async def _started(self) -> ProcessPoolExecutor:
        async with self._lock:
            if self.proxy is None:
                self.proxy = EgressProxy(self.guard, timeout_seconds=self.limits.timeout_seconds)
                await self.proxy.start()
            if self._pool is None:
                # spawn, not fork: forking a process that already runs threads can copy
                # locks held by them.
                pool = ProcessPoolExecutor(
                    self.limits.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.proxy.url, os.getpid()),
                )
                self._pool = pool
                loop = asyncio.get_running_loop()  # every worker up, Apprise imported
                await asyncio.gather(
                    *(loop.run_in_executor(pool, _ready) for _ in range(self.limits.workers))
                )
            return self._pool

    async def aclose(self) -> None:
        async with self._lock:
            pool, self._pool = self._pool, None
            if pool is not None:
                await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
            if self.proxy is not None:
                await self.proxy.aclose()
                self.proxy = None


def make_sender(limits: AppriseLimits, guard: Guard | None = None) -> AppriseSender:
    """The dispatcher's sender for channel kind "apprise"."""
    return AppriseSender(limits, guard or Guard(allow_private=limits.allow_private_networks))


async def send(
    job: DeliveryJob, *, limits: AppriseLimits, guard: Guard, notify: Notify
) -> SendOutcome:
    """Check the URL's host, then notify through Apprise (`notify`: in a confined worker)."""
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
        ok = await asyncio.wait_for(notify(job.channel_target, title, body), limits.timeout_seconds)
    except TimeoutError:
        return SendOutcome(False, error=f"{service}: timed out after {limits.timeout_seconds:g} s")
    except BrokenProcessPool:
        return SendOutcome(False, error=f"{service}: the Apprise worker died; retrying")
    if not ok:
        return SendOutcome(False, error=f"{service} refused or failed the notification")
    return SendOutcome(True)
