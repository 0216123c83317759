"""Query parameters shared by list routes: filters and keyset pagination."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator

from store.hits import cursor_pattern

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


def _cursor(kind: str) -> Any:
    return Query(
        # Empty means the first page, as no cursor does.
        pattern=cursor_pattern(kind).replace("^", "^(?:", 1).replace("$", ")?$"),
        description="`next_cursor` from the previous page.",
        examples=[f"{kind}42"],
    )


# Each list's cursors: its letter and digits, a pattern that every cursor it declares fits.
HitCursor = Annotated[str | None, _cursor("h")]
FeedCursor = Annotated[str | None, _cursor("f")]
RuleCursor = Annotated[str | None, _cursor("r")]
PreviewCursor = Annotated[str | None, _cursor("p")]
WebhookCursor = Annotated[str | None, _cursor("w")]
DeliveryCursor = Annotated[str | None, _cursor("d")]
TokenCursor = Annotated[str | None, _cursor("t")]
UserCursor = Annotated[str | None, _cursor("u")]

# Ids are int64 in the databases, but JSON numbers carry integers exactly only up to
# 2**53 - 1, so that is the declared bound (a bigger id is a 422, never stored).
MAX_ID = 2**53 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="The object's id.")]
