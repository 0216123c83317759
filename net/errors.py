"""Errors of outbound HTTP, shared by feeds, pages, webhooks and chat channels.

NetError
└── FetchError          the resource could not be fetched
    ├── BlockedURLError     the URL is not allowed (scheme, or a non-public address)
    │   └── UnresolvableError   the host name did not resolve: refused now, but DNS may
    │                           come back, so a retry can succeed (unlike its parent)
    ├── TooLargeError       the body exceeded the byte limit
    ├── FetchTimeoutError   the connect, read or overall deadline passed
    ├── TooManyRedirectsError
    └── HTTPStatusError     a status other than 2xx/304 (carries retry_after)
"""

from __future__ import annotations


class NetError(Exception):
    """Base of every error raised by `net`."""


class FetchError(NetError):
    pass


class BlockedURLError(FetchError):
    pass


class UnresolvableError(BlockedURLError):
    pass


class TooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, status_code: int, url: str, retry_after: float | None = None) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(f"HTTP {status_code} from {url}")
