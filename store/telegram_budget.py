"""Telegram's flood limits as rows, so that replicas share one budget (PostgreSQL): each
chat's next free moment, and the whole bot's (key 0), paced one message at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from store.tables import TelegramSendBudget

WHOLE_BOT = 0  # no Telegram chat has id 0

_table: sa.Table = TelegramSendBudget.__table__  # type: ignore[attr-defined]


def reserve_send(
    *,
    session: Session,
    chat_id: int,
    chat_interval: float,
    bot_interval: float,
    max_wait: float,
) -> tuple[float, bool]:
    """Reserve the next moment this chat, and the bot as a whole, may send. Returns the
    seconds from now to it, and whether it was reserved: not when it is more than
    `max_wait` away. Both rows are
    locked in key order, so that concurrent reservations queue rather than deadlock; the
    database's clock is the one clock of all replicas."""
    now: datetime = session.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
    keys = sorted({WHOLE_BOT, chat_id})
    session.execute(
        insert(_table)
        .values([{"key": key, "next_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    rows = dict(
        session.execute(
            sa.select(_table.c.key, _table.c.next_at)
            .where(_table.c.key.in_(keys))
            .order_by(_table.c.key)
            .with_for_update()
        ).all()
    )
    at = max(now, *rows.values())
    wait = (at - now).total_seconds()
    if wait > max_wait:
        return wait, False
    for key, interval in ((WHOLE_BOT, bot_interval), (chat_id, chat_interval)):
        session.execute(
            sa.update(_table)
            .where(_table.c.key == key)
            .values(next_at=at + timedelta(seconds=interval))
        )
    return wait, True


def hold_chat(*, session: Session, chat_id: int, seconds: float) -> None:
    """Telegram said to wait (RetryAfter): no replica sends to the chat for `seconds`."""
    until = sa.func.clock_timestamp() + sa.literal(timedelta(seconds=seconds), sa.Interval())
    session.execute(
        insert(_table)
        .values(key=chat_id, next_at=until)
        .on_conflict_do_update(
            index_elements=["key"], set_={"next_at": sa.func.greatest(_table.c.next_at, until)}
        )
    )


def start_send(*, session: Session, chat_id: int, interval: float) -> float:
    """Mark a send to the chat as starting, unless the last one started, or answered, less
    than `interval` ago: then return how long to wait (0.0 once marked). A reserved moment
    can come round while an earlier send is still slow to answer; this keeps the arrivals
    at Telegram spaced, not only the reservations."""
    now = sa.func.clock_timestamp()
    gap = sa.literal(timedelta(seconds=interval), sa.Interval())
    marked = session.execute(
        sa.update(_table)
        .where(
            _table.c.key == chat_id,
            sa.or_(_table.c.sent_at.is_(None), _table.c.sent_at <= now - gap),
        )
        .values(sent_at=now)
        .returning(_table.c.key)
    ).first()
    if marked is not None:
        return 0.0
    left = session.execute(
        sa.select(sa.func.extract("epoch", _table.c.sent_at + gap - now)).where(
            _table.c.key == chat_id
        )
    ).scalar_one_or_none()
    return max(0.01, float(left or 0.0))


def end_send(*, session: Session, chat_id: int) -> None:
    """The send answered: the next one to the chat waits `interval` from now."""
    session.execute(
        sa.update(_table)
        .where(_table.c.key == chat_id)
        .values(sent_at=sa.func.greatest(_table.c.sent_at, sa.func.clock_timestamp()))
    )
