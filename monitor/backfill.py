"""Backfill: a rule made after an article was stored alerts on it only when asked.

Only new articles alert, so a rule created a minute after the article that prompted it
would miss it. `backlog` counts the stored articles in the alert window that the rule
matches and has not alerted, and with `record` alerts them: through the same hits and
outbox as the poller, so the (rule, article) unique key keeps it to one alert each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from rules import RuleIndex, article_document, parse
from store.articles import articles_since, carrying_feeds
from store.hits import hit_article_ids, record_hits_and_enqueue
from store.tables import Rule
from store.values import NewHit

MAX_SCAN = 50_000  # stored articles one backfill looks through, at most


@dataclass(frozen=True)
class Backlog:
    """What a backfill found: `matching` stored articles in the last `hours` that the
    rule matches and has not alerted, of which `alerted` were alerted now."""

    hours: float
    matching: int
    alerted: int = 0


def backlog(
    *, session: Session, rule: Rule, now: datetime, hours: float, record: bool = False
) -> Backlog:
    """Match `rule` against the stored articles of the last `hours`; with `record`, alert
    each that it has not alerted yet (a disabled rule alerts none)."""
    assert rule.id is not None
    index = RuleIndex()
    index.add(rule.id, parse(rule.query), feed_ids=rule.feed_ids)
    hits: list[NewHit] = []
    stored = articles_since(session=session, since=now - timedelta(hours=hours), limit=MAX_SCAN)
    carriers = carrying_feeds(session=session, article_ids=[a.id for a, *_ in stored])
    for article, feed_id, feed_title, feed_url in stored:
        doc = article_document(
            article,
            feed_id=feed_id,
            feed_title=feed_title,
            feed_url=feed_url,
            also=carriers.get(article.id, ()),  # a story other feeds carry is theirs too
        )
        for hit in index.match(doc):
            hits.append(NewHit(rule.id, article.id, hit.snippet, hit.matched_terms))
    done = hit_article_ids(
        session=session, rule_id=rule.id, article_ids=[h.article_id for h in hits]
    )
    fresh = [h for h in hits if h.article_id not in done]
    if not (record and rule.enabled and fresh):
        return Backlog(hours, len(fresh))
    alerted = record_hits_and_enqueue(session=session, hits=fresh, now=now)
    return Backlog(hours, len(fresh), len(alerted))
