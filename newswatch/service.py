"""Process roles wired together: api, poller, dispatcher and bot, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
import uvicorn
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from api.tokens import display_prefix, hash_token, new_token
from monitor import (
    FetchLimits,
    Ingest,
    ParseLimits,
    Poller,
    PollPolicy,
    RuleMatcher,
    SchedulerConfig,
)
from monitor.backfill import backlog
from monitor.fetch import make_client
from monitor.pages import PageConfig, PageFetcher
from monitor.pool import make_parse_pool, warm_up
from monitor.recorder import StateRecorder
from monitor.retention import RetentionPolicy, prune_periodically
from net.guard import Guard
from net.politeness import Politeness
from newswatch.settings import Settings
from notifiers import (
    Dispatcher,
    DispatcherConfig,
    RetryPolicy,
    WebhookLimits,
    apprise_channel,
    webhook,
)
from notifiers.apprise_channel import AppriseLimits
from notifiers.dispatcher import Sender
from notifiers.email import EmailConfig, EmailSender
from notifiers.telegram import (
    CommandConfig,
    TelegramConfig,
    TelegramLimits,
    TelegramRole,
    start_telegram,
)
from store import PoolConfig, create_engine, is_sqlite, is_transient, session_scope
from store.health import ping
from store.migrate import is_current, upgrade
from store.users import ensure_admin, has_admin
from web import close_streams

log = structlog.get_logger(__name__)

ROLES = ("api", "poller", "dispatcher", "bot")
STARTUP_DB_WAIT_SECONDS = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool=PoolConfig(
            size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            timeout_seconds=settings.db_pool_timeout_seconds,
            recycle_seconds=settings.db_pool_recycle_seconds,
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
        ),
    )


def ensure_admin_token(engine: Engine, settings: Settings) -> str | None:
    """Register the configured admin token, or generate one on first start.
    Returns a generated token (to print once), else None."""
    with session_scope(engine) as session:
        if settings.admin_token is not None:
            token = settings.admin_token.get_secret_value()
            ensure_admin(
                session=session,
                token_hash=hash_token(token),
                prefix=display_prefix(token),
                now=utcnow(),
            )
            return None
        if has_admin(session=session):
            return None
        token = new_token()
        ensure_admin(
            session=session,
            token_hash=hash_token(token),
            prefix=display_prefix(token),
            now=utcnow(),
        )
        return token


def api_config(settings: Settings, *, bot_username: str = "") -> ApiConfig:
    return ApiConfig(
        allow_private_networks=settings.allow_private_networks,
        fetch_allowlist=_allowlist(settings),
        max_rules_per_user=settings.max_rules_per_user,
        max_request_bytes=settings.max_request_bytes,
        max_import_feeds=settings.max_import_feeds,
        alert_max_age_hours=settings.alert_max_age_hours,
        poll_interval_seconds=settings.poll_interval_seconds,
        max_page_size=settings.max_page_size,
        telegram_bot_username=bot_username,
        telegram_link_ttl_seconds=settings.telegram_link_ttl_minutes * 60,
        email_enabled=bool(settings.smtp_host),
    )


def email_config(settings: Settings) -> EmailConfig | None:
    """SMTP for e-mail channels, or None when NEWSWATCH_SMTP_HOST is unset."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password
    return EmailConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else "",
        starttls=settings.smtp_starttls,
        sender=settings.smtp_from,
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        per_hour=settings.email_per_hour,
        max_bytes=settings.email_max_bytes,
    )


def telegram_config(settings: Settings, token: str) -> TelegramConfig:
    secret = settings.telegram_webhook_secret
    return TelegramConfig(
        token=token,
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else "",
        webhook_listen=settings.telegram_webhook_listen,
        webhook_port=settings.telegram_webhook_port,
        lock_retry_seconds=settings.telegram_lock_retry_seconds,
        limits=TelegramLimits(messages_per_second=settings.telegram_messages_per_second),
        commands=CommandConfig(
            max_rules_per_user=settings.max_rules_per_user,
            alert_max_age_hours=settings.alert_max_age_hours,
            backlog=backlog,
        ),
    )


def _allowlist(settings: Settings) -> tuple[str, ...]:
    return tuple(e.strip() for e in settings.fetch_allowlist.split(",") if e.strip())


def url_guard(settings: Settings) -> Guard:
    """The SSRF guard for every URL: feeds, pages and webhooks, allowlist included."""
    return Guard(allow_private=settings.allow_private_networks, allowlist=_allowlist(settings))


def fetch_limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        max_bytes=settings.max_feed_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
        allow_private_networks=settings.allow_private_networks,
        max_per_host=settings.fetch_max_per_host,
        guard=url_guard(settings),
    )


def page_config(settings: Settings) -> PageConfig:
    return PageConfig(
        limits=dataclasses.replace(
            fetch_limits(settings),
            max_bytes=settings.max_page_bytes,
            timeout_seconds=settings.page_timeout_seconds,
        ),
        politeness=Politeness(
            per_host=settings.page_per_host, min_gap_seconds=settings.page_host_gap_seconds
        ),
        concurrency=settings.page_concurrency,
        lease_seconds=settings.page_lease_seconds,
        max_attempts=settings.page_max_attempts,
        retry_seconds=settings.page_retry_seconds * settings.retry_scale,
    )


def retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        article_days=settings.article_retention_days,
        full_text_days=settings.full_text_retention_days,
        hit_days=settings.hit_retention_days,
        batch_size=settings.prune_batch_size,
    )


def poll_policy(settings: Settings) -> PollPolicy:
    return PollPolicy(
        default_interval_seconds=settings.poll_interval_seconds,
        min_interval_seconds=settings.min_poll_interval_seconds,
        alert_max_age=timedelta(hours=settings.alert_max_age_hours),
        story_window=timedelta(hours=settings.story_window_hours),
    )


def wait_for_database(engine: Engine, *, wait_seconds: float) -> None:
    """Return once the database answers; a container may start before its database does.
    Raises the last error after `wait_seconds`, or at once for an error not cured by waiting."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            ping(engine)
            return
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() > deadline:
                raise
            log.warning("database.unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
        time.sleep(1.0)


def lease_owner_id() -> str:
    """This process's name on the leases it holds: host, pid and a nonce (fits 64 chars)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Role:
    """A running role: its main task (if it has one) and how to stop it within a timeout."""

    name: str
    stop: Callable[[float], Awaitable[None]]
    task: asyncio.Task[Any] | None = None
    wake: Callable[[], None] | None = None  # the dispatcher's: new hits are committed


def start_api(
    engine: Engine, settings: Settings, *, host: str, port: int, bot_username: str = ""
) -> Role:
    app = create_app(engine=engine, config=api_config(settings, bot_username=bot_username))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        # Requests in flight get the grace period, then their connections are closed.
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name="api")

    async def stop(timeout: float) -> None:
        server.should_exit = True
        close_streams(app)  # open dashboards' live streams end now, not at the grace's end
        await asyncio.wait([task], timeout=timeout)

    return Role("api", stop, task)


async def start_poller(
    engine: Engine, settings: Settings, *, owner: str, on_hits: Callable[[], None] | None = None
) -> Role:
    limits = fetch_limits(settings)
    client = make_client(limits)
    parse_pool = make_parse_pool(settings.parse_workers) if settings.parse_workers else None
    if parse_pool is not None:
        await warm_up(parse_pool, settings.parse_workers)
    ingest = Ingest(
        engine=engine,
        client=client,
        matcher=RuleMatcher(),
        fetch_limits=limits,
        parse_limits=ParseLimits(),
        policy=poll_policy(settings),
        clock=utcnow,
        on_hits=on_hits,
        parse_pool=parse_pool,
        recorder=StateRecorder(engine),
        full_text_min_words=settings.full_text_min_words if settings.full_text_enabled else None,
    )
    pages = PageFetcher(ingest, page_config(settings), owner=owner)
    poller = Poller(
        dataclasses.replace(ingest, on_pages=pages.wake),
        SchedulerConfig(
            tick_seconds=settings.scheduler_tick_seconds,
            rules_sync_seconds=settings.rules_sync_seconds,
            concurrency=settings.poll_concurrency,
            lease_seconds=settings.poll_lease_seconds,
        ),
        owner=owner,
    )
    await poller.start()
    if settings.full_text_enabled:
        await pages.start()
    stop_pruning = asyncio.Event()
    pruning = asyncio.create_task(
        prune_periodically(
            engine,
            retention_policy(settings),
            owner=owner,
            clock=utcnow,
            interval_seconds=settings.prune_interval_seconds,
            stop=stop_pruning,
        ),
        name="prune",
    )

    async def stop(timeout: float) -> None:
        stop_pruning.set()
        await asyncio.gather(poller.stop(timeout=timeout), pages.stop(timeout=timeout))
        await asyncio.wait([pruning], timeout=timeout)
        await client.aclose()
        if parse_pool is not None:
            await asyncio.to_thread(parse_pool.shutdown, wait=True, cancel_futures=True)

    return Role("poller", stop)


def start_dispatcher(
    engine: Engine, settings: Settings, *, owner: str, senders: dict[str, Sender] | None = None
) -> Role:
    mail = email_config(settings)
    hook_limits = WebhookLimits(
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private_networks=settings.allow_private_networks,
        guard=url_guard(settings),
    )
    hook_transport = webhook.make_transport(hook_limits)
    apprise = apprise_channel.make_sender(
        AppriseLimits(allow_private_networks=settings.allow_private_networks),
        Guard(allow_private=settings.allow_private_networks, allowlist=_allowlist(settings)),
    )
    dispatcher = Dispatcher(
        engine,
        {
            "webhook": webhook.make_sender(hook_transport, hook_limits, utcnow),
            "apprise": apprise,
            **({"email": EmailSender(mail, engine, utcnow)} if mail else {}),
            **(senders or {}),
        },
        owner=owner,
        config=DispatcherConfig(
            poll_seconds=settings.dispatch_poll_seconds,
            lease_seconds=settings.dispatch_lease_seconds,
            per_endpoint_concurrency=settings.webhook_concurrency,
            digest_poll_seconds=settings.digest_poll_seconds,
            digest_max_hits=settings.digest_max_hits,
        ),
        retry=RetryPolicy(scale=settings.retry_scale),
        clock=utcnow,
    )
    task = asyncio.create_task(dispatcher.run(), name="dispatcher")

    async def stop(timeout: float) -> None:
        await dispatcher.shutdown(timeout)
        await asyncio.wait([task], timeout=1.0)
        await hook_transport.aclose()
        await apprise.aclose()

    return Role("dispatcher", stop, task, wake=dispatcher.wake)


async def stop_roles(roles: list[Role], grace_seconds: float) -> None:
    """Stop every role at once: each stops claiming, then finishes or gives back its work
    in flight within the grace period."""
    # Keep a little of the grace period for giving leases back and closing connections.
    for_work = grace_seconds - min(1.0, grace_seconds / 4)
    await asyncio.gather(*(role.stop(for_work) for role in roles))


async def serve(settings: Settings, *, roles: set[str], host: str, port: int) -> int:
    """Run the given roles until SIGTERM/SIGINT, then shut down gracefully. Returns 0."""
    engine = build_engine(settings)
    if is_sqlite(engine):
        await asyncio.to_thread(upgrade, engine)
    else:
        await asyncio.to_thread(wait_for_database, engine, wait_seconds=STARTUP_DB_WAIT_SECONDS)
        if not await asyncio.to_thread(is_current, engine):
            log.error("schema.not_current", hint="run `newswatch migrate` first")
            return 2
    generated = await asyncio.to_thread(ensure_admin_token, engine, settings)
    if generated:
        print(f"Generated admin token (shown once, store it now): {generated}", flush=True)

    owner = lease_owner_id()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    telegram: TelegramRole | None = None
    if settings.telegram_bot_token is None:
        log.info("bot.off", reason="NEWSWATCH_TELEGRAM_BOT_TOKEN is not set")
    elif roles & {"api", "bot", "dispatcher"}:
        token = settings.telegram_bot_token.get_secret_value()
        telegram = await start_telegram(
            engine,
            telegram_config(settings, token),
            receive="bot" in roles,
            send="dispatcher" in roles,
            clock=utcnow,
        )
    running: list[Role] = []

    def wake_dispatcher() -> None:  # called by the ingest, from a worker thread
        for role in running:
            if role.wake is not None:
                role.wake()

    if "api" in roles:
        username = telegram.username if telegram else ""
        running.append(start_api(engine, settings, host=host, port=port, bot_username=username))
    if "poller" in roles:
        running.append(await start_poller(engine, settings, owner=owner, on_hits=wake_dispatcher))
    if "dispatcher" in roles:
        senders = telegram.senders if telegram else {}
        running.append(start_dispatcher(engine, settings, owner=owner, senders=senders))
    log.info(
        "service.started",
        roles=sorted(roles),
        owner=owner,
        api=f"http://{host}:{port}" if "api" in roles else None,
    )

    tasks = [role.task for role in running if role.task is not None]
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    # A role that ends by itself, even without an error, is a failure: stop the others
    # and exit non-zero, so that the container is restarted.
    crashed = [t for t in done if t is not stopped]
    for task in crashed:
        log.error("role.crashed", role=task.get_name(), error=repr(task.exception()))

    log.info("service.stopping", grace_s=settings.shutdown_grace_seconds)
    await stop_roles(running, settings.shutdown_grace_seconds)
    if telegram is not None:  # after the dispatcher, which sends through its client
        await telegram.stop()
    stopped.cancel()
    engine.dispose()
    log.info("service.stopped")
    return 1 if crashed else 0
