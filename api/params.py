"""Query parameters shared by list routes: filters and keyset pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BeforeValidator


def _iso_only(value: object) -> object:
    # pydantic would read a bare number as Unix seconds; the API speaks ISO 8601 only.
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("since must be an ISO 8601 date-time, e.g. 2026-11-27T12:00:00Z")
    return value


Since = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Query(
        description="Only items created at or after this ISO 8601 time (with a timezone).",
        examples=["2026-11-27T12:00:00Z"],
    ),
]
Cursor = Annotated[
    str | None,
    Query(max_length=100, description="`next_cursor` from the previous page."),
]
