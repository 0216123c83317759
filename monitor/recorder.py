"""Writing polls: a poll's new articles, their hits and deliveries, and the feed's new
state commit in one transaction. `StateRecorder` writes the polls that finish together in
one transaction (a group commit), and each poll alone again if that transaction fails."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.normalise import Article
from monitor.story_index import STORY_WINDOW, assign_stories
from store import session_scope
from store.articles import link_articles
from store.feeds import finish_polls
from store.hits import record_hits
from store.pages import queue_pages
from store.values import FeedClaim, NewHit, PollResult, StoredArticle
from stories import Fingerprint

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PollWrite:
    """What one poll writes. `hits_by_key` are the hits of the articles matched before
    the write, by item key; only those of articles new to this feed are recorded (also
    when another feed stored the article first: a rule scoped to this feed, or naming
    it, alerts then; a rule that already hit the article does not hit it twice).
    `prints_by_key` are their story fingerprints, also computed before the write."""

    claim: FeedClaim
    result: PollResult
    now: datetime
    articles: Sequence[Article] = ()
    hits_by_key: Mapping[str, Sequence[NewHit]] = field(default_factory=dict)
    page_keys: frozenset[str] = frozenset()  # item keys whose page to queue if new
    prints_by_key: Mapping[str, Fingerprint] = field(default_factory=dict)
    story_window: timedelta = STORY_WINDOW


@dataclass(frozen=True)
class Written:
    result: PollResult  # with `new_articles` counted
    hit_ids: list[int]
    pages: int = 0  # pages queued


def write_polls(session: Session, writes: Sequence[PollWrite]) -> list[Written]:
    """Write polls in the caller's transaction: each poll's articles, then the stories of
    all of them, then their hits in one statement, then every feed's state in one
    executemany."""
    results: list[PollResult] = []
    hits: list[NewHit] = []
    poll_of: dict[int, int] = {}  # article id -> index of its poll in `writes`
    fresh: list[StoredArticle] = []
    prints: dict[int, Fingerprint] = {}
    pages = [0] * len(writes)
    for n, write in enumerate(writes):
        result = write.result
        if write.articles:
            new, carried = link_articles(  # their stories: `assign_stories`, below
                session=session,
                feed_id=write.claim.id,
                articles=write.articles,
                now=write.now,
                own_stories=False,
            )
            fresh += new
            for article in new:
                if article.item_key in write.prints_by_key:
                    prints[article.id] = write.prints_by_key[article.item_key]
            for article in [*new, *carried]:
                for hit in write.hits_by_key.get(article.item_key, ()):
                    hits.append(dataclasses.replace(hit, article_id=article.id))
                    poll_of.setdefault(article.id, n)  # the first poll that stored it
            if write.page_keys:
                queued = [a.id for a in new if a.item_key in write.page_keys]
                pages[n] = queue_pages(session=session, article_ids=queued, now=write.now)
            if new:
                result = dataclasses.replace(result, new_articles=len(new))
        results.append(result)
    if fresh:
        assign_stories(
            session=session,
            articles=fresh,
            prints=prints,
            now=max(write.now for write in writes),
            window=writes[0].story_window,
        )
    hit_ids: list[list[int]] = [[] for _ in writes]
    if hits:
        latest = max(write.now for write in writes)
        for hit_id, article_id in record_hits(session=session, hits=hits, now=latest):
            hit_ids[poll_of[article_id]].append(hit_id)
    finish_polls(
        session=session,
        polls=[
            (w.claim.id, w.claim.lease_owner, w.now, r)
            for w, r in zip(writes, results, strict=True)
        ],
    )
    return [
        Written(result, ids, queued)
        for result, ids, queued in zip(results, hit_ids, pages, strict=True)
    ]


def write_one(engine: Engine, write: PollWrite) -> Written:
    with session_scope(engine) as session:
        return write_polls(session, [write])[0]


_Pending = tuple[PollWrite, "asyncio.Future[Written]"]


class StateRecorder:
    """One per event loop. `write` returns once the poll is committed.

    No timer: the first poll is written as soon as the event loop has run the other
    callbacks that were ready with it, and the polls that finish while a write is under
    way go together in the next one. A lone poll waits for nothing; under load the
    batches grow by themselves (up to `max_articles` articles), and no poll holds its
    concurrency slot waiting for a timer."""

    def __init__(self, engine: Engine, *, max_articles: int = 5000) -> None:
        self.engine = engine
        self.max_articles = max_articles
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, write: PollWrite) -> Written:
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_pending())
        return await future

    async def _write_pending(self) -> None:
        try:
            await asyncio.sleep(0)  # let the polls finishing in this iteration join
            while self._pending:
                batch = self._next_batch()
                await self._write_batch(batch)
        finally:
            self._writer = None

    def _next_batch(self) -> list[_Pending]:
        size, articles = 0, 0
        for write, _ in self._pending:
            articles += len(write.articles)
            if size and articles > self.max_articles:
                break
            size += 1
        batch, self._pending = self._pending[:size], self._pending[size:]
        return batch

    async def _write_batch(self, batch: list[_Pending]) -> None:
        outcomes: list[Written | BaseException]
        try:
            outcomes = await asyncio.to_thread(self._commit, [write for write, _ in batch])
        except Exception as exc:  # not even the fallback ran
            outcomes = [exc] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its poll was cancelled
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _commit(self, writes: list[PollWrite]) -> list[Written | BaseException]:
        """All in one transaction; if that fails, each alone, so that one poll's failure
        (a lost race on PostgreSQL, say) is that poll's alone."""
        try:
            with session_scope(self.engine) as session:
                return list(write_polls(session, writes))
        except Exception as exc:
            if len(writes) == 1:
                return [exc]
            log.info("poll.group_commit_failed", polls=len(writes), error=repr(exc)[:300])
        outcomes: list[Written | BaseException] = []
        for write in writes:
            try:
                outcomes.append(write_one(self.engine, write))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes
