"""When a channel's alerts go out: its mode (instant, hourly, daily at a local time),
quiet hours in its own timezone, and the next digest time. Pure: every function takes
`now` (an aware datetime) and returns aware UTC datetimes.

Local wall times are turned into instants with `zoneinfo`: a wall time that a
spring-forward skips maps to the instant just after the gap, and one that a fall-back
repeats maps to its first occurrence (fold=0)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INSTANT, HOURLY, DAILY = "instant", "hourly", "daily"
MODES = (INSTANT, HOURLY, DAILY)
UTC_ZONE = ZoneInfo("UTC")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A mode, time, timezone or quiet-hours range that cannot be used; names the value.
    `field` is which setting it was: mode, at, timezone or quiet_hours."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def parse_clock(text: str) -> time:
    """'08:00' -> time(8, 0); ScheduleError for anything else."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ScheduleError(f"{text!r} is not a time of day like 08:00")
    return time(int(match[1]), int(match[2]))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA timezone such as 'Asia/Jakarta'; ScheduleError when unknown."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleError(f"{name!r} is not an IANA timezone like Asia/Jakarta")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{name!r} is not an IANA timezone like Asia/Jakarta") from None


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily range of local wall time, end excluded; it may wrap past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """'22:00-07:00' -> QuietHours; ScheduleError for a bad or empty range."""
        first, sep, second = text.partition("-")
        if not sep:
            raise ScheduleError(f"{text!r} is not a range like 22:00-07:00")
        quiet = cls(parse_clock(first), parse_clock(second))
        if quiet.start == quiet.end:
            raise ScheduleError(f"{text!r} starts and ends at the same time")
        return quiet

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class Schedule:
    """A channel's delivery settings, validated."""

    mode: str = INSTANT
    at: time | None = None  # daily only
    zone: ZoneInfo = UTC_ZONE
    quiet: QuietHours | None = None

    @classmethod
    def parse(
        cls, *, mode: str = INSTANT, at: str = "", timezone: str = "UTC", quiet_hours: str = ""
    ) -> Schedule:
        """From the stored or requested strings; ScheduleError names the bad one."""
        if mode not in MODES:
            raise ScheduleError(f"{mode!r} is not one of {', '.join(MODES)}", "mode")
        try:
            clock = parse_clock(at) if at else None
        except ScheduleError as exc:
            raise ScheduleError(exc.message, "at") from None
        if mode == DAILY and clock is None:
            raise ScheduleError("a daily digest needs a time, like 08:00", "at")
        try:
            zone = parse_zone(timezone or "UTC")
        except ScheduleError as exc:
            raise ScheduleError(exc.message, "timezone") from None
        try:
            quiet = QuietHours.parse(quiet_hours) if quiet_hours else None
        except ScheduleError as exc:
            raise ScheduleError(exc.message, "quiet_hours") from None
        return cls(mode=mode, at=clock if mode == DAILY else None, zone=zone, quiet=quiet)

    @property
    def holds(self) -> bool:
        """Whether some hits may wait for a digest at all."""
        return self.mode != INSTANT or self.quiet is not None


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The instant of a local wall time (fold=0: see the module docstring for DST)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def next_local(clock: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The first instant after `now` whose local wall time is `clock`."""
    day = now.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = _at(day, clock, zone)
        if candidate > now:
            return candidate
        day += timedelta(days=1)


def next_hour(zone: ZoneInfo, now: datetime) -> datetime:
    """The next top of a local hour after `now` (local, for zones offset by :30 or :45)."""
    local = now.astimezone(zone)
    top = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    while top <= now:
        top += timedelta(hours=1)
    return top


def in_quiet(schedule: Schedule, now: datetime) -> bool:
    """Whether `now` falls inside the channel's quiet hours."""
    if schedule.quiet is None:
        return False
    return schedule.quiet.contains(now.astimezone(schedule.zone).time())


def quiet_end(schedule: Schedule, now: datetime) -> datetime | None:
    """When the quiet hours that hold `now` end; None when `now` is not quiet."""
    if schedule.quiet is None or not in_quiet(schedule, now):
        return None
    return next_local(schedule.quiet.end, schedule.zone, now)


def holds_now(schedule: Schedule, now: datetime) -> bool:
    """Whether a hit that arrives at `now` waits for a digest instead of going at once."""
    return schedule.mode != INSTANT or in_quiet(schedule, now)


def next_digest(schedule: Schedule, now: datetime) -> datetime | None:
    """When the channel's next digest is due after `now`: the next hour, or the daily
    time, moved to the end of the quiet hours when it falls inside them. An instant
    channel with quiet hours gets one at the end of its next quiet hours. None when the
    channel never holds hits."""
    if schedule.mode == HOURLY:
        due = next_hour(schedule.zone, now)
    elif schedule.mode == DAILY:
        assert schedule.at is not None
        due = next_local(schedule.at, schedule.zone, now)
    elif schedule.quiet is not None:
        ends = quiet_end(schedule, now)
        return ends or next_local(schedule.quiet.end, schedule.zone, now)
    else:
        return None
    return quiet_end(schedule, due) or due
