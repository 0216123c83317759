"""A story for every new article, in the ingest transaction: find its candidates in the
database's band-key index, confirm them on the exact shingles, join the story they tell
or start a new one, and index the article's keys for the copies still to come."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from store.stories import (
    article_texts,
    keyed_articles,
    lock_story_index,
    merge_stories,
    save_stories,
)
from store.values import StoredArticle
from stories import Fingerprint, fingerprint, same_story

STORY_WINDOW = timedelta(hours=72)
MAX_CANDIDATES = 8  # confirmed per new article, those sharing the most keys first


def story_text(summary: str, content: str) -> str:
    """The text a story is recognised by: the full content when the feed carries it (its
    opening is the summary, more often than not), else the summary."""
    return content or summary


def article_fingerprint(article: StoredArticle) -> Fingerprint:
    return fingerprint(article.title, story_text(article.summary, article.content))


def assign_stories(
    *,
    session: Session,
    articles: Sequence[StoredArticle],
    prints: Mapping[int, Fingerprint],
    now: datetime,
    window: timedelta = STORY_WINDOW,
) -> dict[int, int]:
    """Give each new article a story; return article id -> story id. `prints` are the
    fingerprints computed before the transaction, by article id (computed here if absent).

    The article joins the oldest story among its confirmed candidates. When candidates of
    several stories are confirmed, the article links them (a short item and a re-led copy
    share little but the wire copy), and those stories merge into the oldest."""
    if not articles:
        return {}
    own = {a.id: prints.get(a.id) or article_fingerprint(a) for a in articles}
    lock_story_index(session=session)
    keyed: dict[int, list[tuple[int, int]]] = {}  # key -> [(article, story)]
    for key, article_id, story_id in keyed_articles(
        session=session, keys={k for fp in own.values() for k in fp.band_keys}, since=now - window
    ):
        keyed.setdefault(key, []).append((article_id, story_id))
    # Copies earlier in the batch only push stored candidates down the ranking, so the
    # stored ones worth reading are known before the loop.
    stored = article_texts(
        session=session,
        article_ids={c for a in articles for c, _ in _ranked(own[a.id].band_keys, keyed)},
    )
    shingles = {
        t.id: fingerprint(t.title, story_text(t.summary, t.content)).shingles
        for t in stored.values()
    }
    shingles.update((article_id, fp.shingles) for article_id, fp in own.items())
    merged: dict[int, int] = {}  # story -> the story it merged into, in this batch
    stories: dict[int, int] = {}
    keys: list[tuple[int, int]] = []
    for article in articles:  # in order: a batch's later copies join its earlier ones
        mine = own[article.id]
        confirmed = {
            _final(merged, story)
            for candidate, story in _ranked(mine.band_keys, keyed)
            if candidate in shingles and same_story(mine.shingles, shingles[candidate])
        }
        story = min(confirmed, default=article.id)
        if len(confirmed) > 1:
            merge_stories(session=session, into=story, merged=confirmed)
            merged.update((other, story) for other in confirmed if other != story)
        stories[article.id] = story
        keys += [(k, article.id) for k in mine.band_keys]
        for key in mine.band_keys:
            keyed.setdefault(key, []).append((article.id, story))
    stories = {a: _final(merged, s) for a, s in stories.items()}
    save_stories(session=session, stories=stories, keys=keys, now=now)
    return stories


def _final(merged: Mapping[int, int], story: int) -> int:
    while story in merged:
        story = merged[story]
    return story


def _ranked(
    keys: Sequence[int], keyed: Mapping[int, list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """The (article, story) pairs under these keys, most keys shared first, then oldest."""
    shared: dict[tuple[int, int], int] = {}
    for key in keys:
        for pair in keyed.get(key, ()):
            shared[pair] = shared.get(pair, 0) + 1
    return sorted(shared, key=lambda p: (-shared[p], p[0]))[:MAX_CANDIDATES]
