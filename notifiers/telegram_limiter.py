"""Telegram's flood limits: about 30 messages/s in all, 1/s per chat and 20/min per group,
plus each chat's own `RetryAfter`. A wait that would be long is not spent here (it would
hold up the dispatcher's batch) but handed back as `Deferred`.

`ChatLimiter` keeps them in process (SQLite: one process sends). `SharedLimiter` keeps
them in the database, so that every replica on PostgreSQL draws on one budget."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy.engine import Engine

from notifiers.errors import NotifierError
from store import session_scope
from store.telegram_budget import end_send, hold_chat, reserve_send, start_send

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TelegramLimits:
    # A little under Telegram's numbers, so that jitter on the way never adds up to more.
    messages_per_second: float = 27.0
    chat_interval_seconds: float = 1.2
    group_interval_seconds: float = 3.2  # 20 per minute
    max_wait_seconds: float = 5.0
    timeout_seconds: float = 15.0


class Deferred(NotifierError):
    """The chat is not free for `retry_after` seconds; try again through the outbox."""

    def __init__(self, chat_id: int, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"chat {chat_id} is rate limited for {retry_after:.1f} s")


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids in the Bot API."""
    return chat_id < 0


class ChatLimiter:
    """Hands out send slots: one chat at a time per chat, spaced; all chats share a paced
    global queue, so a slow chat waits alone and never blocks the others."""

    def __init__(
        self,
        limits: TelegramLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._global = asyncio.Lock()
        self._global_next = 0.0
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._chat_next: dict[int, float] = {}
        self._waiting: dict[int, int] = {}
        self._flooded: dict[int, float] = {}
        self._recent: deque[float] = deque(maxlen=max(1, int(limits.messages_per_second)))

    def interval(self, chat_id: int) -> float:
        return (
            self.limits.group_interval_seconds
            if is_group(chat_id)
            else self.limits.chat_interval_seconds
        )

    def retry_after(self, chat_id: int, seconds: float) -> None:
        """Telegram said: nothing to this chat for `seconds`. Its messages go back to the
        outbox meanwhile, so that waiting for this one chat holds up no other."""
        until = self._clock() + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)
        self._flooded[chat_id] = max(self._flooded.get(chat_id, 0.0), until)

    def _flood_wait(self, chat_id: int) -> float:
        until = self._flooded.get(chat_id)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._flooded[chat_id]
        return max(0.0, left)

    def expected_wait(self, chat_id: int) -> float:
        """How long a new message to this chat would queue, by the current backlog."""
        ready = max(0.0, self._chat_next.get(chat_id, 0.0) - self._clock())
        return ready + self._waiting.get(chat_id, 0) * self.interval(chat_id)

    async def _global_turn(self) -> float:
        """Wait for the next global slot (the caller holds the global lock); return now."""
        rate = self.limits.messages_per_second
        interval = 1.0 / rate
        while True:
            now = self._clock()
            wait = self._global_next - now
            if len(self._recent) >= int(rate):  # a hard cap on any one-second window
                wait = max(wait, self._recent[0] + 1.0 - now)
            if wait <= 0:
                break
            await self._sleep(wait)
        # Pace from the slot, not from a late wake-up, so that the rate holds; but never
        # closer than half a slot, so that a stall does not turn into a burst.
        self._global_next = max(self._global_next + interval, now + interval / 2)
        self._recent.append(now)
        return now

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for this chat's turn and a global one; raise Deferred rather than wait long."""
        expected = self.expected_wait(chat_id)
        if self._flood_wait(chat_id) or expected > self.limits.max_wait_seconds:
            raise Deferred(chat_id, expected)
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        try:
            await lock.acquire()
        finally:
            self._waiting[chat_id] -= 1
        try:
            while (wait := self._chat_next.get(chat_id, 0.0) - self._clock()) > 0:
                if self._flood_wait(chat_id):  # a RetryAfter came while this one queued
                    raise Deferred(
                        chat_id, wait + self._waiting.get(chat_id, 0) * self.interval(chat_id)
                    )
                await self._sleep(wait)
            async with self._global:
                now = await self._global_turn()
            self._chat_next[chat_id] = max(
                self._chat_next.get(chat_id, 0.0), now + self.interval(chat_id)
            )
            yield
        finally:
            lock.release()
            if not self._waiting.get(chat_id):
                self._waiting.pop(chat_id, None)
                self._chat_locks.pop(chat_id, None)
            if len(self._chat_next) > 10_000:  # forget chats whose spacing has passed
                now = self._clock()
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}


class Limiter(Protocol):
    """What the Telegram sender needs of a limiter."""

    def slot(self, chat_id: int) -> AbstractAsyncContextManager[None]: ...

    def retry_after(self, chat_id: int, seconds: float) -> None: ...


class SharedLimiter:
    """The same limits for all replicas together, through the database (PostgreSQL): each
    send reserves its moment in a row per chat and one for the whole bot, then waits for
    it here. A RetryAfter holds the chat's row, so that no replica sends to it meanwhile."""

    def __init__(self, engine: Engine, limits: TelegramLimits) -> None:
        self.engine = engine
        self.limits = limits
        self._holds: set[asyncio.Task[None]] = set()
        # This process's sends to one chat, one at a time (and how many want the turn).
        self._turns: dict[int, asyncio.Lock] = {}
        self._turn_users: Counter[int] = Counter()

    def interval(self, chat_id: int) -> float:
        return (
            self.limits.group_interval_seconds
            if is_group(chat_id)
            else self.limits.chat_interval_seconds
        )

    def _reserve(self, chat_id: int) -> tuple[float, bool]:
        with session_scope(self.engine) as session:
            return reserve_send(
                session=session,
                chat_id=chat_id,
                chat_interval=self.interval(chat_id),
                bot_interval=1.0 / self.limits.messages_per_second,
                max_wait=self.limits.max_wait_seconds,
            )

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Reserve this chat's next moment (and the bot's) and wait for it; raise Deferred
        rather than reserve one far off."""
        wait, reserved = await asyncio.to_thread(self._reserve, chat_id)
        if not reserved:
            raise Deferred(chat_id, wait)
        if wait > 0:
            await asyncio.sleep(wait)
        waited = wait
        async with self._turn(chat_id):
            # The reserved moment has come; the chat's last send may still be answering.
            while (more := await asyncio.to_thread(self._start, chat_id)) > 0:
                if waited > self.limits.max_wait_seconds * 2:
                    raise Deferred(chat_id, self.interval(chat_id))
                await asyncio.sleep(more)
                waited += more
            try:
                yield
            finally:
                await asyncio.to_thread(self._end, chat_id)

    @asynccontextmanager
    async def _turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until this process's last send to the chat has answered. `start_send` only
        spaces starts: a send slower than the interval let the next one start before its
        answer was seen (a second message to a chat whose 403 was on its way)."""
        lock = self._turns.setdefault(chat_id, asyncio.Lock())
        self._turn_users[chat_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._turn_users[chat_id] -= 1
            if not self._turn_users[chat_id]:
                del self._turn_users[chat_id], self._turns[chat_id]

    def _start(self, chat_id: int) -> float:
        with session_scope(self.engine) as session:
            return start_send(session=session, chat_id=chat_id, interval=self.interval(chat_id))

    def _end(self, chat_id: int) -> None:
        with session_scope(self.engine) as session:
            end_send(session=session, chat_id=chat_id)

    def retry_after(self, chat_id: int, seconds: float) -> None:
        """Hold the chat for every replica (written in the background, best effort: this
        replica's own deliveries to it are deferred through the outbox anyway)."""
        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self._hold, chat_id, seconds)
        )
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    def _hold(self, chat_id: int, seconds: float) -> None:
        try:
            with session_scope(self.engine) as session:
                hold_chat(session=session, chat_id=chat_id, seconds=min(seconds, 86_400.0))
        except Exception as exc:  # the other replicas then meet Telegram's RetryAfter too
            log.warning("telegram.hold_failed", chat_id=chat_id, error=repr(exc)[:300])
