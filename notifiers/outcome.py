"""What one send attempt came to; the dispatcher turns it into sent, retry or dead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None
    # The target is gone for good (410, a blocked chat): stop sending to it at all.
    disable_target: bool = False
    # This delivery can never succeed; do not retry it.
    permanent: bool = False
    # Not tried at all (a rate limit said wait): retry after exactly `retry_after` seconds,
    # and do not count it as an attempt.
    deferred: bool = False
