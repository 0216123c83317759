"""Batched feed-state writes: the outcomes that touch only the feed row (304, unchanged
body, error) are written together, many polls in one transaction (a group commit)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.engine import Engine

from store import session_scope
from store.feeds import finish_polls
from store.values import FeedClaim, PollResult

_Poll = tuple[int, str, datetime, PollResult]


class StateRecorder:
    """One per event loop. `record` returns once the outcome is committed.

    No timer: the first outcome is written as soon as the event loop has run the other
    callbacks that were ready with it, and the outcomes that arrive while a write is
    under way go together in the next one. A lone poll waits for nothing; under load the
    batches grow by themselves, and no poll holds its slot waiting for a timer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[tuple[_Poll, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, claim: FeedClaim, result: PollResult, now: datetime) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(((claim.id, claim.lease_owner, now, result), future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_pending())
        await future

    async def _write_pending(self) -> None:
        try:
            await asyncio.sleep(0)  # let the polls finishing in this iteration join
            while self._pending:
                batch, self._pending = self._pending, []
                await self._write_batch(batch)
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[_Poll, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._write, [poll for poll, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    def _write(self, polls: list[_Poll]) -> None:
        with session_scope(self.engine) as session:
            finish_polls(session=session, polls=polls)
