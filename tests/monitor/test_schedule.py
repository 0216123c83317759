"""When to poll next: adaptive intervals, politeness headers, error backoff, and a steady
cadence from the time a poll was due. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor import schedule
from monitor.schedule import PollPolicy

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(default_interval_seconds=600, min_interval_seconds=60)


def _every(minutes: float, count: int) -> list[datetime]:
    return [NOW - timedelta(minutes=minutes * i) for i in range(count)]


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (_every(15, 20), 900),  # a feed every 15 minutes: its mean gap
        (_every(0.1, 50), 600),  # never faster than the default
        (_every(60 * 24, 7), 4 * 3600),  # a daily feed: up to the adaptive maximum
        (_every(60 * 24 * 30, 3), 4 * 3600),  # quiet for a month
        ([NOW - timedelta(days=30)], 600),  # one dated entry tells nothing
        ([None, None], 600),  # undated: the default
        ([], 600),
    ],
)
def test_adaptive_interval(published: list[datetime | None], expected: int) -> None:
    """The interval follows how often the feed publishes, within bounds."""
    assert schedule.adaptive_interval(POLICY, published, NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=1800"}, 1800.0),
        ({"cache-control": "s-maxage=120"}, 120.0),
        ({"cache-control": "no-cache, max-age=900"}, None),
        ({"expires": "Fri, 27 Nov 2026 13:00:00 GMT"}, 3600.0),
        ({"expires": "0"}, None),
        ({}, None),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: float | None) -> None:
    """Cache-Control max-age wins; Expires counts from now; nonsense is ignored."""
    assert schedule.cache_lifetime(headers, NOW) == expected


@pytest.mark.parametrize(
    ("interval", "ttl", "cache", "expected"),
    [
        (600, None, None, 600),
        (600, 60, None, 3600),  # RSS <ttl> in minutes
        (600, None, 7200.0, 7200),
        (600, 100_000, None, 24 * 3600),  # never past the maximum
        (5, None, None, 60),
    ],
)
def test_polite_interval(
    interval: int, ttl: int | None, cache: float | None, expected: int
) -> None:
    """Never sooner than ttl or cache headers allow, and within the policy's bounds."""
    assert (
        schedule.polite_interval(POLICY, interval, ttl_minutes=ttl, cache_seconds=cache) == expected
    )


@pytest.mark.parametrize(
    ("errors", "retry_after", "expected"),
    [
        (0, None, 600),
        (1, None, 1200),
        (3, None, 4800),
        (30, None, 86400),
        (0, 5000.0, 5000),
        (0, 1e9, 86400),
    ],
)
def test_error_backoff(errors: int, retry_after: float | None, expected: int) -> None:
    """Doubling per error, capped at 24 h; a longer Retry-After wins, also capped."""
    due = schedule.after_error(NOW, POLICY, 600, errors, retry_after)
    assert due == NOW + timedelta(seconds=expected)


T = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "started", "expected"),
    [
        (None, T, T + timedelta(seconds=60)),  # no due time known: from now
        (T, T + timedelta(seconds=3), T + timedelta(seconds=60)),  # late start: same cadence
        (T, T + timedelta(seconds=59), T + timedelta(seconds=60)),  # very late, still ahead
        (T, T + timedelta(seconds=61), T + timedelta(seconds=121)),  # past: from now
        (T, T + timedelta(seconds=60), T + timedelta(seconds=120)),  # exactly due: from now
    ],
)
def test_next_poll_is_one_interval_after_it_was_due(
    due: datetime | None, started: datetime, expected: datetime
) -> None:
    """Lateness does not add up poll after poll; a poll late by a whole interval restarts."""
    assert schedule.after_success(started, 60, due) == expected
