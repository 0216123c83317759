"""Process roles wired together: api, poller, dispatcher and bot, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

import httpx
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
from monitor.fetch import make_client
from monitor.guard import Guard
from monitor.pool import make_parse_pool
from monitor.recorder import StateRecorder
from newswatch.settings import Settings
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy, WebhookLimits, webhook
from store import PoolConfig, create_engine, is_sqlite, session_scope
from store.migrate import is_current, upgrade
from store.users import ensure_admin, has_admin

log = structlog.get_logger(__name__)

ROLES = ("api", "poller", "dispatcher", "bot")


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool=PoolConfig(size=settings.db_pool_size, max_overflow=settings.db_max_overflow),
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


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        allow_private_networks=settings.allow_private_networks,
        fetch_allowlist=_allowlist(settings),
        max_rules_per_user=settings.max_rules_per_user,
    )


def _allowlist(settings: Settings) -> tuple[str, ...]:
    return tuple(e.strip() for e in settings.fetch_allowlist.split(",") if e.strip())


def fetch_limits(settings: Settings) -> FetchLimits:
    allowlist = _allowlist(settings)
    return FetchLimits(
        max_bytes=settings.max_feed_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
        allow_private_networks=settings.allow_private_networks,
        max_per_host=settings.fetch_max_per_host,
        guard=Guard(allow_private=settings.allow_private_networks, allowlist=allowlist),
    )


def poll_policy(settings: Settings) -> PollPolicy:
    return PollPolicy(
        default_interval_seconds=settings.poll_interval_seconds,
        min_interval_seconds=settings.min_poll_interval_seconds,
        alert_max_age=timedelta(hours=settings.alert_max_age_hours),
    )


def _shutdown_pool(pool: Executor) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    return close


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, *, roles: set[str], host: str, port: int) -> int:
    """Run the given roles until SIGTERM/SIGINT, then shut down gracefully. Returns 0."""
    engine = build_engine(settings)
    if is_sqlite(engine):
        await asyncio.to_thread(upgrade, engine)
    elif not await asyncio.to_thread(is_current, engine):
        log.error("schema.not_current", hint="run `newswatch migrate` first")
        return 2
    generated = await asyncio.to_thread(ensure_admin_token, engine, settings)
    if generated:
        print(f"Generated admin token (shown once, store it now): {generated}", flush=True)

    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tasks: list[asyncio.Task[object]] = []
    closers = []
    server = poller = dispatcher = None
    if "api" in roles:
        config = uvicorn.Config(
            create_app(engine=engine, config=api_config(settings)),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        server = _Server(config)
        tasks.append(asyncio.create_task(server.serve(), name="api"))
    if "poller" in roles:
        limits = fetch_limits(settings)
        client = make_client(limits)
        closers.append(client.aclose)
        parse_pool = None
        if settings.parse_workers:
            parse_pool = make_parse_pool(settings.parse_workers)
            closers.append(_shutdown_pool(parse_pool))
        ingest = Ingest(
            engine=engine,
            client=client,
            matcher=RuleMatcher(),
            fetch_limits=limits,
            parse_limits=ParseLimits(),
            policy=poll_policy(settings),
            clock=utcnow,
            parse_pool=parse_pool,
            recorder=StateRecorder(engine),
        )
        poller = Poller(
            ingest,
            SchedulerConfig(
                tick_seconds=settings.scheduler_tick_seconds,
                rules_sync_seconds=settings.rules_sync_seconds,
                concurrency=settings.poll_concurrency,
                lease_seconds=settings.poll_lease_seconds,
            ),
            owner=owner,
        )
        await poller.start()
    if "dispatcher" in roles:
        hook_client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        closers.append(hook_client.aclose)
        hook_limits = WebhookLimits(
            timeout_seconds=settings.webhook_timeout_seconds,
            allow_private_networks=settings.allow_private_networks,
        )

        async def send_webhook(job):  # type: ignore[no-untyped-def]
            return await webhook.send(hook_client, job, limits=hook_limits, now=utcnow())

        dispatcher = Dispatcher(
            engine,
            {"webhook": send_webhook},
            owner=owner,
            config=DispatcherConfig(
                poll_seconds=settings.dispatch_poll_seconds,
                lease_seconds=settings.dispatch_lease_seconds,
            ),
            retry=RetryPolicy(scale=settings.retry_scale),
            clock=utcnow,
        )
        tasks.append(asyncio.create_task(dispatcher.run(), name="dispatcher"))
    if "bot" in roles and settings.telegram_bot_token is None:
        log.info("bot.off", reason="NEWSWATCH_TELEGRAM_BOT_TOKEN is not set")
    log.info(
        "service.started",
        roles=sorted(roles),
        owner=owner,
        api=f"http://{host}:{port}" if server else None,
    )

    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    crashed = [t for t in done if t is not stopped and t.exception() is not None]
    for task in crashed:
        log.error("role.crashed", role=task.get_name(), error=repr(task.exception()))

    log.info("service.stopping", grace_s=settings.shutdown_grace_seconds)
    if poller is not None:
        await poller.stop(timeout=settings.shutdown_grace_seconds)
    if dispatcher is not None:
        dispatcher.stop()
    if server is not None:
        server.should_exit = True
    if tasks:
        await asyncio.wait(tasks, timeout=settings.shutdown_grace_seconds)
    for close in closers:
        await close()
    stopped.cancel()
    engine.dispose()
    log.info("service.stopped")
    return 1 if crashed else 0
