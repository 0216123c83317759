"""Being a polite client of a site: per-host concurrency, a minimum gap between requests,
pauses (`Retry-After`), a back-off for a host that keeps failing, and robots.txt.

One `Hosts` per process and event loop; its clock is the loop's monotonic time."""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.robotparser
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Politeness:
    per_host: int = 2  # requests in flight to one host
    min_gap_seconds: float = 1.0  # between the starts of two requests to one host
    failures_before_backoff: int = 3  # consecutive failures that make a host rest
    backoff_seconds: float = 300.0  # the first rest; it doubles up to `max_pause_seconds`
    max_pause_seconds: float = 3600.0
    robots_ttl_seconds: float = 3600.0
    robots_max_bytes: int = 512 * 1024


class HostPaused(Exception):
    """The host rests until `until` (monotonic seconds): try again then."""

    def __init__(self, host: str, until: float, reason: str) -> None:
        super().__init__(f"{host} paused ({reason})")
        self.host = host
        self.until = until
        self.reason = reason


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    paused_until: float = 0.0
    pause_reason: str = ""
    failures: int = 0
    gap_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def host_of(url: str) -> str:
    """The politeness key of a URL: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


class Hosts:
    """The state of every host this process fetches from."""

    def __init__(self, policy: Politeness, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self._hosts: dict[str, _Host] = {}

    def _get(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self.policy.per_host))
        return state

    def paused_until(self, host: str) -> float | None:
        state = self._hosts.get(host)
        if state is None or state.paused_until <= self.clock():
            return None
        return state.paused_until

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots, starting no sooner than the gap allows.
        Raises `HostPaused` when the host rests, before or after waiting for a slot."""
        state = self._get(host)
        self._check(host, state)
        async with state.slots:
            async with state.gap_lock:
                self._check(host, state)
                wait = state.next_start - self.clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._check(host, state)
                state.next_start = self.clock() + self.policy.min_gap_seconds
            yield

    def _check(self, host: str, state: _Host) -> None:
        if state.paused_until > self.clock():
            raise HostPaused(host, state.paused_until, state.pause_reason)

    def pause(self, host: str, seconds: float, reason: str) -> None:
        """Send nothing to `host` for `seconds` (a 429 or 503 with Retry-After)."""
        state = self._get(host)
        until = self.clock() + min(seconds, self.policy.max_pause_seconds)
        if until > state.paused_until:
            state.paused_until, state.pause_reason = until, reason

    def failed(self, host: str) -> None:
        """A failure the host is to blame for; enough in a row make it rest."""
        state = self._get(host)
        state.failures += 1
        over = state.failures - self.policy.failures_before_backoff
        if over >= 0:
            rest = min(self.policy.backoff_seconds * 2**over, self.policy.max_pause_seconds)
            self.pause(host, rest, f"{state.failures} failures in a row")

    def succeeded(self, host: str) -> None:
        self._get(host).failures = 0


# robots.txt ------------------------------------------------------------------------------

# (status, body) of GET <origin>/robots.txt; raises on a network error.
RobotsFetch = Callable[[str], Awaitable[tuple[int, bytes]]]


class RobotsUnavailable(Exception):
    """robots.txt could not be read (5xx, timeout): the site is not crawled for now."""


@dataclass
class _Robots:
    parser: urllib.robotparser.RobotFileParser | None  # None: everything allowed
    expires: float
    error: str = ""


class RobotsCache:
    """robots.txt rules per origin, cached for `ttl`. Following RFC 9309: a 4xx means no
    rules; a 5xx or an unreachable file means "do not crawl" until it can be read."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        user_agent: str,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.user_agent = user_agent
        self.ttl = ttl_seconds
        self.clock = clock
        self._cache: dict[str, _Robots] = {}
        self._loading: dict[str, asyncio.Future[_Robots]] = {}

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets this service's User-Agent fetch `url`.
        Raises `RobotsUnavailable` when the file cannot be read."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._cache.get(origin)
        if entry is None or entry.expires <= self.clock():
            entry = await self._load(origin)
        if entry.error:
            raise RobotsUnavailable(entry.error)
        return entry.parser is None or entry.parser.can_fetch(self.user_agent, url)

    async def _load(self, origin: str) -> _Robots:
        loading = self._loading.get(origin)
        if loading is not None:  # one fetch per origin, however many pages wait for it
            return await asyncio.shield(loading)
        future: asyncio.Future[_Robots] = asyncio.get_running_loop().create_future()
        self._loading[origin] = future
        try:
            entry = await self._read(origin)
            self._cache[origin] = entry
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._loading[origin]

    async def _read(self, origin: str) -> _Robots:
        try:
            status, body = await self.fetch(f"{origin}/robots.txt")
        except Exception as exc:
            # Retried soon, not after a whole ttl.
            return _Robots(None, self.clock() + min(60.0, self.ttl), f"robots.txt: {exc}")
        if 400 <= status < 500:
            return _Robots(None, self.clock() + self.ttl)
        if status >= 500 or status < 200 or status >= 300:
            return _Robots(None, self.clock() + min(60.0, self.ttl), f"robots.txt: HTTP {status}")
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(body.decode("utf-8", "replace").splitlines())
        return _Robots(parser, self.clock() + self.ttl)
