"""Articles and the feed↔article link. Unique keys decide what is new, not code."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store._sql import clip, insert_ignore
from store.tables import Article, Feed, FeedArticle
from store.values import ArticleLike, StoredArticle


def url_hash(canonical_url: str) -> str | None:
    return hashlib.sha256(canonical_url.encode()).hexdigest() if canonical_url else None


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
    """Store a feed's articles; return only those never seen before, in any feed."""
    keys = [a.item_key for a in articles]
    known_keys = set(
        session.exec(
            select(FeedArticle.item_key).where(
                FeedArticle.feed_id == feed_id, col(FeedArticle.item_key).in_(keys)
            )
        )
    )
    new: list[StoredArticle] = []
    seen_in_batch: set[str] = set()
    for article in articles:
        if article.item_key in known_keys or article.item_key in seen_in_batch:
            continue
        seen_in_batch.add(article.item_key)
        row = Article(
            url_hash=url_hash(article.canonical_url),
            url=clip(article.url, 4096),
            canonical_url=clip(article.canonical_url, 4096),
            title=clip(article.title, 2000),
            summary=article.summary,
            content=article.content,
            language=clip(article.language, 35),
            author=clip(article.author, 500),
            published_at=article.published_at,
            fetched_at=now,
            created_at=now,
        )
        values = row.model_dump(exclude={"id"})
        article_id = insert_ignore(session, Article.__table__, values, ["url_hash"])  # type: ignore[arg-type]
        is_new = article_id is not None
        if article_id is None:
            # The same story arrived earlier through another feed: link it, alert nothing.
            article_id = session.exec(
                select(Article.id).where(Article.url_hash == row.url_hash)
            ).one()
        linked = insert_ignore(
            session,
            FeedArticle.__table__,  # type: ignore[arg-type]
            {
                "feed_id": feed_id,
                "article_id": article_id,
                "item_key": article.item_key,
                "first_seen_at": now,
            },
            ["feed_id", "item_key"],
        )
        if is_new and linked is not None:
            row.id = article_id
            new.append(_stored(row))
    return new


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
        out.setdefault(article_id, (feed_id, title))
    return out
