"""Digests: the hits a channel held until its digest time, gathered into one outbox row.

Building is one transaction per run: the due channel settings are locked (skipped by
other replicas), each channel's held deliveries before the digest time are assigned to a
new digest row, the digest's own delivery is queued, and the next digest time is set.
A crash before the commit leaves the hits held; after it, the digest is an ordinary
delivery, retried and dead-lettered like any other."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import for_update_skip_locked
from store.channels import DIGESTED, HELD, schedule_of
from store.schedule import ScheduleError, next_digest
from store.tables import ChannelSetting, Delivery, Digest

DIGEST_EVENT = "digest.created"


def build_due_digests(
    *, session: Session, now: datetime, max_hits: int = 500, limit: int = 100
) -> list[int]:
    """Build the digests due at `now` (at most `limit` channels); return their ids.
    A digest holds at most `max_hits` hits: a larger backlog makes several, in order."""
    due = for_update_skip_locked(
        session,
        select(ChannelSetting)
        .where(col(ChannelSetting.next_digest_at) <= now)
        .order_by(col(ChannelSetting.next_digest_at), col(ChannelSetting.id))
        .limit(limit),
    )
    built: list[int] = []
    for (setting,) in session.execute(due).all():
        assert setting.next_digest_at is not None
        built += _build(session, setting, setting.next_digest_at, now, max_hits)
        try:
            setting.next_digest_at = next_digest(schedule_of(setting), now)
        except ScheduleError:  # a zone the system no longer knows: hold nothing more
            setting.next_digest_at = None
        session.add(setting)
    session.flush()
    return built


def _build(
    session: Session, setting: ChannelSetting, period_end: datetime, now: datetime, max_hits: int
) -> list[int]:
    kind, channel_id = setting.channel_kind, setting.channel_id
    built: list[int] = []
    while True:
        held = session.execute(
            select(Delivery.id, Delivery.user_id)
            .where(
                col(Delivery.channel_kind) == kind,
                col(Delivery.channel_id) == channel_id,
                col(Delivery.status) == HELD,
                col(Delivery.created_at) < period_end,
            )
            .order_by(col(Delivery.id))
            .limit(max_hits)
        ).all()
        if not held:
            return built
        user_id = held[-1].user_id
        digest = Digest(
            user_id=user_id,
            channel_kind=kind,
            channel_id=channel_id,
            period_end=period_end,
            hit_count=len(held),
            created_at=now,
        )
        session.add(digest)
        session.flush()
        session.execute(
            sa.update(Delivery)
            .where(col(Delivery.id).in_([row.id for row in held]))
            .values(status=DIGESTED, digest_id=digest.id, updated_at=now)
        )
        session.add(
            Delivery(
                user_id=user_id,
                channel_kind=kind,
                channel_id=channel_id,
                event_type=DIGEST_EVENT,
                digest_id=digest.id,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        built.append(digest.id or 0)
        if len(held) < max_hits:
            return built


def next_digest_due(*, session: Session) -> datetime | None:
    """The earliest time a digest falls due, for the dispatcher's sleep."""
    return session.exec(select(sa.func.min(col(ChannelSetting.next_digest_at)))).one()


def digest_hits(*, session: Session, digest_ids: list[int]) -> dict[int, list[int]]:
    """The delivery rows (of hits) in each digest, by digest id."""
    out: dict[int, list[int]] = {d: [] for d in digest_ids}
    if not digest_ids:
        return out
    for delivery_id, digest_id in session.execute(
        select(Delivery.id, Delivery.digest_id)
        .where(col(Delivery.digest_id).in_(digest_ids), col(Delivery.status) == DIGESTED)
        .order_by(col(Delivery.id))
    ):
        out[digest_id].append(delivery_id)
    return out


def digest_parts_sent(*, session: Session, digest_id: int) -> int:
    """How many parts of a digest its channel has already received."""
    return session.exec(select(Digest.parts_sent).where(col(Digest.id) == digest_id)).first() or 0


def record_digest_parts(*, session: Session, digest_id: int, parts_sent: int) -> None:
    """Note that the first `parts_sent` parts were received (never moving back)."""
    session.execute(
        sa.update(Digest)
        .where(col(Digest.id) == digest_id, col(Digest.parts_sent) < parts_sent)
        .values(parts_sent=parts_sent)
    )
