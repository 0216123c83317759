"""`Retry-After` parsing, bounded so that a hostile header cannot overflow a schedule."""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime

# A day: no schedule here waits longer between two tries.
DEFAULT_CAP_SECONDS = 86_400.0


def parse_retry_after(
    value: str | None, now: datetime | None = None, *, cap: float = DEFAULT_CAP_SECONDS
) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), at most `cap`.

    Anything unparsable, negative or non-finite gives None (no hint), never an exception.
    """
    if not value:
        return None
    value = value.strip()
    if len(value) > 64:
        return None
    if value.isascii() and value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    except OverflowError:
        return cap
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), cap)
