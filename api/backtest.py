"""Backtest a query over stored articles: what the rules preview and the dashboard show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from rules import Query, RuleIndex, article_document
from store.articles import carrying_feeds, recent_articles
from store.feeds import feed_urls
from store.values import StoredArticle

PREVIEW_SCAN = 5_000  # newest stored articles a backtest looks through, at most
_BATCH = 500


@dataclass(frozen=True, slots=True)
class BacktestMatch:
    article: StoredArticle
    feed_id: int
    feed_title: str
    snippet: str
    matched_terms: tuple[str, ...]


@dataclass(slots=True)
class Backtest:
    matches: list[BacktestMatch] = field(default_factory=list)
    per_day: Counter[date] = field(default_factory=Counter)  # every match in the scan, by day
    total: int = 0
    scanned: int = 0
    last_id: int | None = None  # the last article looked at: a cursor resumes below it
    exhausted: bool = False  # no older stored article is left to look at


def backtest(
    *,
    session: Session,
    query: Query,
    limit: int,
    feed_ids: list[int] | None = None,
    count_all: bool = False,
    scan: int = PREVIEW_SCAN,
    before: int | None = None,
) -> Backtest:
    """Match `query` against `scan` stored articles below id `before` (the newest without
    it), honouring a feed scope, newest first; keep `limit` matches. Without `count_all` it
    stops at `limit`."""
    index = RuleIndex()
    index.add(0, query, feed_ids=feed_ids)
    result = Backtest()
    while result.scanned < scan:
        size = min(_BATCH, scan - result.scanned)
        batch = recent_articles(session=session, limit=size, before_id=before)
        urls = feed_urls(session=session, feed_ids=sorted({feed_id for _, feed_id, _ in batch}))
        carriers = carrying_feeds(session=session, article_ids=[a.id for a, _, _ in batch])
        for article, feed_id, feed_title in batch:
            result.last_id = article.id
            doc = article_document(
                article,
                feed_id=feed_id,
                feed_title=feed_title,
                feed_url=urls.get(feed_id, ""),
                also=carriers.get(article.id, ()),
            )
            for hit in index.match(doc):
                result.total += 1
                day = (article.published_at or article.fetched_at).date()
                result.per_day[day] += 1
                if len(result.matches) < limit:
                    result.matches.append(
                        BacktestMatch(article, feed_id, feed_title, hit.snippet, hit.matched_terms)
                    )
            if len(result.matches) >= limit and not count_all:
                return result
        result.scanned += len(batch)
        if len(batch) < size:
            result.exhausted = True
            break
        before = batch[-1][0].id
    return result
