"""The poll schedule keeps a steady cadence from the time a poll was due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.schedule import after_success

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
    assert after_success(started, 60, due) == expected
