"""The Telegram limiter shared through PostgreSQL: the sends of one process to one chat."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from notifiers.telegram_limiter import SharedLimiter, TelegramLimits
from tests.support.databases import POSTGRES_ONLY


@POSTGRES_ONLY
def test_a_send_slower_than_the_interval_holds_the_next_to_its_chat(engine: Engine) -> None:
    """The next send to a chat starts only once the last one has answered, even when that
    took longer than the chat's interval; another chat is not held up meanwhile."""
    limiter = SharedLimiter(engine, TelegramLimits(chat_interval_seconds=0.05))
    events: list[tuple[str, int, int]] = []

    async def send(chat_id: int, n: int, seconds: float) -> None:
        async with limiter.slot(chat_id):
            events.append(("start", chat_id, n))
            await asyncio.sleep(seconds)
            events.append(("end", chat_id, n))

    async def scenario() -> None:
        slow = asyncio.create_task(send(201, 1, 0.5))
        while not events:
            await asyncio.sleep(0.01)
        await asyncio.gather(slow, send(201, 2, 0), send(202, 3, 0))

    asyncio.run(scenario())
    assert [e for e in events if e[1] == 201] == [
        ("start", 201, 1),
        ("end", 201, 1),
        ("start", 201, 2),
        ("end", 201, 2),
    ]
    assert events.index(("end", 202, 3)) < events.index(("end", 201, 1))
    assert limiter._turns == {}
