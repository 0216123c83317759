"""Delivery-mode fields shared by every channel (webhooks, e-mail, Apprise): the
schemas, applying a partial change, and mutes (of a channel or a rule)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict
from sqlmodel import Session

from api.deps import field_error
from api.schemas import Strict
from store.channels import get_setting, mute_channel, schedule_of, set_schedule
from store.schedule import Schedule, ScheduleError
from store.tables import ChannelSetting

MAX_MUTE = timedelta(days=366)

Mode = Annotated[str, Field(pattern="^(instant|hourly|daily)$")]
Clock = Annotated[str, Field(max_length=5, examples=["08:00"])]
Zone = Annotated[str, Field(min_length=1, max_length=64, examples=["Asia/Jakarta"])]
Quiet = Annotated[str, Field(max_length=11, examples=["22:00-07:00"])]


class ModeUpdate(Strict):
    """The mode fields; only those sent change. `quiet_hours: ""` turns quiet hours off."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"mode": "daily", "at": "08:00", "timezone": "Asia/Jakarta"},
                {"quiet_hours": "22:00-07:00"},
            ]
        }
    )

    mode: Mode | None = None
    at: Clock | None = None
    timezone: Zone | None = None
    quiet_hours: Quiet | None = None


class ModePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mode": "daily",
                    "at": "08:00",
                    "timezone": "Asia/Jakarta",
                    "quiet_hours": "22:00-07:00",
                    "muted_until": None,
                    "next_digest_at": "2026-12-02T01:00:00Z",
                }
            ]
        }
    )

    mode: str = "instant"
    at: str | None = None
    timezone: str = "UTC"
    quiet_hours: str | None = None
    muted_until: datetime | None = None
    next_digest_at: datetime | None = None


class MuteRequest(Strict):
    """Mute until a time, or for a number of seconds (at most a year)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"for_seconds": 7200}, {"until": "2026-12-02T08:00:00Z"}]}
    )

    until: datetime | None = None
    for_seconds: Annotated[int, Field(ge=1, le=int(MAX_MUTE.total_seconds()))] | None = None

    @model_validator(mode="after")
    def _one(self) -> MuteRequest:
        if (self.until is None) == (self.for_seconds is None):
            raise ValueError("give exactly one of until or for_seconds")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("until needs a timezone, e.g. 2026-12-02T08:00:00Z")
        return self

    def resolve(self, now: datetime) -> datetime:
        """The end of the mute, or a 422 when it is past or over a year ahead."""
        until = (
            self.until if self.until is not None else now + timedelta(seconds=self.for_seconds or 0)
        )
        if until <= now:
            raise field_error("until", "until must be in the future")
        if until > now + MAX_MUTE:
            raise field_error("until", "a mute lasts at most a year")
        return until


class MutePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"muted_until": "2026-12-02T08:00:00Z"}]}
    )

    muted_until: datetime | None


def mode_public(setting: ChannelSetting | None, now: datetime) -> ModePublic:
    """A channel's mode fields as the API shows them (defaults when it has no row)."""
    if setting is None:
        return ModePublic()
    muted = setting.muted_until if setting.muted_until and setting.muted_until > now else None
    return ModePublic(
        mode=setting.mode,
        at=setting.digest_at or None,
        timezone=setting.timezone,
        quiet_hours=setting.quiet_hours or None,
        muted_until=muted,
        next_digest_at=setting.next_digest_at,
    )


def apply_mode(
    *, session: Session, kind: str, channel_id: int, change: ModeUpdate, now: datetime
) -> ChannelSetting | None:
    """Merge the fields sent into the channel's schedule and store it; a 422 names the
    bad field. Nothing sent changes nothing (and returns the current row)."""
    current = get_setting(session=session, kind=kind, channel_id=channel_id)
    sent = change.model_dump(exclude_unset=True)
    if not sent:
        return current
    old = schedule_of(current)
    try:
        schedule = Schedule.parse(
            mode=sent.get("mode") or old.mode,
            at=sent.get("at") or (f"{old.at:%H:%M}" if old.at else ""),
            timezone=sent.get("timezone") or old.zone.key,
            quiet_hours=sent["quiet_hours"] if "quiet_hours" in sent else str(old.quiet or ""),
        )
    except ScheduleError as exc:
        raise field_error(exc.field or "mode", exc.message) from None
    return set_schedule(
        session=session, kind=kind, channel_id=channel_id, schedule=schedule, now=now
    )


def mute(
    *, session: Session, kind: str, channel_id: int, until: datetime | None, now: datetime
) -> MutePublic:
    setting = mute_channel(session=session, kind=kind, channel_id=channel_id, until=until, now=now)
    return MutePublic(muted_until=setting.muted_until)


# e-mail and Apprise channels ---------------------------------------------------------

Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(max_length=1000)]

_CHANNEL_EXAMPLE: JsonDict = {
    "id": 4,
    "kind": "apprise",
    "target": "ntfy://alerts.example.org/newsroom?auth=token…",
    "rule_ids": None,
    "active": True,
    "confirmed": True,
    "disabled_reason": "",
    "created_at": "2026-12-01T12:00:00Z",
    "mode": "instant",
    "at": None,
    "timezone": "UTC",
    "quiet_hours": None,
    "muted_until": None,
    "next_digest_at": None,
}


class ChannelCreate(ModeUpdate):
    """A channel; `target` is an e-mail address or an Apprise URL."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "apprise", "target": "ntfy://alerts.example.org/newsroom"},
                {"kind": "email", "target": "desk@example.org", "mode": "hourly"},
            ]
        }
    )

    kind: Annotated[str, Field(pattern="^(email|apprise)$")]
    target: Annotated[str, Field(min_length=3, max_length=2048)]
    rule_ids: Ids | None = None


class ChannelUpdate(ModeUpdate):
    """Only the fields sent change; `"active": true` turns a disabled channel on again."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"rule_ids": [3, 4]}, {"mode": "daily", "at": "08:00"}]}
    )

    rule_ids: Ids | None = None
    active: bool | None = None


class ChannelPublic(ModePublic):
    """A channel as the API shows it: the target with any secret redacted."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CHANNEL_EXAMPLE]})

    id: int
    kind: str
    target: str
    rule_ids: list[int] | None
    active: bool
    confirmed: bool
    disabled_reason: str
    created_at: datetime
