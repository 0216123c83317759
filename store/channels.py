"""Per-channel delivery settings (mode, digest time, timezone, quiet hours, mute) and rule
mutes. A channel is (kind, id): ("webhook", webhook id) or ("telegram", chat row id)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import insert_ignore
from store.schedule import Schedule, holds_now, next_digest
from store.tables import ChannelSetting, Delivery, Rule, RuleMute, metadata

HELD, DIGESTED = "held", "digested"
Channel = tuple[str, int]


def schedule_of(setting: ChannelSetting | None) -> Schedule:
    """The validated schedule of a stored row (instant when there is none)."""
    if setting is None:
        return Schedule()
    return Schedule.parse(
        mode=setting.mode,
        at=setting.digest_at,
        timezone=setting.timezone,
        quiet_hours=setting.quiet_hours,
    )


def get_setting(*, session: Session, kind: str, channel_id: int) -> ChannelSetting | None:
    return session.exec(
        select(ChannelSetting).where(
            ChannelSetting.channel_kind == kind, ChannelSetting.channel_id == channel_id
        )
    ).first()


def _ensure(session: Session, kind: str, channel_id: int, now: datetime) -> ChannelSetting:
    insert_ignore(
        session,
        metadata.tables["channel_settings"],
        {
            "channel_kind": kind,
            "channel_id": channel_id,
            "mode": "instant",
            "digest_at": "",
            "timezone": "UTC",
            "quiet_hours": "",
            "updated_at": now,
        },
        ["channel_kind", "channel_id"],
    )
    setting = get_setting(session=session, kind=kind, channel_id=channel_id)
    assert setting is not None
    return setting


def set_schedule(
    *, session: Session, kind: str, channel_id: int, schedule: Schedule, now: datetime
) -> ChannelSetting:
    """Store a channel's schedule and when its next digest is due. Hits held under the old
    schedule wait for the new one's next digest, or go out now when it would not hold a
    hit arriving now (instant, outside quiet hours)."""
    setting = _ensure(session, kind, channel_id, now)
    setting.mode = schedule.mode
    setting.digest_at = f"{schedule.at:%H:%M}" if schedule.at else ""
    setting.timezone = schedule.zone.key
    setting.quiet_hours = str(schedule.quiet) if schedule.quiet else ""
    setting.next_digest_at = next_digest(schedule, now)
    if not holds_now(schedule, now) and _has_held(session, kind, channel_id):
        setting.next_digest_at = now  # what was held goes now, as one digest
    setting.updated_at = now
    session.add(setting)
    session.flush()
    return setting


def _has_held(session: Session, kind: str, channel_id: int) -> bool:
    return (
        session.exec(
            select(Delivery.id)
            .where(
                Delivery.channel_kind == kind,
                Delivery.channel_id == channel_id,
                Delivery.status == HELD,
            )
            .limit(1)
        ).first()
        is not None
    )


def mute_channel(
    *, session: Session, kind: str, channel_id: int, until: datetime | None, now: datetime
) -> ChannelSetting:
    """Mute a channel until `until` (None unmutes): hits are recorded, it gets no alert."""
    setting = _ensure(session, kind, channel_id, now)
    setting.muted_until = until
    setting.updated_at = now
    session.add(setting)
    session.flush()
    return setting


def settings_for(
    *, session: Session, channels: Collection[Channel]
) -> dict[Channel, ChannelSetting]:
    """The settings rows of these channels (absent: instant, never quiet, not muted)."""
    if not channels:
        return {}
    rows = session.exec(
        select(ChannelSetting).where(
            sa.tuple_(col(ChannelSetting.channel_kind), col(ChannelSetting.channel_id)).in_(
                list(channels)
            )
        )
    )
    return {(r.channel_kind, r.channel_id): r for r in rows}


def mute_rule(*, session: Session, rule_id: int, until: datetime | None) -> None:
    """Mute a rule until `until` (None unmutes): its hits are recorded and alert no one."""
    session.execute(sa.delete(RuleMute).where(col(RuleMute.rule_id) == rule_id))
    if until is not None:
        session.add(RuleMute(rule_id=rule_id, until=until))
        session.flush()


def unmute_rules(*, session: Session, user_id: int) -> int:
    """Unmute every rule of a user; returns how many were muted."""
    owned = select(Rule.id).where(Rule.user_id == user_id)
    result = session.execute(sa.delete(RuleMute).where(col(RuleMute.rule_id).in_(owned)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def rule_muted_until(*, session: Session, rule_id: int, now: datetime) -> datetime | None:
    return rule_mutes(session=session, rule_ids=[rule_id], now=now).get(rule_id)


def rule_mutes(
    *, session: Session, rule_ids: Collection[int], now: datetime
) -> dict[int, datetime]:
    """When each of these rules that is muted now stops being muted."""
    if not rule_ids:
        return {}
    rows = session.exec(
        select(RuleMute.rule_id, RuleMute.until).where(col(RuleMute.rule_id).in_(list(rule_ids)))
    )
    return {rule_id: until for rule_id, until in rows if until > now}
