"""The Telegram role as the shell starts it: a sender for the dispatcher (any replica), and
the bot receiving updates (long polling, or a webhook checked by its secret token) in one
replica only, the holder of a PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import structlog
import uvicorn
from sqlalchemy.engine import Connection, Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.error import TelegramError

from notifiers.dispatcher import Sender
from notifiers.telegram_bot import CommandConfig, Commands, build_application, register_commands
from notifiers.telegram_limiter import TelegramLimits
from notifiers.telegram_send import TelegramSender, make_bot
from store import is_sqlite
from store.telegram import ping, release_receiver_lock, try_receiver_lock

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_url: str = "https://api.telegram.org"
    # Set: receive by webhook at this public URL, served on webhook_listen:webhook_port.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    poll_timeout_seconds: float = 10.0
    lock_retry_seconds: float = 5.0
    limits: TelegramLimits = field(default_factory=TelegramLimits)
    commands: CommandConfig = field(default_factory=CommandConfig)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class TelegramRole:
    """Start with `start(receive=…, send=…)`; `senders` goes to the dispatcher."""

    def __init__(self, engine: Engine, config: TelegramConfig, clock: Callable[[], datetime]):
        self.engine = engine
        self.config = config
        self.clock = clock
        self.username = ""
        self.senders: dict[str, Sender] = {}
        self.secret = config.webhook_secret or secrets.token_urlsafe(32)
        self._bot = make_bot(config.token, config.api_url, timeout=config.limits.timeout_seconds)
        self._app = build_application(config.token, config.api_url)
        Commands(engine, config.commands, clock).install(self._app)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._webhook: tuple[_QuietServer, asyncio.Task[None]] | None = None

    @property
    def receiving(self) -> bool:
        """True while this process receives updates (it holds the receiver lock)."""
        polling = self._app.updater is not None and self._app.updater.running
        return polling or self._webhook is not None

    async def start(self, *, receive: bool, send: bool) -> None:
        try:
            # getMe, for the username of deep links; bounded, so that a Bot API that is
            # down delays nothing else. Sending then retries through the outbox.
            await asyncio.wait_for(self._bot.initialize(), timeout=10)
            self.username = self._bot.username
        except (TelegramError, TimeoutError) as exc:
            log.warning("telegram.get_me_failed", error=repr(exc))
        if send:
            self.senders["telegram"] = TelegramSender(
                self._bot, self.engine, limits=self.config.limits, clock=self.clock
            )
        if receive:
            self._task = asyncio.create_task(self._receive_forever(), name="telegram-bot")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        with contextlib.suppress(TelegramError):
            await self._bot.shutdown()

    # -- receiving, in one replica ----------------------------------------------------

    async def _receive_forever(self) -> None:
        started = False
        while not self._stop.is_set():
            try:
                if not started:
                    await self._app.initialize()
                    await register_commands(self._app)
                    await self._app.start()
                    started = True
                await self._receive_while_locked()
            except Exception as exc:
                log.warning("telegram.receive_failed", error=repr(exc))
            await self._pause(self.config.lock_retry_seconds)
        if started:
            await self._app.stop()
            await self._app.shutdown()

    async def _receive_while_locked(self) -> None:
        conn: Connection | None = None
        if not is_sqlite(self.engine):  # SQLite means one process: it just receives
            conn = await asyncio.to_thread(self.engine.connect)
            if not await asyncio.to_thread(try_receiver_lock, conn):
                await asyncio.to_thread(conn.close)
                return  # another replica receives; try again later
        try:
            log.info("telegram.receiving", mode="webhook" if self.config.webhook_url else "polling")
            await self._start_receiving()
            try:
                while not self._stop.is_set():
                    await self._pause(self.config.lock_retry_seconds)
                    if conn is not None:
                        await asyncio.to_thread(ping, conn)  # the lock dies with the connection
            finally:
                await self._stop_receiving()
        finally:
            if conn is not None:
                await asyncio.to_thread(release_receiver_lock, conn)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _start_receiving(self) -> None:
        if not self.config.webhook_url:
            assert self._app.updater is not None
            await self._app.updater.start_polling(
                timeout=int(self.config.poll_timeout_seconds), allowed_updates=ALLOWED_UPDATES
            )
            return
        path = urlsplit(self.config.webhook_url).path or "/"
        server = _QuietServer(
            uvicorn.Config(
                Starlette(routes=[Route(path, self._on_webhook, methods=["POST"])]),
                host=self.config.webhook_listen,
                port=self.config.webhook_port,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
        )
        task = asyncio.create_task(server.serve(), name="telegram-webhook")
        self._webhook = (server, task)
        await self._app.bot.set_webhook(
            self.config.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
        )

    async def _stop_receiving(self) -> None:
        if self._app.updater is not None and self._app.updater.running:
            await self._app.updater.stop()
        if self._webhook is not None:
            server, task = self._webhook
            server.should_exit = True
            await task
            self._webhook = None

    async def _on_webhook(self, request: Request) -> Response:
        """An update pushed by Telegram; only with the secret token we registered."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return Response("wrong secret token", status_code=403)
        try:
            update = Update.de_json(await request.json(), self._app.bot)
        except (ValueError, TypeError, KeyError):
            return Response("not an update", status_code=400)
        await self._app.update_queue.put(update)
        return Response(status_code=200)


async def start_telegram(
    engine: Engine,
    config: TelegramConfig,
    *,
    receive: bool,
    send: bool,
    clock: Callable[[], datetime],
) -> TelegramRole:
    """Start what this process runs of Telegram: receiving (the bot role) and sending."""
    role = TelegramRole(engine, config, clock)
    await role.start(receive=receive, send=send)
    return role
