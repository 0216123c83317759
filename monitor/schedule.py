"""When to poll a feed next. Pure: `now` is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PollPolicy:
    """Bounds on poll intervals and the alert window."""

    default_interval_seconds: int = 600
    min_interval_seconds: int = 60
    max_interval_seconds: int = 24 * 3600
    max_error_backoff_seconds: int = 24 * 3600
    alert_max_age: timedelta = timedelta(hours=24)


def base_interval(policy: PollPolicy, interval_seconds: int | None) -> int:
    """The feed's own interval if set, else the default, within the policy's bounds."""
    wanted = interval_seconds or policy.default_interval_seconds
    return max(policy.min_interval_seconds, min(policy.max_interval_seconds, wanted))


def after_success(now: datetime, interval_seconds: int, due: datetime | None = None) -> datetime:
    """One interval after the poll was due, so that lateness does not add up over polls
    (exactly one poll per interval); one interval from now when that time has passed."""
    step = timedelta(seconds=interval_seconds)
    if due is not None and due + step > now:
        return due + step
    return now + step


def after_error(
    now: datetime,
    policy: PollPolicy,
    interval_seconds: int,
    error_count: int,
    retry_after: float | None = None,
) -> datetime:
    """Exponential backoff from the feed's interval, capped; a Retry-After wins if longer."""
    delay = min(policy.max_error_backoff_seconds, interval_seconds * 2 ** min(error_count, 20))
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_error_backoff_seconds))
    return now + timedelta(seconds=delay)
