"""Batched feed-state writes: the outcomes that touch only the feed row (304, unchanged
body, error) are gathered for a few milliseconds and written in one transaction."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.engine import Engine

from store import session_scope
from store.feeds import finish_polls
from store.values import FeedClaim, PollResult


class StateRecorder:
    """One per event loop. `record` returns once the outcome is committed."""

    def __init__(self, engine: Engine, *, delay_seconds: float = 0.02) -> None:
        self.engine = engine
        self.delay_seconds = delay_seconds
        self._pending: list[tuple[tuple[int, str, datetime, PollResult], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, claim: FeedClaim, result: PollResult, now: datetime) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(((claim.id, claim.lease_owner, now, result), future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_soon())
        await future

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.delay_seconds)
        batch, self._pending, self._flusher = self._pending, [], None
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

    def _write(self, polls: list[tuple[int, str, datetime, PollResult]]) -> None:
        with session_scope(self.engine) as session:
            finish_polls(session=session, polls=polls)
