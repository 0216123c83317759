"""The Telegram sender for the dispatcher: one alert per delivery through the Bot API,
within Telegram's limits. A `RetryAfter` delays only its chat; `Forbidden` deactivates
the chat; a group that became a supergroup (`ChatMigrated`) moves to its new id and gets
the message there; transient errors go back to the outbox."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from notifiers import digest, telegram_format
from notifiers.outcome import SendOutcome
from notifiers.telegram_limiter import (
    ChatLimiter,
    Deferred,
    Limiter,
    SharedLimiter,
    TelegramLimits,
)
from store import is_sqlite, session_scope
from store.digests import DIGEST_EVENT, digest_parts_sent, record_digest_parts
from store.telegram import chat_is_active, deactivate_chat, migrate_chat
from store.values import DeliveryJob

log = structlog.get_logger(__name__)

# Bad requests that mean the chat itself is gone, not that the message was wrong.
GONE = ("chat not found", "group chat was deactivated", "have no rights to send")


def bot_base_url(api_url: str) -> str:
    """python-telegram-bot's base_url for an API root such as https://api.telegram.org."""
    return api_url.rstrip("/") + "/bot"


def make_bot(token: str, api_url: str, *, timeout: float = 15.0, pool: int = 64) -> Bot:
    """A Bot whose connection pool lets many chats be sent to at once."""
    request = HTTPXRequest(
        connection_pool_size=pool,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
        pool_timeout=timeout,
    )
    return Bot(token, base_url=bot_base_url(api_url), request=request)


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's delay in seconds, whichever type this PTB version gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """A dispatcher `Sender` for channel kind "telegram"."""

    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        *,
        limits: TelegramLimits,
        clock: Callable[[], datetime],
    ) -> None:
        self.bot = bot
        self.engine = engine
        # Replicas on PostgreSQL share one budget; SQLite runs one sending process.
        self.limiter: Limiter = (
            ChatLimiter(limits) if is_sqlite(engine) else SharedLimiter(engine, limits)
        )
        self.clock = clock
        # Chats that answered 403 here: messages already claimed for them are not sent,
        # unless /start turned the chat back on in the database since.
        self._forbidden: set[int] = set()
        # Groups that became supergroups: old chat id -> new one.
        self._migrated: dict[int, int] = {}

    async def __call__(self, job: DeliveryJob) -> SendOutcome:
        if job.event_type == DIGEST_EVENT:
            texts = digest.telegram_parts(job)
        elif job.event_type == "hit.created" and job.hit_id is not None:
            texts = [telegram_format.format(job)]
        else:
            return SendOutcome(
                False, error=f"{job.event_type} is not sent to Telegram", permanent=True
            )
        digest_id = job.digest_id if job.event_type == DIGEST_EVENT else None
        # A digest's parts go one by one, in order, each noted once received, so that a
        # failure part-way is retried from the first part not received.
        done = 0 if digest_id is None else await asyncio.to_thread(self._parts_sent, digest_id)
        try:
            for number, text in enumerate(texts[done:], done + 1):
                async with self.limiter.slot(job.chat_id):
                    if job.chat_id in self._forbidden and not await self._still_active(job):
                        return SendOutcome(False, error="chat blocked the bot", permanent=True)
                    try:
                        chat_id = self._migrated.get(job.chat_id, job.chat_id)
                        try:
                            await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
                        except ChatMigrated as exc:
                            chat_id = await self._migrate(job, exc.new_chat_id)
                            await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
                    except Forbidden as exc:
                        # Deactivate while this chat's slot is held, so that the next
                        # message queued for it sees the chat off rather than racing.
                        return await self._gone(job, 403, str(exc))
                    except BadRequest as exc:
                        if not any(reason in exc.message.lower() for reason in GONE):
                            raise
                        return await self._gone(job, 400, str(exc))
                if digest_id is not None and number < len(texts):
                    await asyncio.to_thread(self._record_parts, digest_id, number)
        except Deferred as exc:
            return SendOutcome(False, error=str(exc), retry_after=exc.retry_after, deferred=True)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            self.limiter.retry_after(job.chat_id, seconds)
            log.info("telegram.retry_after", chat_id=job.chat_id, seconds=seconds)
            return SendOutcome(
                False, status_code=429, error=str(exc), retry_after=seconds, deferred=True
            )
        except ChatMigrated as exc:  # migrated twice in a row: try again through the outbox
            return SendOutcome(False, status_code=400, error=str(exc))
        except BadRequest as exc:
            log.warning("telegram.bad_request", delivery_id=job.id, error=str(exc))
            return SendOutcome(False, status_code=400, error=str(exc)[:500], permanent=True)
        except InvalidToken as exc:
            return SendOutcome(False, status_code=401, error=str(exc))
        except TelegramError as exc:  # TimedOut, NetworkError: the outbox retries
            return SendOutcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
        return SendOutcome(True, status_code=200)

    def _parts_sent(self, digest_id: int) -> int:
        with session_scope(self.engine, readonly=True) as session:
            return digest_parts_sent(session=session, digest_id=digest_id)

    def _record_parts(self, digest_id: int, parts_sent: int) -> None:
        with session_scope(self.engine) as session:
            record_digest_parts(session=session, digest_id=digest_id, parts_sent=parts_sent)

    async def _migrate(self, job: DeliveryJob, new_chat_id: int) -> int:
        """The group became a supergroup: move its chat (links, settings and queued alerts
        stay) to the new id, which messages already claimed for the old one use too."""
        self._migrated[job.chat_id] = new_chat_id
        if len(self._migrated) > 10_000:
            self._migrated = {job.chat_id: new_chat_id}
        await asyncio.to_thread(self._move, job.channel_id, new_chat_id)
        log.info("telegram.chat_migrated", chat_id=job.chat_id, new_chat_id=new_chat_id)
        return new_chat_id

    def _move(self, chat_row_id: int, new_chat_id: int) -> None:
        with session_scope(self.engine) as session:
            migrate_chat(
                session=session, chat_row_id=chat_row_id, new_chat_id=new_chat_id, now=self.clock()
            )

    async def _still_active(self, job: DeliveryJob) -> bool:
        active = await asyncio.to_thread(self._is_active, job.channel_id)
        if active:
            self._forbidden.discard(job.chat_id)
        return active

    def _is_active(self, chat_row_id: int) -> bool:
        with session_scope(self.engine, readonly=True) as session:
            return chat_is_active(session=session, chat_row_id=chat_row_id)

    async def _gone(self, job: DeliveryJob, code: int, error: str) -> SendOutcome:
        self._forbidden.add(job.chat_id)
        dropped = await asyncio.to_thread(self._deactivate, job.channel_id, error)
        log.warning("telegram.chat_deactivated", chat_id=job.chat_id, dropped=dropped, error=error)
        return SendOutcome(
            False, status_code=code, error=error[:500], disable_target=True, permanent=True
        )

    def _deactivate(self, chat_row_id: int, reason: str) -> int:
        with session_scope(self.engine) as session:
            return deactivate_chat(
                session=session, chat_row_id=chat_row_id, reason=reason, now=self.clock()
            )
