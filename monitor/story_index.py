"""A story for every new article, in the ingest transaction: find its candidates in the
database's band-key index, confirm them on the exact shingles, join the best one's story
or start a new one, and index the article's keys for the copies still to come."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from store.stories import article_texts, keyed_articles, lock_story_index, save_stories
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
    Deterministic: the candidate sharing the most keys (then the oldest) wins."""
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
    stories: dict[int, int] = {}
    rows: list[tuple[int, int, int]] = []
    for article in articles:  # in order: a batch's later copies join its earlier ones
        mine = own[article.id]
        story = article.id
        for candidate, candidate_story in _ranked(mine.band_keys, keyed):
            theirs = own[candidate].shingles if candidate in own else shingles.get(candidate)
            if theirs is not None and same_story(mine.shingles, theirs):
                story = stories.get(candidate, candidate_story)
                break
        stories[article.id] = story
        rows += [(k, article.id, story) for k in mine.band_keys]
        for key in mine.band_keys:
            keyed.setdefault(key, []).append((article.id, story))
    save_stories(session=session, stories=stories, keys=rows, now=now)
    return stories


def _ranked(
    keys: Sequence[int], keyed: Mapping[int, list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """The (article, story) pairs under these keys, most keys shared first, then oldest."""
    shared: dict[tuple[int, int], int] = {}
    for key in keys:
        for pair in keyed.get(key, ()):
            shared[pair] = shared.get(pair, 0) + 1
    return sorted(shared, key=lambda p: (-shared[p], p[0]))[:MAX_CANDIDATES]
