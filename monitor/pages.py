"""Fetching the pages of queued articles: politely, through the same guarded client as
feeds, extracting the main text in the parse pool, then matching again.

`PageFetcher.fetch_page` tells one page's story: robots.txt, a slot of its host, the
capped fetch, extraction, then ONE transaction that stores the text and the hits only the
page gives (insert-ignore on (rule, article): a pair alerts at most once). A failure keeps
the feed's text, records why, and retries a bounded number of times."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from monitor import metrics
from monitor.errors import (
    BlockedURLError,
    FetchError,
    HTTPStatusError,
    TooLargeError,
    TooManyRedirectsError,
)
from monitor.extract import Extracted, extract_page
from monitor.fetch import FetchLimits, FetchResult, fetch
from monitor.matching import is_alertable
from monitor.refresh import Ingest
from net.politeness import HostPaused, Hosts, Politeness, RobotsCache, RobotsUnavailable, host_of
from store import is_transient, session_scope
from store.hits import record_hits
from store.pages import (
    MAX_TEXT_CHARS,
    OK,
    PageClaim,
    claim_pages,
    finish_page,
    page_context,
    release_page_leases,
)
from store.values import NewHit

log = structlog.get_logger(__name__)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
# Answers that retrying cannot change: the page fails at once.
_FINAL = (BlockedURLError, TooLargeError, TooManyRedirectsError)


@dataclass(frozen=True)
class PageConfig:
    """Bounds on page fetching. `limits.max_bytes` is MAX_PAGE_BYTES (after decoding)."""

    limits: FetchLimits = field(
        default_factory=lambda: FetchLimits(max_bytes=5 * 1024 * 1024, timeout_seconds=20.0)
    )
    politeness: Politeness = field(default_factory=Politeness)
    concurrency: int = 20
    lease_seconds: float = 300.0
    poll_seconds: float = 2.0
    max_attempts: int = 3
    retry_seconds: float = 60.0  # before the 2nd attempt; doubles after each
    default_pause_seconds: float = 60.0  # a 429 without Retry-After
    max_chars: int = MAX_TEXT_CHARS


@dataclass(frozen=True)
class Outcome:
    """What a page attempt ended as: a status to store and when to try again (if ever)."""

    status: str
    extracted: Extracted | None = None
    retry_at: datetime | None = None
    count_attempt: bool = True

    @property
    def kind(self) -> str:
        """The metric label: ok, retry, paused (the host rests) or failed (for good)."""
        if self.status == OK:
            return "ok"
        if self.retry_at is None:
            return "failed"
        return "retry" if self.count_attempt else "paused"


class PageFetcher:
    """Claims queued pages (shared between replicas through leases) and fetches them."""

    def __init__(self, ingest: Ingest, config: PageConfig, *, owner: str) -> None:
        self.ingest = ingest
        self.config = config
        self.owner = owner
        self.hosts = Hosts(config.politeness)
        self.robots = RobotsCache(
            self._fetch_robots,
            user_agent=config.limits.user_agent,
            ttl_seconds=config.politeness.robots_ttl_seconds,
        )
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._active: set[asyncio.Task[None]] = set()
        self._working: set[int] = set()  # article ids in hand, never claimed twice here
        self._stopping = False
        # A lease outlives the fetches of one attempt (robots.txt and the page), each
        # bounded by the deadline, so that no other fetcher takes a page still in hand.
        self._lease_seconds = max(config.lease_seconds, 2 * config.limits.timeout_seconds + 5)

    # the loop -------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due pages now (pages were queued). Safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.run(), name="page-fetcher")

    async def run(self) -> None:
        """Claim as many pages as there are free slots, whenever woken, a slot frees up,
        or `poll_seconds` pass."""
        while not self._stopping:
            self._wake.clear()
            free = self.config.concurrency - len(self._active)
            if free > 0:
                for claim in await self._claim(free):
                    self._working.add(claim.article_id)
                    task = asyncio.create_task(self.fetch_page(claim))
                    self._active.add(task)
                    task.add_done_callback(self._done)
            waker = asyncio.create_task(self._wake.wait())
            await asyncio.wait(
                {waker, *self._active},
                timeout=self.config.poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            waker.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._active.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("page.crashed", error=repr(task.exception()))
        self._wake.set()

    async def _claim(self, limit: int) -> list[PageClaim]:
        working = set(self._working)

        def claim() -> list[PageClaim]:
            with session_scope(self.ingest.engine) as session:
                return claim_pages(
                    session=session,
                    owner=self.owner,
                    now=self.ingest.clock(),
                    lease_seconds=self._lease_seconds,
                    limit=limit,
                    exclude=working,
                )

        try:
            return await asyncio.to_thread(claim)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("page.claim_failed")
            else:
                log.warning("page.claim_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return []

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let pages in flight finish within `timeout`, then cancel them
        and give their leases back (they stay queued)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait([self._task], timeout=timeout)
        if self._active:
            await asyncio.wait(list(self._active), timeout=timeout)
        for task in list(self._active):
            task.cancel()

        def release() -> int:
            with session_scope(self.ingest.engine) as session:
                return release_page_leases(session=session, owner=self.owner)

        try:
            released = await asyncio.to_thread(release)
        except Exception:
            log.exception("page.release_failed")  # the leases expire by themselves
            released = 0
        log.info("page.stopped", released=released)

    # one page ---------------------------------------------------------------------------

    async def fetch_page(self, claim: PageClaim) -> None:
        """Fetch, extract, store and match one claimed page; never raises for the page's
        own failures."""
        try:
            await self._fetch_page(claim)
        finally:
            self._working.discard(claim.article_id)

    async def _fetch_page(self, claim: PageClaim) -> None:
        started = time.monotonic()
        outcome = await self._attempt(claim)
        hit_ids = await asyncio.to_thread(self._store, claim, outcome)
        metrics.PAGES.labels(outcome.kind).inc()
        metrics.PAGE_SECONDS.observe(time.monotonic() - started)
        log.info(
            "page.done",
            article_id=claim.article_id,
            status=outcome.status,
            hits=len(hit_ids),
            ms=round((time.monotonic() - started) * 1000),
        )
        if hit_ids:
            metrics.HITS.inc(len(hit_ids))
            if self.ingest.on_hits is not None:
                self.ingest.on_hits()

    async def _attempt(self, claim: PageClaim) -> Outcome:
        host = host_of(claim.url)
        try:
            if not await self.robots.allowed(claim.url):
                return Outcome("failed: robots.txt disallows it")
            fetched = await self._get(host, claim.url)
            kind = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in _HTML_TYPES:
                return Outcome(f"failed: not an HTML page ({kind[:60]})")
            extracted = await self._extract(fetched)
        except HostPaused as exc:  # not the page's fault: no attempt counted
            wait = max(0.0, exc.until - time.monotonic())
            retry_at = self.ingest.clock() + timedelta(seconds=wait)
            return Outcome("pending", retry_at=retry_at, count_attempt=False)
        except _FINAL as exc:
            return Outcome(f"failed: {exc}")
        except HTTPStatusError as exc:
            return self._status_failure(host, claim, exc)
        except (RobotsUnavailable, FetchError) as exc:
            self.hosts.failed(host)
            return self._retry(claim, f"failed: {exc or type(exc).__name__}")
        except Exception as exc:  # the extractor choked on this page
            log.warning("page.extract_failed", article_id=claim.article_id, error=repr(exc))
            return Outcome(f"failed: extraction error ({type(exc).__name__})")
        self.hosts.succeeded(host)
        if not extracted.text.strip():
            return Outcome("failed: no article text in the page")
        return Outcome(OK, extracted)

    async def _get(self, host: str, url: str) -> FetchResult:
        async with self.hosts.slot(host):
            return await fetch(
                self.ingest.client, url, limits=self.config.limits, accept=HTML_ACCEPT
            )

    async def _fetch_robots(self, url: str) -> tuple[int, bytes]:
        limits = replace(self.config.limits, max_bytes=self.config.politeness.robots_max_bytes)
        try:
            async with self.hosts.slot(host_of(url)):
                fetched = await fetch(self.ingest.client, url, limits=limits, accept="text/plain")
        except HTTPStatusError as exc:
            return exc.status_code, b""
        return fetched.status_code, fetched.body

    async def _extract(self, fetched: FetchResult) -> Extracted:
        job = functools.partial(
            extract_page, fetched.body, url=fetched.url, max_chars=self.config.max_chars
        )
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.ingest.parse_pool, job)
        finally:
            metrics.EXTRACT_SECONDS.observe(time.monotonic() - started)

    def _status_failure(self, host: str, claim: PageClaim, exc: HTTPStatusError) -> Outcome:
        code = exc.status_code
        if code in (429, 503) and (exc.retry_after is not None or code == 429):
            seconds = exc.retry_after or self.config.default_pause_seconds
            self.hosts.pause(host, seconds, f"HTTP {code}")
            retry_at = self.ingest.clock() + timedelta(seconds=seconds)
            return self._retry(claim, f"failed: HTTP {code}", at_least=retry_at)
        if 400 <= code < 500 and code != 408:
            return Outcome(f"failed: HTTP {code}")
        self.hosts.failed(host)
        return self._retry(claim, f"failed: HTTP {code}")

    def _retry(self, claim: PageClaim, status: str, at_least: datetime | None = None) -> Outcome:
        """Another attempt later, unless this was the last one."""
        if claim.attempts + 1 >= self.config.max_attempts:
            return Outcome(status)
        delay = timedelta(seconds=self.config.retry_seconds * 2**claim.attempts)
        retry_at = self.ingest.clock() + delay
        return Outcome(status, retry_at=max(retry_at, at_least) if at_least else retry_at)

    def _store(self, claim: PageClaim, outcome: Outcome) -> list[int]:
        """Match the page's text (before the transaction, so that no write lock waits on
        it), then store the outcome and the new hits together."""
        extracted = outcome.extracted
        hits: list[NewHit] = []
        now = self.ingest.clock()
        if extracted is not None and len(self.ingest.matcher):
            with session_scope(self.ingest.engine, readonly=True) as session:
                context = page_context(session=session, article_id=claim.article_id)
            if context is not None:
                article = replace(  # the page's text is the body: snippets come from it
                    context.article,
                    summary="",
                    content=extracted.text[: self.config.max_chars],
                    language=context.article.language or extracted.language,
                    published_at=context.article.published_at or extracted.published_at,
                )
                if is_alertable(article, now=now, max_age=self.ingest.policy.alert_max_age):
                    # Through every feed that carries it: a rule scoped to any of them,
                    # or naming one, may hit; each rule once.
                    by_rule: dict[int, NewHit] = {}
                    for feed_id, title, url in context.feeds:
                        for hit in self.ingest.matcher.hits(
                            article, feed_id=feed_id, feed_title=title, feed_url=url
                        ):
                            by_rule.setdefault(hit.rule_id, hit)
                    hits = list(by_rule.values())
        with session_scope(self.ingest.engine) as session:
            stored = finish_page(
                session=session,
                claim=claim,
                status=outcome.status,
                text=extracted.text if extracted else "",
                language=extracted.language if extracted else "",
                published_at=extracted.published_at if extracted else None,
                retry_at=outcome.retry_at,
                count_attempt=outcome.count_attempt,
            )
            if not stored:  # the lease ran out and another fetcher has the page
                return []
            return [hit_id for hit_id, _ in record_hits(session=session, hits=hits, now=now)]
