"""Retention with a controlled clock on SQLite and PostgreSQL: exactly the rows due are
pruned, in batches; pending deliveries (and their hits and articles) survive; a dry run
counts the same rows; two replicas pruning at once delete nothing twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.dedupe import item_key
from monitor.normalise import Article
from monitor.retention import PruneReport, RetentionPolicy, prune
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.hits import record_hits
from store.rules import create_rule
from store.tables import metadata
from store.users import create_user
from store.values import NewHit
from store.webhooks import create_webhook

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(article_days=90, full_text_days=30, hit_days=365, batch_size=2)


def _article(name: str) -> Article:
    url = f"https://news.example/{name}"
    return Article(
        item_key=item_key(guid=url, link=url, title="", summary=""),
        url=url,
        canonical_url=url,
        title=name,
        summary="summary",
        content="",
        language="en",
        author="",
        published_at=None,
    )


# name: (age in days, page text?, hit age in days or None, delivery status of the hit)
ROWS = {
    "old-hit-sent": (400, False, 400, "sent"),
    "old-hit-dead": (400, False, 380, "dead"),
    "old-hit-pending": (400, False, 400, "pending"),
    "recent-hit": (100, False, 100, "sent"),
    "stale-1": (100, True, None, ""),
    "stale-2": (95, False, None, ""),
    "stale-3": (91, False, None, ""),
    "text-old-1": (40, True, None, ""),
    "text-old-2": (31, True, None, ""),
    "text-new": (10, True, None, ""),
    "fresh": (1, False, None, ""),
}


def _populate(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        user = create_user(session=session, name="u", now=NOW)
        rule = create_rule(session=session, user_id=user.id or 0, name="r", query="x", now=NOW)
        create_webhook(
            session=session, user_id=user.id or 0, url="https://hook.example", secret="s", now=NOW
        )
        feed, _ = add_feed(session=session, url="https://news.example/feed", now=NOW)
        stored = insert_new_articles(
            session=session,
            feed_id=feed.id or 0,
            articles=[_article(name) for name in ROWS],
            now=NOW,
        )
        ids = {a.title: a.id for a in stored}
        articles, hits, deliveries = (
            metadata.tables[t] for t in ("articles", "hits", "deliveries")
        )
        for name, (age, text, hit_age, status) in ROWS.items():
            values: dict[str, object] = {"created_at": NOW - timedelta(days=age)}
            if text:
                values.update(text="the page", text_source="page", page_status="ok")
            session.execute(sa.update(articles).where(articles.c.id == ids[name]).values(values))
            if hit_age is None:
                continue
            ((hit_id, _),) = record_hits(
                session=session, hits=[NewHit(rule.id or 0, ids[name], "s", ("x",))], now=NOW
            )
            session.execute(
                sa.update(hits)
                .where(hits.c.id == hit_id)
                .values(created_at=NOW - timedelta(days=hit_age))
            )
            session.execute(
                sa.update(deliveries).where(deliveries.c.hit_id == hit_id).values(status=status)
            )
    return ids


def _state(engine: Engine) -> tuple[set[str], set[str], set[str], int]:
    """(article titles left, titles with page text, titles with a hit, deliveries left)."""
    with session_scope(engine, readonly=True) as session:
        articles, hits, deliveries = (
            metadata.tables[t] for t in ("articles", "hits", "deliveries")
        )
        rows = session.execute(sa.select(articles.c.title, articles.c.text_source)).all()
        hit_titles = session.execute(
            sa.select(articles.c.title).join(hits, hits.c.article_id == articles.c.id)
        ).scalars()
        count = session.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar_one()
    return (
        {r.title for r in rows},
        {r.title for r in rows if r.text_source == "page"},
        set(hit_titles),
        int(count),
    )


EXPECTED_LEFT = set(ROWS) - {"old-hit-sent", "old-hit-dead", "stale-1", "stale-2", "stale-3"}
EXPECTED = {"hits": 2, "deliveries": 2, "articles": 5, "texts": 2}


def test_prunes_exactly_what_is_due_in_batches(engine: Engine) -> None:
    """Hits over a year old go with their finished deliveries, then articles over 90 days
    that no hit refers to, then page texts over 30 days; a pending delivery keeps its hit
    and article. The dry run counts the same, and prunes nothing."""
    _populate(engine)
    dry = prune(engine, POLICY, now=NOW, owner="a", dry_run=True)
    assert dry.counts == EXPECTED
    assert _state(engine)[0] == set(ROWS)
    batches: list[int] = []
    report = prune(engine, POLICY, now=NOW, owner="a", on_batch=lambda r: batches.append(r.batches))
    assert report.counts == EXPECTED and not report.skipped
    assert report.batches >= 5 and batches == list(range(1, report.batches + 1))  # size 2
    left, with_text, with_hits, deliveries = _state(engine)
    assert left == EXPECTED_LEFT
    assert with_text == {"text-new"}
    assert with_hits == {"old-hit-pending", "recent-hit"}
    assert deliveries == 2  # the pending one and the recent hit's
    again = prune(engine, POLICY, now=NOW, owner="a")
    assert again.counts == {k: 0 for k in EXPECTED}


def test_two_pruners_at_once_delete_nothing_twice(engine: Engine) -> None:
    """Two replicas start pruning together: one holds the lease (the other skips, or
    finds nothing left), no error or deadlock, and the totals are exactly what was due."""
    _populate(engine)
    barrier = threading.Barrier(2)
    reports: list[PruneReport] = []
    errors: list[BaseException] = []

    def run(owner: str) -> None:
        barrier.wait()
        try:
            reports.append(prune(engine, POLICY, now=NOW, owner=owner))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(reports) == 2
    totals = {k: sum(r.counts[k] for r in reports) for k in EXPECTED}
    assert totals == EXPECTED
    assert _state(engine)[0] == EXPECTED_LEFT
