"""Channel schedules: next digest times and quiet hours, across DST changes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from store.schedule import (
    QuietHours,
    Schedule,
    ScheduleError,
    holds_now,
    in_quiet,
    next_digest,
    quiet_end,
)

NY = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "weekly"}, "'weekly' is not one of"),
        ({"mode": "daily"}, "needs a time"),
        ({"mode": "daily", "at": "25:00"}, "'25:00' is not a time"),
        ({"mode": "daily", "at": "8am"}, "'8am' is not a time"),
        ({"mode": "hourly", "timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA"),
        ({"mode": "hourly", "timezone": "../etc/passwd"}, "is not an IANA"),
        ({"quiet_hours": "22:00"}, "is not a range"),
        ({"quiet_hours": "07:00-07:00"}, "same time"),
    ],
)
def test_bad_settings_name_the_bad_value(kwargs: dict[str, str], message: str) -> None:
    """Every refused setting says which value was wrong."""
    with pytest.raises(ScheduleError, match=message):
        Schedule.parse(**kwargs)


def test_daily_at_local_time() -> None:
    """08:00 Asia/Jakarta (UTC+7) is 01:00 UTC, today if still ahead, else tomorrow."""
    s = Schedule.parse(mode="daily", at="08:00", timezone="Asia/Jakarta")
    assert next_digest(s, utc(2026, 6, 1, 0, 30)) == utc(2026, 6, 1, 1, 0)
    assert next_digest(s, utc(2026, 6, 1, 1, 0)) == utc(2026, 6, 2, 1, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Spring forward (8 March 2026): 08:00 EDT is 12:00 UTC, the day before 13:00 UTC.
        (utc(2026, 3, 7, 14), utc(2026, 3, 8, 12)),
        (utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)),
        # Fall back (1 November 2026): 08:00 EST is 13:00 UTC.
        (utc(2026, 10, 31, 13), utc(2026, 11, 1, 13)),
    ],
)
def test_daily_keeps_local_time_across_dst(now: datetime, expected: datetime) -> None:
    """A daily digest stays at 08:00 local on the nights the clocks change."""
    s = Schedule.parse(mode="daily", at="08:00", timezone=NY)
    assert next_digest(s, now) == expected


def test_daily_time_inside_a_skipped_hour() -> None:
    """02:30 does not exist on the spring-forward night: the digest goes just after the gap."""
    s = Schedule.parse(mode="daily", at="02:30", timezone=NY)
    assert next_digest(s, utc(2026, 3, 8, 5)) == utc(2026, 3, 8, 7, 30)  # 03:30 EDT


def test_daily_time_inside_a_repeated_hour_fires_once() -> None:
    """01:30 happens twice on the fall-back night: the first one counts, then tomorrow's."""
    s = Schedule.parse(mode="daily", at="01:30", timezone=NY)
    first = next_digest(s, utc(2026, 11, 1, 4))
    assert first == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert next_digest(s, first) == utc(2026, 11, 2, 6, 30)  # 01:30 EST, a day later


def test_hourly_follows_local_hours() -> None:
    """Hourly digests fall on local hours, :30 UTC in India."""
    assert next_digest(Schedule.parse(mode="hourly"), utc(2026, 1, 1, 9, 59)) == utc(2026, 1, 1, 10)
    s = Schedule.parse(mode="hourly", timezone="Asia/Kolkata")
    assert next_digest(s, utc(2026, 1, 1, 9, 40)) == utc(2026, 1, 1, 10, 30)


def test_quiet_hours_wrap_midnight() -> None:
    """22:00-07:00 holds 23:00 and 06:59, not 07:00 or 21:59."""
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet.contains(time(23)) and quiet.contains(time(6, 59))
    assert not quiet.contains(time(7)) and not quiet.contains(time(21, 59))


@pytest.mark.parametrize(
    ("night", "ends"),
    [
        (utc(2026, 3, 8, 4), utc(2026, 3, 8, 11)),  # spring forward: 07:00 EDT
        (utc(2026, 11, 1, 4), utc(2026, 11, 1, 12)),  # fall back: 07:00 EST
    ],
)
def test_quiet_hours_end_at_local_time_on_dst_nights(night: datetime, ends: datetime) -> None:
    """Quiet hours 22:00-07:00 end at 07:00 local on the nights the clocks change."""
    s = Schedule.parse(quiet_hours="22:00-07:00", timezone=NY)
    assert in_quiet(s, night) and holds_now(s, night)
    assert quiet_end(s, night) == ends
    assert next_digest(s, night) == ends
    assert not holds_now(s, ends)


def test_hourly_digest_waits_for_the_end_of_quiet_hours() -> None:
    """An hourly digest due inside quiet hours goes when they end, not at each hour."""
    s = Schedule.parse(mode="hourly", quiet_hours="22:00-07:00")
    assert next_digest(s, utc(2026, 1, 1, 20, 30)) == utc(2026, 1, 1, 21)
    assert next_digest(s, utc(2026, 1, 1, 21, 30)) == utc(2026, 1, 2, 7)  # 22:00 is quiet
    assert next_digest(s, utc(2026, 1, 2, 7)) == utc(2026, 1, 2, 8)


def test_instant_without_quiet_never_holds() -> None:
    """The default channel sends everything at once."""
    s = Schedule()
    assert not holds_now(s, utc(2026, 1, 1)) and next_digest(s, utc(2026, 1, 1)) is None
