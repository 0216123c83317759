"""When to poll a feed next. Pure: `now` is passed in.

The interval follows how often the feed publishes (the mean gap between its recent
entries), from the default up to a bound for quiet feeds; it is never shorter than what the server asks for (RSS `<ttl>`,
`Cache-Control: max-age`, `Expires`). Errors back off exponentially, up to a day.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*\"?(\d{1,10})")
_WINDOW = timedelta(days=7)
_MIN_DATED = 3


@dataclass(frozen=True)
class PollPolicy:
    """Bounds on poll intervals and the alert window."""

    default_interval_seconds: int = 600
    min_interval_seconds: int = 60
    max_interval_seconds: int = 24 * 3600
    max_adaptive_interval_seconds: int = 4 * 3600
    max_error_backoff_seconds: int = 24 * 3600
    alert_max_age: timedelta = timedelta(hours=24)
    # Copies of a story ingested within this long of each other join it.
    story_window: timedelta = timedelta(hours=72)


def base_interval(policy: PollPolicy, interval_seconds: int | None) -> int:
    """The feed's own interval if set, else the default, within the policy's bounds."""
    wanted = interval_seconds or policy.default_interval_seconds
    return _clamp(wanted, policy.min_interval_seconds, policy.max_interval_seconds)


def adaptive_interval(
    policy: PollPolicy, published: Iterable[datetime | None], now: datetime
) -> int:
    """The mean gap between the feed's entries of the last week, from the default interval
    (never faster: the operator's default is the politeness floor) up to the adaptive
    maximum for quiet feeds. Too few dated entries to tell: the default."""
    dates = sorted(p for p in published if p is not None and p <= now)
    if len(dates) < _MIN_DATED:
        return policy.default_interval_seconds
    recent = [d for d in dates if now - d <= _WINDOW]
    high = max(policy.default_interval_seconds, policy.max_adaptive_interval_seconds)
    if len(recent) < 2:
        return high
    gap = (recent[-1] - recent[0]).total_seconds() / (len(recent) - 1)
    return _clamp(gap, policy.default_interval_seconds, high)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the server says its answer stays fresh (Cache-Control max-age, Expires)."""
    control = headers.get("cache-control", "").lower()
    if "no-cache" in control or "no-store" in control:
        return None
    match = _MAX_AGE.search(control)
    if match:
        return float(match.group(1))
    expires = headers.get("expires", "")
    if not expires:
        return None
    try:
        when = email.utils.parsedate_to_datetime(expires)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def polite_interval(
    policy: PollPolicy,
    interval_seconds: int,
    *,
    ttl_minutes: int | None = None,
    cache_seconds: float | None = None,
) -> int:
    """Never poll sooner than the feed's `<ttl>` or the cache headers allow (up to the max)."""
    wanted = max(interval_seconds, (ttl_minutes or 0) * 60, int(cache_seconds or 0))
    return _clamp(wanted, policy.min_interval_seconds, policy.max_interval_seconds)


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


def _clamp(value: float, low: int, high: int) -> int:
    return int(max(low, min(high, value)))
