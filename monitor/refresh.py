"""One poll of one feed, start to finish. Read `refresh_feed` to understand the service."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine

from monitor import metrics, schedule
from monitor.errors import FEED_ERRORS, FetchError, HTTPStatusError, MonitorError, ParseError
from monitor.fetch import FetchLimits, FetchResult, fetch
from monitor.fulltext import wants_page
from monitor.matching import RuleMatcher, is_alertable
from monitor.normalise import Article, parse_and_normalise
from monitor.parse import ParsedFeed, ParseLimits
from monitor.recorder import PollWrite, StateRecorder, Written, write_one
from monitor.schedule import PollPolicy
from monitor.story_index import article_fingerprint
from store import session_scope
from store.articles import unseen_item_keys
from store.values import FeedClaim, NewHit, PollResult, StoredArticle
from stories import Fingerprint, PackedPrint, unpack

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Ingest:
    """What a poll needs besides the feed: the shared client, limits, policy and clock.
    `parse_pool` (a process pool made by the shell) lets parsing use every core."""

    engine: Engine
    client: httpx.AsyncClient
    matcher: RuleMatcher
    fetch_limits: FetchLimits
    parse_limits: ParseLimits
    policy: PollPolicy
    clock: Callable[[], datetime]
    # Called (from a worker thread) once new hits are committed: wakes the dispatcher.
    on_hits: Callable[[], None] | None = None
    parse_pool: Executor | None = None
    recorder: StateRecorder | None = None
    # Items whose feed text is under this many words (or cut off) get their page fetched,
    # by the feed's `full_text` mode; None: no page is ever queued.
    full_text_min_words: int | None = None
    on_pages: Callable[[], None] | None = None  # pages were queued: wakes the page fetcher


async def refresh_feed(claim: FeedClaim, ingest: Ingest) -> PollResult:
    """Fetch, skip if unchanged, parse, store new articles, match, record hits and enqueue
    their alerts, and reschedule: the articles, hits, deliveries and new feed state commit
    in one transaction, so a crash at any point loses nothing and doubles nothing."""
    started = ingest.clock()
    try:
        fetched = await fetch(
            ingest.client,
            claim.url,
            limits=ingest.fetch_limits,
            etag=claim.etag,
            last_modified=claim.last_modified,
        )
        if fetched.not_modified:
            result = _unchanged(ingest, claim, fetched, started)
            return _logged(claim, await _record(ingest, claim, result, started), ingest, started)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if body_hash == claim.body_hash:
            result = _unchanged(ingest, claim, fetched, started, body_hash=body_hash)
            return _logged(claim, await _record(ingest, claim, result, started), ingest, started)
        parsed, articles, packed = await _parse(ingest, fetched, started)
    except FEED_ERRORS as exc:
        result = _failed(ingest, claim, exc, started)
        log.warning(
            "poll.error",
            feed_id=claim.id,
            error=result.error,
            errors=claim.error_count + 1,
            ms=_ms(ingest, started),
        )
        return await _record(ingest, claim, result, started)

    interval = _interval(ingest, claim, fetched, started, parsed, articles)
    result = PollResult(
        "ok",
        schedule.after_success(started, interval, claim.due_at),
        effective_interval_seconds=interval,
        **_validators(fetched),
        body_hash=body_hash,
        **_feed_meta(parsed),
    )
    result = await _store_and_match(ingest, claim, result, articles, packed, started)
    log.info(
        "poll.ok",
        feed_id=claim.id,
        items=len(articles),
        new=result.new_articles,
        ms=_ms(ingest, started),
    )
    return result


def _ms(ingest: Ingest, started: datetime) -> int:
    return round((ingest.clock() - started).total_seconds() * 1000)


def _logged(claim: FeedClaim, result: PollResult, ingest: Ingest, started: datetime) -> PollResult:
    """One log line for a poll that changed nothing (304, or the same body)."""
    log.info(f"poll.{result.status}", feed_id=claim.id, ms=_ms(ingest, started))
    return result


async def _parse(
    ingest: Ingest, fetched: FetchResult, now: datetime
) -> tuple[ParsedFeed, list[Article], dict[str, PackedPrint]]:
    """Parse, normalise and fingerprint, in the process pool when there is one (parsing
    is the CPU)."""
    job = functools.partial(
        parse_and_normalise,
        fetched.body,
        fetched.headers,
        feed_url=fetched.url,
        fetched_at=now,
        limits=ingest.parse_limits,
    )
    return await asyncio.get_running_loop().run_in_executor(ingest.parse_pool, job)


def _interval(
    ingest: Ingest,
    claim: FeedClaim,
    fetched: FetchResult,
    now: datetime,
    parsed: ParsedFeed | None = None,
    articles: list[Article] | None = None,
) -> int:
    """The feed's next interval: its own setting, else how often it publishes; never
    sooner than its ttl and cache headers allow."""
    policy = ingest.policy
    if claim.interval_seconds:
        interval = schedule.base_interval(policy, claim.interval_seconds)
    elif articles is not None:
        interval = schedule.adaptive_interval(policy, (a.published_at for a in articles), now)
    else:
        interval = claim.effective_interval_seconds or policy.default_interval_seconds
    return schedule.polite_interval(
        policy,
        interval,
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        cache_seconds=schedule.cache_lifetime(fetched.headers, now),
    )


def _unchanged(
    ingest: Ingest, claim: FeedClaim, fetched: FetchResult, now: datetime, body_hash: str = ""
) -> PollResult:
    interval = _interval(ingest, claim, fetched, now)
    if fetched.not_modified:
        return PollResult(
            "not_modified",
            schedule.after_success(now, interval, claim.due_at),
            effective_interval_seconds=interval,
        )
    return PollResult(
        "unchanged",
        schedule.after_success(now, interval, claim.due_at),
        effective_interval_seconds=interval,
        **_validators(fetched),
        body_hash=body_hash,
    )


def _failed(
    ingest: Ingest, claim: FeedClaim, exc: FetchError | MonitorError, now: datetime
) -> PollResult:
    interval = schedule.base_interval(
        ingest.policy, claim.interval_seconds or claim.effective_interval_seconds
    )
    retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
    kind = (
        "fetch" if isinstance(exc, FetchError) else "parse" if isinstance(exc, ParseError) else ""
    )
    return PollResult(
        "error",
        schedule.after_error(now, ingest.policy, interval, claim.error_count, retry_after),
        error=f"{kind}: {exc or type(exc).__name__}" if kind else str(exc),
    )


async def _record(
    ingest: Ingest, claim: FeedClaim, result: PollResult, now: datetime
) -> PollResult:
    """Write a result that changes only the feed row."""
    written = await _write(ingest, PollWrite(claim, result, now))
    metrics.FEED_POLLS.labels(result.status).inc()
    return written.result


async def _write(ingest: Ingest, write: PollWrite) -> Written:
    """One transaction: batched with other polls' when there is a recorder."""
    if ingest.recorder is not None:
        return await ingest.recorder.write(write)
    return await asyncio.to_thread(write_one, ingest.engine, write)


async def _store_and_match(
    ingest: Ingest,
    claim: FeedClaim,
    result: PollResult,
    articles: list[Article],
    packed: Mapping[str, PackedPrint],
    now: datetime,
) -> PollResult:
    """Match the articles the feed has not shown before, then ONE transaction: new
    articles, the hits of those truly new, their deliveries, the pages to fetch, and the
    feed's state.
    Matching happens before the transaction, so no write lock waits on it."""
    hits_by_key, page_keys, prints_by_key = await asyncio.to_thread(
        _match_unseen, ingest, claim, result, articles, packed, now
    )
    write = PollWrite(
        claim,
        result,
        now,
        articles,
        hits_by_key,
        page_keys,
        prints_by_key=prints_by_key,
        story_window=ingest.policy.story_window,
    )
    written = await _write(ingest, write)
    if written.pages and ingest.on_pages is not None:
        ingest.on_pages()
    if written.hit_ids:
        metrics.HITS.inc(len(written.hit_ids))
        if ingest.on_hits is not None:
            ingest.on_hits()
    for hit_id in written.hit_ids:  # one line per hit, after its commit
        log.info("hit.recorded", hit_id=hit_id, feed_id=claim.id, ms=_ms(ingest, now))
    metrics.FEED_POLLS.labels(written.result.status).inc()
    return written.result


def _match_unseen(
    ingest: Ingest,
    claim: FeedClaim,
    result: PollResult,
    articles: list[Article],
    packed: Mapping[str, PackedPrint],
    now: datetime,
) -> tuple[dict[str, list[NewHit]], frozenset[str], dict[str, Fingerprint]]:
    """Hits of the recent articles whose keys the feed has not stored, by item key, the
    keys of those whose page is to be fetched (only they can still alert), and the story
    fingerprints of all the unseen articles, by item key (`packed`, made with the parse,
    where there is one)."""
    if not articles:
        return {}, frozenset(), {}
    keys = [a.item_key for a in articles]
    if claim.body_hash:
        with session_scope(ingest.engine, readonly=True) as session:
            unseen = unseen_item_keys(session=session, feed_id=claim.id, item_keys=keys)
    else:  # never parsed before: the feed has stored no article (both commit together)
        unseen = set(keys)
    out: dict[str, list[NewHit]] = {}
    prints: dict[str, Fingerprint] = {}
    pages: set[str] = set()
    min_words = ingest.full_text_min_words
    for article in articles:
        if article.item_key not in unseen or article.item_key in prints:
            continue
        stored = _unsaved(article, now)
        made = packed.get(article.item_key)
        prints[article.item_key] = unpack(made) if made else article_fingerprint(stored)
        if len(ingest.matcher) and is_alertable(
            stored, now=now, max_age=ingest.policy.alert_max_age
        ):
            out[article.item_key] = ingest.matcher.hits(
                stored, feed_id=claim.id, feed_title=result.title or claim.title, feed_url=claim.url
            )
            if min_words is not None and wants_page(
                article, mode=claim.full_text, min_words=min_words
            ):
                pages.add(article.item_key)
    return out, frozenset(pages), prints


def _unsaved(article: Article, now: datetime) -> StoredArticle:
    """The article as matching sees it, before it has an id."""
    return StoredArticle(
        id=0,
        url=article.url,
        title=article.title,
        summary=article.summary,
        content=article.content,
        language=article.language,
        published_at=article.published_at,
        fetched_at=now,
        item_key=article.item_key,
    )


def _validators(fetched: FetchResult) -> dict[str, Any]:
    return {
        "etag": fetched.headers.get("etag", ""),
        "last_modified": fetched.headers.get("last-modified", ""),
    }


def _feed_meta(parsed: ParsedFeed) -> dict[str, Any]:
    return {"title": parsed.title, "site_url": parsed.link, "language": parsed.language}
