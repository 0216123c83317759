"""The story test sets through the real ingest-side path, on both databases: articles
stored one by one, each given a story from the band keys in the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from monitor.normalise import Article
from monitor.story_index import assign_stories
from store import session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.stories import prune_story_keys
from tests.stories.cases import CASES, Case
from tests.stories.scoring import pair_scores

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _article(case: Case) -> Article:
    url = f"https://{case.name.replace(':', '-')}.example/story"
    return Article(
        item_key=case.name,
        url=url,
        canonical_url=url,
        title=case.title,
        summary=case.text,
        content="",
        language=case.name[:2],
        author="",
        published_at=NOW,
    )


def _ingest(engine: Engine, cases: list[Case], *, batch: int = 1) -> dict[str, int]:
    """Store the cases in order, `batch` per transaction; their story ids by name."""
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://wire.example/rss", now=NOW)
    found: dict[str, int] = {}
    for start in range(0, len(cases), batch):
        chunk = cases[start : start + batch]
        when = NOW + timedelta(minutes=start)
        with session_scope(engine) as session:
            new = insert_new_articles(
                session=session,
                feed_id=feed.id or 0,
                articles=[_article(c) for c in chunk],
                now=when,
            )
            assign_stories(session=session, articles=new, prints={}, now=when)
    with session_scope(engine, readonly=True) as session:  # after any merges
        rows = session.execute(
            text(
                "SELECT fa.item_key, a.story_id FROM feed_articles fa"
                " JOIN articles a ON a.id = fa.article_id"
            )
        )
        found.update({key: story for key, story in rows})
    return found


@pytest.mark.parametrize("seed", [None, 16, 2026])
def test_story_sets_precision_and_recall(engine: Engine, seed: int | None) -> None:
    """Precision 1.0 and recall at least 0.95 over pairs, in any arrival order (a short
    item and a re-led copy that share nothing join once the wire copy links them)."""
    truth = {c.name: c.story for c in CASES}
    order = list(CASES)
    if seed is not None:
        random.Random(seed).shuffle(order)
    found = _ingest(engine, order)
    precision, recall = pair_scores(truth, found)
    print(f"story sets: {len(CASES)} articles, precision={precision:.3f} recall={recall:.3f}")
    assert precision == 1.0
    assert recall >= 0.95


def test_copies_in_one_batch_join_each_other(engine: Engine) -> None:
    """A group commit holding several copies gives them one story."""
    wire = [c for c in CASES if c.story == "en:wire"]
    found = _ingest(engine, wire, batch=len(wire))
    assert len(set(found.values())) == 1


def test_the_window_bounds_the_candidates(engine: Engine) -> None:
    """A copy that arrives after the story window starts a story of its own."""
    wire = [c for c in CASES if c.story == "de:wire"][:2]
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://wire.example/rss", now=NOW)
        first = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=[_article(wire[0])], now=NOW
        )
        assign_stories(session=session, articles=first, prints={}, now=NOW)
    later = NOW + timedelta(hours=73)
    with session_scope(engine) as session:
        second = insert_new_articles(
            session=session, feed_id=feed.id or 0, articles=[_article(wire[1])], now=later
        )
        stories = assign_stories(session=session, articles=second, prints={}, now=later)
    assert stories == {second[0].id: second[0].id}


def test_a_linking_copy_merges_two_stories(engine: Engine) -> None:
    """A short item and a re-led copy share nothing; the wire copy makes them one story."""
    by_name = {c.name: c for c in CASES}
    first = _ingest(engine, [by_name["id:short"], by_name["id:lead"]])
    assert first["id:short"] != first["id:lead"]
    found = _ingest(engine, [by_name["id:wire"]])
    assert len(set(found.values())) == 1
    assert set(found.values()) == {first["id:short"]}  # the oldest story


def _tiers(engine: Engine) -> tuple[int, int]:
    with session_scope(engine, readonly=True) as session:
        return (
            session.execute(text("SELECT count(*) FROM story_keys_recent")).scalar_one(),
            session.execute(text("SELECT count(*) FROM story_keys")).scalar_one(),
        )


def test_keys_move_to_the_large_tier_and_are_still_found(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the recent tier holds `RECENT_KEYS` rows, they move to the large one in the
    same transaction, and a later copy still finds its story there."""
    monkeypatch.setattr("store.stories.RECENT_KEYS", 20)
    wire = [c for c in CASES if c.story == "en:wire"]
    others = [c for c in CASES if c.story != "en:wire" and not c.name.startswith("en:")]
    first = _ingest(engine, [wire[0]])
    assert _tiers(engine)[1] == 0  # fewer than 20 keys: all still recent
    _ingest(engine, others[:3])
    recent, large = _tiers(engine)
    assert large > 0 and recent == 0
    found = _ingest(engine, wire[1:])
    assert {found[c.name] for c in wire} == {first[wire[0].name]}


def test_pruning_drops_the_keys_of_articles_older_than_the_window(engine: Engine) -> None:
    """Both tiers lose the keys of articles stored before the cut, and only those."""
    wire = [c for c in CASES if c.story == "de:wire"]
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://wire.example/rss", now=NOW)
    ids = []
    for n, case in enumerate(wire[:3]):
        when = NOW + timedelta(hours=n)
        with session_scope(engine) as session:
            new = insert_new_articles(
                session=session, feed_id=feed.id or 0, articles=[_article(case)], now=when
            )
            assign_stories(session=session, articles=new, prints={}, now=when)
            ids.append(new[0].id)
        if n == 0:  # the first article's keys move to the large tier
            with session_scope(engine) as session:
                session.execute(text("INSERT INTO story_keys SELECT * FROM story_keys_recent"))
                session.execute(text("DELETE FROM story_keys_recent"))

    def keyed() -> set[int]:
        with session_scope(engine, readonly=True) as session:
            rows = session.execute(
                text(
                    "SELECT article_id FROM story_keys"
                    " UNION SELECT article_id FROM story_keys_recent"
                )
            )
            return {r for (r,) in rows}

    assert keyed() == set(ids)
    with session_scope(engine) as session:
        pruned = prune_story_keys(session=session, before=NOW + timedelta(minutes=90))
    assert pruned > 0
    assert keyed() == set(ids[2:])
    with session_scope(engine) as session:  # past every article: nothing is left
        prune_story_keys(session=session, before=NOW + timedelta(days=9))
    assert keyed() == set()
