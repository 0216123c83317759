"""Errors of feed monitoring.

MonitorError
└── ParseError          the body is not a feed

Fetching raises the `net.errors` tree (FetchError and its children); `monitor` catches
both as `FEED_ERRORS`.
"""

from __future__ import annotations

from net.errors import (
    BlockedURLError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TooLargeError,
    TooManyRedirectsError,
)

__all__ = [
    "FEED_ERRORS",
    "BlockedURLError",
    "FetchError",
    "FetchTimeoutError",
    "HTTPStatusError",
    "MonitorError",
    "ParseError",
    "TooLargeError",
    "TooManyRedirectsError",
]


class MonitorError(Exception):
    """Base of every error raised by `monitor` itself."""


class ParseError(MonitorError):
    pass


FEED_ERRORS = (FetchError, MonitorError)
