"""The forms every channel and rule shares: mute for a while or until a time, and a
channel's delivery mode. They build the API's own request bodies (`MuteRequest`,
`ModeUpdate`), so that the pages and the API check them alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form
from pydantic import ValidationError

from api.modes import ModeUpdate, MuteRequest

DURATIONS = {"3600": "1 hour", "28800": "8 hours", "86400": "24 hours"}


class FormProblem(ValueError):
    """A form that the API's schema refuses; the message says why, in words."""


def words(exc: ValidationError) -> str:
    """The first problem pydantic found, as `field: message`."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p)
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def mute_request(
    duration: Annotated[str, Form(max_length=10)] = "3600",
    until: Annotated[str, Form(max_length=40)] = "",
) -> MuteRequest | FormProblem:
    """A date and time (UTC), when given, wins over the duration picked."""
    try:
        if until.strip():
            try:
                moment = datetime.fromisoformat(until.strip())
            except ValueError:
                return FormProblem(f"not a date and time: {until[:40]!r}")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return MuteRequest(until=moment)
        if duration not in DURATIONS:
            return FormProblem("pick 1 hour, 8 hours or 24 hours, or give a date")
        return MuteRequest(for_seconds=int(duration))
    except ValidationError as exc:
        return FormProblem(words(exc))


MuteForm = Annotated[MuteRequest | FormProblem, Depends(mute_request)]


def mode_update(
    mode: Annotated[str, Form(max_length=10)] = "instant",
    at: Annotated[str, Form(max_length=5)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
    quiet_from: Annotated[str, Form(max_length=5)] = "",
    quiet_to: Annotated[str, Form(max_length=5)] = "",
) -> ModeUpdate | FormProblem:
    """Quiet hours are two times (both empty: none); a daily digest needs its time."""
    quiet = f"{quiet_from}-{quiet_to}" if quiet_from or quiet_to else ""
    fields: dict[str, str] = {"mode": mode, "timezone": timezone.strip() or "UTC"}
    fields["quiet_hours"] = quiet
    if at:
        fields["at"] = at
    try:
        return ModeUpdate(**fields)
    except ValidationError as exc:
        return FormProblem(words(exc))


ModeForm = Annotated[ModeUpdate | FormProblem, Depends(mode_update)]


# Where a form goes back to after the change (a local path only: see `safe_next`).
Next = Annotated[str, Form(alias="next", max_length=200)]
