"""Articles and the feed↔article link. Unique keys decide what is new, not code."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import IN_CHUNK, clip, insert_ignore, insert_ignore_many
from store.tables import Article, Feed, FeedArticle
from store.values import ArticleLike, StoredArticle


def url_hash(canonical_url: str) -> str | None:
    return hashlib.sha256(canonical_url.encode()).hexdigest() if canonical_url else None


def unseen_item_keys(*, session: Session, feed_id: int, item_keys: Sequence[str]) -> set[str]:
    """The keys this feed has not stored yet (a read: candidates to match before writing)."""
    known = session.exec(
        select(FeedArticle.item_key).where(
            FeedArticle.feed_id == feed_id, col(FeedArticle.item_key).in_(item_keys)
        )
    )
    return set(item_keys) - set(known)


def _stored_row(article_id: int, row: dict[str, Any], item_key: str) -> StoredArticle:
    return StoredArticle(
        id=article_id,
        url=row["url"],
        title=row["title"],
        summary=row["summary"],
        content=row["content"],
        language=row["language"],
        published_at=row["published_at"],
        fetched_at=row["fetched_at"],
        item_key=item_key,
    )


def _stored(row: Article) -> StoredArticle:
    assert row.id is not None
    return StoredArticle(
        id=row.id,
        url=row.url,
        title=row.title,
        summary=row.summary,
        content=row.content,
        language=row.language,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
    )


def insert_new_articles(
    *, session: Session, feed_id: int, articles: Sequence[ArticleLike], now: datetime
) -> list[StoredArticle]:
    """Store a feed's articles; return only those never seen before, in any feed.
    A handful of statements per call, whatever the number of articles."""
    return link_articles(session=session, feed_id=feed_id, articles=articles, now=now)[0]


def link_articles(
    *,
    session: Session,
    feed_id: int,
    articles: Sequence[ArticleLike],
    now: datetime,
    own_stories: bool = True,
) -> tuple[list[StoredArticle], list[StoredArticle]]:
    """Store a feed's articles. Returns those never seen before in any feed, and those
    another feed stored first that this feed now carries too (with the stored id).

    A new article starts as a story of its own; without `own_stories`, its story is left
    unset for the caller to give in the same transaction (ingest's `assign_stories` does,
    for all of a group commit's articles in a few statements, not one a feed)."""
    keys = [a.item_key for a in articles]
    known_keys = set(
        session.exec(
            select(FeedArticle.item_key).where(
                FeedArticle.feed_id == feed_id, col(FeedArticle.item_key).in_(keys)
            )
        )
    )
    fresh: dict[str, ArticleLike] = {}
    for article in articles:
        if article.item_key not in known_keys:
            fresh.setdefault(article.item_key, article)
    if not fresh:
        return [], []
    rows = {key: _row(article, now) for key, article in fresh.items()}
    ids = _insert_articles(session, list(rows.values()))
    new_keys = {key for key, row in rows.items() if ids.get(id(row), (0, False))[1]}
    links = [
        {"feed_id": feed_id, "article_id": ids[id(row)][0], "item_key": key, "first_seen_at": now}
        for key, row in rows.items()
    ]
    table: sa.Table = FeedArticle.__table__  # type: ignore[attr-defined]
    conflict = ["feed_id", "item_key"]
    linked = {key for (key,) in insert_ignore_many(session, table, links, conflict, ("item_key",))}
    if own_stories:
        own_stories_of(session, [ids[id(rows[key])][0] for key in new_keys])
    new: list[StoredArticle] = []
    carried: list[StoredArticle] = []
    for key, row in rows.items():
        if key in linked:
            stored = _stored_row(ids[id(row)][0], row, key)
            (new if key in new_keys else carried).append(stored)
    return new, [a for a in carried if a.id]


def own_stories_of(session: Session, article_ids: Sequence[int]) -> None:
    """Make each of these articles a story of its own (its story id is its id)."""
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    for start in range(0, len(article_ids), IN_CHUNK):
        chunk = list(article_ids[start : start + IN_CHUNK])
        session.execute(sa.update(table).where(table.c.id.in_(chunk)).values(story_id=table.c.id))


def _row(article: ArticleLike, now: datetime) -> dict[str, Any]:
    return {
        "url_hash": url_hash(article.canonical_url),
        "url": clip(article.url, 4096),
        "canonical_url": clip(article.canonical_url, 4096),
        "title": clip(article.title, 2000),
        "summary": article.summary,
        "content": article.content,
        "language": clip(article.language, 35),
        "author": clip(article.author, 500),
        "published_at": article.published_at,
        "fetched_at": now,
        "created_at": now,
    }


def _insert_articles(session: Session, rows: list[dict[str, Any]]) -> dict[int, tuple[int, bool]]:
    """Insert article rows; map each row (by identity) to (article id, newly inserted?).
    A canonical URL stored earlier, through another feed, links to that article instead."""
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    out: dict[int, tuple[int, bool]] = {}
    hashed = [r for r in rows if r["url_hash"] is not None]
    for row in rows:
        if row["url_hash"] is None:  # no canonical URL: nothing to collide with
            out[id(row)] = (insert_ignore(session, table, row, ["id"]) or 0, True)
    by_hash: dict[str, dict[str, Any]] = {}
    for row in hashed:
        by_hash.setdefault(row["url_hash"], row)  # the first of a batch's twins is the new one
    if not by_hash:
        return out
    existing: dict[str, int] = dict(_ids_by_hash(session, list(by_hash)))
    to_insert = [row for h, row in by_hash.items() if h not in existing]
    inserted = _insert_by_url(session, to_insert)
    missing = [h for h in by_hash if h not in existing and h not in inserted]
    if missing:  # another writer stored them a moment ago
        existing.update(_ids_by_hash(session, missing))
    for row in hashed:
        h = row["url_hash"]
        new = h in inserted and by_hash[h] is row
        out[id(row)] = (inserted[h], True) if new else (inserted.get(h) or existing[h], False)
    return out


def _ids_by_hash(session: Session, hashes: list[str]) -> list[tuple[str, int]]:
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    stmt = sa.select(table.c.url_hash, table.c.id).where(table.c.url_hash.in_(hashes))
    return [(h, i) for h, i in session.execute(stmt)]


def _insert_by_url(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows that have a URL hash; map the hashes actually inserted to their ids."""
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    return dict(insert_ignore_many(session, table, rows, ["url_hash"], ("url_hash", "id")))


def recent_articles(
    *, session: Session, limit: int, before_id: int | None = None
) -> list[tuple[StoredArticle, int, str]]:
    """Stored articles, newest first, with the first feed's id and title."""
    stmt = select(Article).order_by(col(Article.id).desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(col(Article.id) < before_id)
    rows = list(session.exec(stmt))
    feeds = first_feeds(session=session, article_ids=[r.id for r in rows if r.id is not None])
    return [(_stored(r), *feeds.get(r.id or 0, (0, ""))) for r in rows]


def articles_since(
    *, session: Session, since: datetime, limit: int
) -> list[tuple[StoredArticle, int, str, str]]:
    """Stored articles published at or after `since` (an undated one counts as published
    when fetched), newest first, at most `limit`: with the first feed's id, title and URL."""
    published = sa.func.coalesce(col(Article.published_at), col(Article.fetched_at))
    stmt = select(Article).where(published >= since).order_by(col(Article.id).desc()).limit(limit)
    rows = list(session.exec(stmt))
    feeds = first_feeds(session=session, article_ids=[r.id for r in rows if r.id is not None])
    feed_ids = {feed_id for feed_id, _ in feeds.values()}
    urls = dict(session.exec(select(Feed.id, Feed.url).where(col(Feed.id).in_(feed_ids))).all())
    out = []
    for row in rows:
        feed_id, feed_title = feeds.get(row.id or 0, (0, ""))
        out.append((_stored(row), feed_id, feed_title, urls.get(feed_id, "")))
    return out


def carrying_feeds(
    *, session: Session, article_ids: list[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """For each article, every feed that carries it as (id, title, url), first seen first."""
    if not article_ids:
        return {}
    rows = session.exec(
        select(FeedArticle.article_id, Feed.id, Feed.title, Feed.url)
        .join(Feed, col(Feed.id) == FeedArticle.feed_id)
        .where(col(FeedArticle.article_id).in_(article_ids))
        .order_by(col(FeedArticle.id))
    )
    out: dict[int, list[tuple[int, str, str]]] = {}
    for article_id, feed_id, title, url in rows:
        out.setdefault(article_id, []).append((feed_id or 0, title, url))
    return out


def first_feeds(*, session: Session, article_ids: list[int]) -> dict[int, tuple[int, str]]:
    """For each article, the (id, title) of the feed it was first seen in."""
    if not article_ids:
        return {}
    rows = session.exec(
        select(FeedArticle.article_id, Feed.id, Feed.title)
        .join(Feed, col(Feed.id) == FeedArticle.feed_id)
        .where(col(FeedArticle.article_id).in_(article_ids))
        .order_by(col(FeedArticle.id))
    )
    out: dict[int, tuple[int, str]] = {}
    for article_id, feed_id, title in rows:
        out.setdefault(article_id, (feed_id or 0, title))
    return out


def get_article(*, session: Session, article_id: int) -> tuple[Article, int] | None:
    """An article and the id of the feed it was first seen in (0 if none is left)."""
    row = session.get(Article, article_id)
    if row is None:
        return None
    return row, first_feeds(session=session, article_ids=[article_id]).get(article_id, (0, ""))[0]
