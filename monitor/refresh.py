"""One poll of one feed, start to finish. Read `refresh_feed` to understand the service."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from sqlalchemy.engine import Engine

from monitor import metrics, schedule
from monitor.errors import FetchError, HTTPStatusError, ParseError
from monitor.fetch import FetchLimits, FetchResult, fetch
from monitor.matching import RuleMatcher, is_alertable
from monitor.normalise import Article, normalise
from monitor.parse import ParsedFeed, ParseLimits, parse_feed
from monitor.schedule import PollPolicy
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import finish_poll
from store.hits import record_hits_and_enqueue
from store.values import FeedClaim, PollResult

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Ingest:
    """What a poll needs besides the feed: the shared client, limits, policy and clock."""

    engine: Engine
    client: httpx.AsyncClient
    matcher: RuleMatcher
    fetch_limits: FetchLimits
    parse_limits: ParseLimits
    policy: PollPolicy
    clock: Callable[[], datetime]
    # Called (from a worker thread) once new hits are committed: wakes the dispatcher.
    on_hits: Callable[[], None] | None = None


async def refresh_feed(claim: FeedClaim, ingest: Ingest) -> PollResult:
    """Fetch, skip if unchanged, parse, store new articles, match, record hits and enqueue
    their alerts, and reschedule: the articles, hits, deliveries and new feed state commit
    in one transaction, so a crash at any point loses nothing and doubles nothing."""
    started = ingest.clock()
    interval = schedule.base_interval(ingest.policy, claim.interval_seconds)
    bound = log.bind(feed_id=claim.id)
    try:
        fetched = await fetch(
            ingest.client,
            claim.url,
            limits=ingest.fetch_limits,
            etag=claim.etag,
            last_modified=claim.last_modified,
        )
        if fetched.not_modified:
            result = PollResult(
                "not_modified", schedule.after_success(started, interval, claim.due_at)
            )
            await asyncio.to_thread(_finish, ingest, claim, result, [], started)
            bound.info("poll.not_modified", ms=_ms(ingest, started))
            return result
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if body_hash == claim.body_hash:
            result = PollResult(
                "unchanged",
                schedule.after_success(started, interval, claim.due_at),
                **_validators(fetched),
                body_hash=body_hash,
            )
            await asyncio.to_thread(_finish, ingest, claim, result, [], started)
            bound.info("poll.unchanged", ms=_ms(ingest, started))
            return result
        parsed = await asyncio.to_thread(
            parse_feed, fetched.body, fetched.headers, limits=ingest.parse_limits
        )
    except (FetchError, ParseError) as exc:
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        result = PollResult(
            "error",
            schedule.after_error(started, ingest.policy, interval, claim.error_count, retry_after),
            error=str(exc) or type(exc).__name__,
        )
        await asyncio.to_thread(_finish, ingest, claim, result, [], started)
        bound.warning(
            "poll.error",
            error=result.error,
            error_count=claim.error_count + 1,
            ms=_ms(ingest, started),
        )
        return result

    articles = normalise(parsed, feed_url=fetched.url, fetched_at=started)
    result = PollResult(
        "ok",
        schedule.after_success(started, interval, claim.due_at),
        **_validators(fetched),
        body_hash=body_hash,
        **_feed_meta(parsed),
    )
    result = await asyncio.to_thread(_finish, ingest, claim, result, articles, started)
    bound.info(
        "poll.ok",
        items=len(articles),
        new=result.new_articles,
        ms=_ms(ingest, started),
    )
    return result


def _ms(ingest: Ingest, started: datetime) -> int:
    return round((ingest.clock() - started).total_seconds() * 1000)


def _finish(
    ingest: Ingest, claim: FeedClaim, result: PollResult, articles: list[Article], now: datetime
) -> PollResult:
    """The one transaction: new articles, their hits and deliveries, and the feed's state."""
    hit_ids: list[int] = []
    with session_scope(ingest.engine) as session:
        new = insert_new_articles(session=session, feed_id=claim.id, articles=articles, now=now)
        hits = [
            hit
            for article in new
            if is_alertable(article, now=now, max_age=ingest.policy.alert_max_age)
            for hit in ingest.matcher.hits(
                article,
                feed_id=claim.id,
                feed_title=result.title or claim.title,
                feed_url=claim.url,
            )
        ]
        hit_ids = record_hits_and_enqueue(session=session, hits=hits, now=now)
        if new:
            result = dataclasses.replace(result, new_articles=len(new))
        finish_poll(
            session=session, feed_id=claim.id, owner=claim.lease_owner, now=now, result=result
        )
    if hit_ids:
        metrics.HITS.inc(len(hit_ids))
        if ingest.on_hits is not None:
            ingest.on_hits()
    for hit_id in hit_ids:  # one line per hit, after its commit
        log.info("hit.recorded", hit_id=hit_id, feed_id=claim.id, ms=_ms(ingest, now))
    metrics.FEED_POLLS.labels(result.status).inc()
    return result


def _validators(fetched: FetchResult) -> dict[str, str]:
    return {
        "etag": fetched.headers.get("etag", ""),
        "last_modified": fetched.headers.get("last-modified", ""),
    }


def _feed_meta(parsed: ParsedFeed) -> dict[str, str]:
    return {"title": parsed.title, "site_url": parsed.link, "language": parsed.language}
