"""A story for every new article, in the ingest transaction: find its candidates in the
database's band-key index, confirm them on the exact shingles, join the story they tell
or start a new one, and index the article's keys for the copies still to come."""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from store.stories import (
    article_texts,
    keyed_articles,
    lock_story_index,
    merge_stories,
    save_stories,
)
from store.values import StoredArticle
from stories import Fingerprint, fingerprint, fingerprints, same_story, story_text

STORY_WINDOW = timedelta(hours=72)
MAX_CANDIDATES = 8  # confirmed per new article, those sharing the most keys first


@dataclass
class StoryStats:
    """Counters a caller may pass in (the bench does): work done by `assign_stories`."""

    articles: int = 0
    candidates: int = 0  # candidates confirmed or refused on their shingles
    # Rows written: band keys (twice: into the recent tier, then moved to the large
    # one), and articles that joined another's story.
    rows: int = 0


class ShingleCache:
    """Shingles of recently indexed articles, by id, packed (about 1 KB each): the copies
    of a story arrive within hours, and re-reading and re-shingling a candidate's text
    costs more than the rest of its check. Safe across replicas: an article's shingles
    never change, and a miss reads the database. Keyed by database too: a process (a
    test run) may use several."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], tuple[array[int], array[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, database: str, article_id: int, fp: Fingerprint) -> None:
        packed = fp.packed
        with self._lock:
            self._items[database, article_id] = packed
            self._items.move_to_end((database, article_id))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything: for a database whose ids start again (tests empty and
        reuse theirs), where a cached id would now name another article."""
        with self._lock:
            self._items.clear()

    def get_many(self, database: str, article_ids: Iterable[int]) -> dict[int, Fingerprint]:
        with self._lock:
            found = {
                a: self._items[database, a] for a in article_ids if (database, a) in self._items
            }
        return {a: Fingerprint(s, lead) for a, (s, lead) in found.items()}


CACHE = ShingleCache()
_PENDING = "nw_story_prints"


def _database(session: Session) -> str:
    return str(session.get_bind().engine.url)


@sa.event.listens_for(Session, "after_commit")
def _cache_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        database = _database(session)
        for article_id, fp in pending.items():
            CACHE.put(database, article_id, fp)


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def article_fingerprint(article: StoredArticle) -> Fingerprint:
    return fingerprint(article.title, story_text(article.summary, article.content))


def assign_stories(
    *,
    session: Session,
    articles: Sequence[StoredArticle],
    prints: Mapping[int, Fingerprint],
    now: datetime,
    window: timedelta = STORY_WINDOW,
    stats: StoryStats | None = None,
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
    wanted = {c for a in articles for c, _ in _ranked(own[a.id].band_keys, keyed, {}, {})} - set(
        own
    )
    database = _database(session)
    prints_of = CACHE.get_many(database, wanted)
    stored = article_texts(session=session, article_ids=wanted - set(prints_of))
    texts = list(stored.values())
    made = fingerprints([(t.title, story_text(t.summary, t.content)) for t in texts], keys=False)
    for t, fp in zip(texts, made, strict=True):
        prints_of[t.id] = fp
        CACHE.put(database, t.id, fp)
    prints_of.update(own)
    merged: dict[int, int] = {}  # story -> the story it merged into, in this batch
    stories: dict[int, int] = {}
    # The batch's own keys: key -> its latest article so far. Ints only, no list or
    # tuple per key: a group commit's thousands of articles would otherwise make the
    # cyclic GC rescan hundreds of thousands of young containers (most of this loop's time).
    latest: dict[int, int] = {}
    for article in articles:  # in order: a batch's later copies join its earlier ones
        mine = own[article.id]
        ranked = [
            (c, s) for c, s in _ranked(mine.band_keys, keyed, latest, stories) if c in prints_of
        ]
        confirmed = {
            _final(merged, story)
            for candidate, story in ranked
            if same_story(mine, prints_of[candidate])
        }
        if stats is not None:
            stats.candidates += len(ranked)
        story = min(confirmed, default=article.id)
        if len(confirmed) > 1:
            merge_stories(session=session, into=story, merged=confirmed)
            merged.update((other, story) for other in confirmed if other != story)
        stories[article.id] = story
        latest.update(dict.fromkeys(mine.band_keys, article.id))
    stories = {a: _final(merged, s) for a, s in stories.items()}
    keys = {a: fp.band_keys for a, fp in own.items()}
    rows = save_stories(session=session, stories=stories, keys=keys)
    # Cached once committed: SQLite may give a rolled-back article's id to another one.
    session.info.setdefault(_PENDING, {}).update(own)
    if stats is not None:
        stats.articles += len(articles)
        stats.rows += rows + sum(a != s for a, s in stories.items())
    return stories


def _final(merged: Mapping[int, int], story: int) -> int:
    while story in merged:
        story = merged[story]
    return story


def _ranked(
    keys: Sequence[int],
    keyed: Mapping[int, list[tuple[int, int]]],
    latest: Mapping[int, int],
    stories: Mapping[int, int],
) -> list[tuple[int, int]]:
    """The (article, story) pairs under these keys, stored (`keyed`) or earlier in the
    batch (`latest`, `stories`), most keys shared first, then oldest."""
    shared: dict[tuple[int, int], int] = {}
    for key in keys:
        for pair in keyed.get(key, ()):
            shared[pair] = shared.get(pair, 0) + 1
        if key in latest:
            pair = (latest[key], stories[latest[key]])
            shared[pair] = shared.get(pair, 0) + 1
    return sorted(shared, key=lambda p: (-shared[p], p[0]))[:MAX_CANDIDATES]
