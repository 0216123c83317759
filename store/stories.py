"""The story index (band keys in `story_keys` and `story_keys_recent`) and the story queries.

Story ids are article ids: a story is named after its first article, so assigning one
never needs a sequence, and an article that starts a story points at itself.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import IN_CHUNK, insert_ignore_from
from store.articles import first_feeds, own_stories_of
from store.tables import STORY_KEYS, STORY_KEYS_RECENT, Article, Feed, FeedArticle, Hit

# Rows `story_keys_recent` holds before they move to `story_keys`: about 3,500 articles.
# Each move rewrites most of the large tier's pages once, instead of once a transaction;
# the small tier stays a few hundred pages.
RECENT_KEYS = 50_000
# One PostgreSQL advisory lock serialises story assignment between replicas (an
# arbitrary constant, "nwstory" in ASCII): see `lock_story_index`.
_STORY_LOCK = 0x6E7773746F7279


def lock_story_index(*, session: Session) -> None:
    """Hold the story index until this transaction ends. Two replicas ingesting two copies
    of one story at the same moment would otherwise each miss the other's uncommitted
    keys and start two stories; with the lock, the second reads the first's committed
    keys. SQLite needs nothing: a write transaction already holds the database."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_STORY_LOCK)))


@dataclass(frozen=True, slots=True)
class StoredText:
    """What a candidate is confirmed on."""

    id: int
    title: str
    summary: str
    content: str


@functools.lru_cache(maxsize=16)  # sizes vary: a full chunk, and what is left
def _keyed_sql(size: int, paramstyle: str) -> str:
    """The lookup of `size` keys in both tiers, as the driver takes it. Written out once
    for each size: SQLAlchemy's expanding IN renders it again at every call, which cost
    more than running it."""
    mark = "?" if paramstyle == "qmark" else "%s"
    keys = ", ".join([mark] * size)
    # The window is tested in the select list, not the WHERE clause: given
    # `created_at >= ?` there, SQLite's planner may scan the window by that index instead
    # of probing the keys; and a boolean costs no datetime conversion per row.
    return (
        f"SELECT k.key, k.article_id, a.story_id, a.created_at >= {mark}"
        f" FROM (SELECT key, article_id FROM story_keys WHERE key IN ({keys})"
        f" UNION ALL SELECT key, article_id FROM story_keys_recent WHERE key IN ({keys})) k"
        " JOIN articles a ON a.id = k.article_id"
    )


def keyed_articles(
    *, session: Session, keys: Iterable[int], since: datetime
) -> list[tuple[int, int, int]]:
    """(key, article id, story id) of the articles stored since `since` under `keys`."""
    wanted = list(set(keys))
    connection = session.connection()
    dialect = connection.dialect
    articles: sa.Table = Article.__table__  # type: ignore[attr-defined]
    convert = articles.c.created_at.type.bind_processor(dialect)
    at = convert(since) if convert else since
    out: list[tuple[int, int, int]] = []
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        rows = connection.exec_driver_sql(
            _keyed_sql(len(chunk), dialect.paramstyle), (at, *chunk, *chunk)
        )
        out.extend((k, a, s) for k, a, s, fresh in rows if fresh)
    return out


def article_texts(*, session: Session, article_ids: Iterable[int]) -> dict[int, StoredText]:
    """Titles and texts of stored articles, by id."""
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    wanted = sorted(set(article_ids))
    out: dict[int, StoredText] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        rows = session.execute(
            sa.select(table.c.id, table.c.title, table.c.summary, table.c.content).where(
                table.c.id.in_(wanted[start : start + IN_CHUNK])
            )
        )
        out.update((r.id, StoredText(r.id, r.title, r.summary, r.content)) for r in rows)
    return out


def save_stories(
    *,
    session: Session,
    stories: dict[int, int],
    keys: Mapping[int, Sequence[int]],
) -> int:
    """Record the story of each new article (article -> story; its own id for one that
    starts a story), and index its band keys (article -> keys) in the recent tier.
    Returns the index rows written, those a move to the large tier wrote included."""
    own_stories_of(session, [a for a, s in stories.items() if a == s])
    joined = {a: s for a, s in stories.items() if a != s}
    if joined:
        articles: sa.Table = Article.__table__  # type: ignore[attr-defined]
        session.connection().execute(  # Core's executemany: the ORM's costs 5x as much
            sa.update(articles)
            .where(articles.c.id == sa.bindparam("article_id"))
            .values(story_id=sa.bindparam("story")),
            [{"article_id": a, "story": s} for a, s in joined.items()],
        )
    # A key twice for one article (two bands agreeing by chance) is one row. Flat
    # (key, article, key, article, ...): no tuple a row for the cyclic GC to track.
    flat: list[int] = []
    for article_id, article_keys in keys.items():
        for key in dict.fromkeys(article_keys):
            flat.append(key)
            flat.append(article_id)
    if not flat:
        return 0
    # Many rows a statement, through the driver: an executemany runs the statement once
    # a row. (With the tiers: saving 50,000 articles' keys took bench.ingest's writer
    # 2.2 CPU seconds, 8.9 before.)
    connection = session.connection()
    mark = "(?, ?)" if connection.dialect.paramstyle == "qmark" else "(%s, %s)"
    step = 2 * IN_CHUNK
    for start in range(0, len(flat), step):
        chunk = flat[start : start + step]
        connection.exec_driver_sql(_insert_keys_sql(len(chunk) // 2, mark), tuple(chunk))
    return len(flat) // 2 + _settle_recent_keys(session, written=len(flat) // 2)


_draw = random.Random().random  # a generator of this module's own: seeding tests leave it be


@functools.lru_cache(maxsize=16)  # sizes vary: a full chunk, and what is left
def _insert_keys_sql(rows: int, mark: str) -> str:
    return "INSERT INTO story_keys_recent (key, article_id) VALUES " + ", ".join([mark] * rows)


def _settle_recent_keys(session: Session, *, written: int) -> int:
    """Move the recent tier into the large one once it holds `RECENT_KEYS` rows, in key
    order (each page of the large tier written once); returns the rows moved.

    Counting the tier reads it whole, which costs more than a poll's keys: a writer
    counts at random, as often as `written` rows make likely about eight times a fill.
    Nothing to share between replicas, and the tier outgrows its bound by an eighth or
    so at most."""
    limit = RECENT_KEYS
    if _draw() >= written * 8 / limit:
        return 0
    held = sa.select(sa.literal(1)).select_from(STORY_KEYS_RECENT).limit(limit).subquery()
    if session.execute(sa.select(sa.func.count()).select_from(held)).scalar_one() < limit:
        return 0
    recent = STORY_KEYS_RECENT.c
    moved = sa.select(recent.key, recent.article_id).order_by(recent.key, recent.article_id)
    session.execute(insert_ignore_from(session, STORY_KEYS, moved, ["key", "article_id"]))
    return int(session.execute(sa.delete(STORY_KEYS_RECENT)).rowcount or 0)  # type: ignore[attr-defined]


def merge_stories(*, session: Session, into: int, merged: Iterable[int]) -> None:
    """Make stories one: a new article confirmed as a copy of both (a short item and a
    re-led copy share little, until the wire copy links them). Their articles move to
    `into`; a rule that hit both keeps both hits, and only `into`'s counts as the story's."""
    hits: sa.Table = Hit.__table__  # type: ignore[attr-defined]
    articles: sa.Table = Article.__table__  # type: ignore[attr-defined]
    others = sorted(set(merged) - {into})
    if not others:
        return
    for other in others:
        taken = sa.select(hits.c.rule_id).where(hits.c.story_id == into).scalar_subquery()
        session.execute(
            sa.update(hits)
            .where(hits.c.story_id == other, hits.c.rule_id.not_in(taken))
            .values(story_id=into)
        )
        session.execute(sa.update(hits).where(hits.c.story_id == other).values(story_id=None))
    session.execute(
        sa.update(articles).where(articles.c.story_id.in_(others)).values(story_id=into)
    )


def prune_story_keys(*, session: Session, before: datetime, limit: int = 50_000) -> int:
    """Drop the band keys of articles stored before `before` (out of the story window),
    at most `limit` a tier, so that no transaction holds the database long; returns how
    many. Article ids grow with time: the keys to drop are those under the first id
    stored since `before` (or under every id, when none was)."""
    articles: sa.Table = Article.__table__  # type: ignore[attr-defined]
    first = session.execute(
        sa.select(sa.func.min(articles.c.id)).where(articles.c.created_at >= before)
    ).scalar_one()
    if first is None:
        first = (session.execute(sa.select(sa.func.max(articles.c.id))).scalar_one() or 0) + 1
    pruned = 0
    for table in (STORY_KEYS_RECENT, STORY_KEYS):
        old = (
            sa.select(table.c.key, table.c.article_id)
            .where(table.c.article_id < first)
            .limit(limit)
        )
        result = session.execute(
            sa.delete(table).where(sa.tuple_(table.c.key, table.c.article_id).in_(old))
        )
        pruned += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return pruned


@dataclass(frozen=True, slots=True)
class StoryArticle:
    id: int
    title: str
    url: str
    feed_id: int
    feed_title: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A story as a hit shows it: its size and where it ran (first feed of each copy)."""

    id: int
    articles: int
    sources: tuple[str, ...]


def story_articles(*, session: Session, story_id: int, limit: int) -> list[StoryArticle]:
    """A story's articles, first one first, with the feed each was first seen in."""
    rows = session.exec(
        select(Article.id, Article.title, Article.url, Article.published_at)
        .where(Article.story_id == story_id)
        .order_by(col(Article.id))
        .limit(limit)
    ).all()
    feeds = first_feeds(session=session, article_ids=[r[0] for r in rows if r[0] is not None])
    return [
        StoryArticle(id_ or 0, title, url, *feeds.get(id_ or 0, (0, "")), published)
        for id_, title, url, published in rows
    ]


def story_summaries(
    *, session: Session, story_ids: Iterable[int], max_sources: int = 50
) -> dict[int, StorySummary]:
    """For each story: how many articles it has, and the titles of their feeds (each
    once, first seen first, at most `max_sources`)."""
    wanted = sorted(set(story_ids))
    counts: dict[int, int] = {}
    sources: dict[int, list[str]] = {s: [] for s in wanted}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        counts.update(
            session.exec(
                select(Article.story_id, sa.func.count())
                .where(col(Article.story_id).in_(chunk))
                .group_by(col(Article.story_id))
            ).all()  # type: ignore[arg-type]
        )
        rows = session.exec(
            select(Article.story_id, Feed.title, FeedArticle.article_id)
            .join(FeedArticle, col(FeedArticle.article_id) == Article.id)
            .join(Feed, col(Feed.id) == FeedArticle.feed_id)
            .where(col(Article.story_id).in_(chunk))
            .order_by(col(FeedArticle.id))
        )
        for story_id, title, _ in rows:
            names = sources[story_id or 0]
            if title not in names and len(names) < max_sources:
                names.append(title)
    return {
        s: StorySummary(s, counts.get(s, 0), tuple(sources[s])) for s in wanted if counts.get(s)
    }
