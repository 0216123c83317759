"""Query parameters shared by list routes: filters and keyset pagination."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    # pydantic alone would also take Unix seconds, a space for the T or no seconds; the
    # API promises (and documents) RFC 3339 with a timezone, the JSON Schema date-time.
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with a timezone, e.g. 2026-11-27T12:00:00Z")
    return value


Since = Annotated[
    datetime | None,
    BeforeValidator(_rfc3339),
    Query(
        description="Only items created at or after this ISO 8601 time (with a timezone).",
        examples=["2026-11-27T12:00:00Z"],
    ),
]
Cursor = Annotated[
    str | None,
    Query(max_length=100, description="`next_cursor` from the previous page."),
]

# Ids are int64 in both databases: a bigger one is refused as out of the declared range.
Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="The object's id.")]
