"""Fetching feeds: conditional GET, a byte cap, a deadline, and every redirect re-checked."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

import httpx

from monitor.errors import (
    BlockedURLError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TooLargeError,
    TooManyRedirectsError,
)
from net.decode import StreamDecoder
from net.guard import Guard, check_scheme
from net.retry_after import parse_retry_after
from net.transport import GuardedTransport

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch; feed monitor)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch, and the guard that decides where fetches may go."""

    max_bytes: int = 10 * 1024 * 1024
    timeout_seconds: float = 20.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 10.0
    max_redirects: int = 5
    allow_private_networks: bool = False
    user_agent: str = USER_AGENT
    max_connections: int = 100
    max_per_host: int = 4
    guard: Guard | None = None

    @property
    def effective_guard(self) -> Guard:
        return self.guard or Guard(allow_private=self.allow_private_networks)


@dataclass(frozen=True)
class FetchResult:
    """A fetched body (or a 304) and the headers that matter for parsing and scheduling."""

    url: str
    status_code: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass

    def set_cookie_header(self, request: httpx.Request) -> None:
        pass


class _FeedClient(httpx.AsyncClient):
    """No cookies: a poll is stateless, a feed's cookies never reach another feed of the
    same site, and httpx would parse each response for them (a good part of a 304's cost)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass


def make_client(limits: FetchLimits, *, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The one shared client: keep-alive, the guard at dial time, no automatic redirects
    (`fetch` checks each hop) and no automatic decoding (`fetch` decodes under the cap)."""
    pool = httpx.Limits(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_connections,
        keepalive_expiry=60,
    )
    return _FeedClient(
        transport=GuardedTransport(
            limits.effective_guard,
            per_host=limits.max_per_host,
            limits=pool,
            verify=verify,
        ),
        follow_redirects=False,
        timeout=httpx.Timeout(
            limits.read_timeout_seconds,
            connect=limits.connect_timeout_seconds,
            pool=limits.timeout_seconds,
        ),
        headers={"User-Agent": limits.user_agent},
        trust_env=False,
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    limits: FetchLimits,
    etag: str = "",
    last_modified: str = "",
    accept: str = FEED_ACCEPT,
) -> FetchResult:
    """GET a feed (or, with another `accept`, a page) within `limits.timeout_seconds`
    overall. Raises a `FetchError`."""
    try:
        return await asyncio.wait_for(
            _fetch(
                client, url, limits=limits, etag=etag, last_modified=last_modified, accept=accept
            ),
            timeout=limits.timeout_seconds,
        )
    except TimeoutError:
        raise FetchTimeoutError(f"no complete answer within {limits.timeout_seconds:g} s") from None


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    limits: FetchLimits,
    etag: str,
    last_modified: str,
    accept: str,
) -> FetchResult:
    headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate, br"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(limits.max_redirects + 1):
        check_scheme(url)  # the addresses are checked when the connection is made
        try:
            async with client.stream("GET", url, headers=headers) as response:
                # Before the redirect check: httpx counts every 3xx, 304 too, as a redirect.
                if response.status_code == 304:
                    await _drain(response)
                    return FetchResult(url, 304, b"", dict(response.headers))
                if response.status_code in _REDIRECTS:
                    url = _redirect_target(url, response)
                    await _drain(response)
                    continue
                if not response.is_success:
                    raise HTTPStatusError(
                        response.status_code,
                        url,
                        parse_retry_after(response.headers.get("retry-after")),
                    )
                body = await _read_capped(response, limits.max_bytes)
                return FetchResult(url, response.status_code, body, dict(response.headers))
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out: {type(exc).__name__}") from None
        except httpx.InvalidURL as exc:
            raise BlockedURLError(f"invalid URL {url!r}: {exc}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None
    raise TooManyRedirectsError(f"more than {limits.max_redirects} redirects")


def _redirect_target(url: str, response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    if not location:
        raise FetchError(f"HTTP {response.status_code} redirect without a Location")
    target = str(response.url.join(location))
    if url.startswith("https:") and target.startswith("http:"):
        raise BlockedURLError(f"refused a redirect from https to http ({target})")
    check_scheme(target)
    return target


async def _drain(response: httpx.Response, max_bytes: int = 64 * 1024) -> None:
    """Read the short body of a 304 or a redirect to its end, so that the connection goes
    back to the pool: one closed before its response is read to the end is dropped.
    A longer body is not worth reading; the connection is then dropped."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > max_bytes:
            break


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, read as a stream and refused as soon as it passes `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"declared body of {declared} bytes exceeds the {max_bytes}-byte limit")
    decoder = StreamDecoder(response.headers.get("content-encoding", ""), max_bytes)
    body = bytearray()
    raw_size = 0
    async for chunk in response.aiter_raw():
        raw_size += len(chunk)
        if raw_size > max_bytes:
            raise TooLargeError(f"body exceeds the {max_bytes}-byte limit")
        for piece in decoder.feed(chunk):
            body += piece
    return bytes(body)
