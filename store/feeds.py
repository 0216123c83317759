"""The feed catalogue and its poll schedule: the database is the schedule (`next_poll_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from store._sql import clip, for_update_skip_locked, insert_ignore
from store.tables import Feed, FeedArticle, metadata
from store.values import FeedClaim, PollResult


@dataclass(frozen=True, slots=True)
class FeedWithCount:
    feed: Feed
    article_count: int


def add_feed(
    *,
    session: Session,
    url: str,
    now: datetime,
    title: str = "",
    interval_seconds: int | None = None,
    created_by: int | None = None,
    full_text: str = "auto",
) -> tuple[Feed, bool]:
    """Add a feed, due at once. Returns (feed, created); an already-known URL is not an error."""
    feed_id = insert_ignore(
        session,
        metadata.tables["feeds"],
        {
            "url": url,
            "title": clip(title, 1000),
            "interval_seconds": interval_seconds,
            "next_poll_at": now,
            "created_by": created_by,
            "created_at": now,
            "status": "new",
            "site_url": "",
            "language": "",
            "error_count": 0,
            "last_error": "",
            "etag": "",
            "last_modified": "",
            "body_hash": "",
            "lease_owner": "",
            "full_text": full_text,
        },
        ["url"],
    )
    created = feed_id is not None
    feed = session.exec(select(Feed).where(Feed.url == url)).one()
    return feed, created


def get_feed(*, session: Session, feed_id: int) -> FeedWithCount | None:
    feed = session.get(Feed, feed_id)
    if feed is None:
        return None
    return FeedWithCount(feed, _article_counts(session, [feed_id]).get(feed_id, 0))


def feed_urls(*, session: Session, feed_ids: list[int]) -> dict[int, str]:
    """The URL of each of these feeds."""
    if not feed_ids:
        return {}
    rows = session.exec(select(Feed.id, Feed.url).where(col(Feed.id).in_(feed_ids)))
    return {feed_id: url for feed_id, url in rows if feed_id is not None}


def list_feeds(*, session: Session, limit: int = 1000, after_id: int = 0) -> list[FeedWithCount]:
    feeds = list(
        session.exec(
            select(Feed).where(col(Feed.id) > after_id).order_by(col(Feed.id)).limit(limit)
        )
    )
    counts = _article_counts(session, [f.id for f in feeds if f.id is not None])
    return [FeedWithCount(f, counts.get(f.id or 0, 0)) for f in feeds]


def all_feeds(*, session: Session, page: int = 1000) -> list[FeedWithCount]:
    """Every feed, in id order (read a page at a time)."""
    out: list[FeedWithCount] = []
    while True:
        rows = list_feeds(session=session, limit=page, after_id=out[-1].feed.id or 0 if out else 0)
        out += rows
        if len(rows) < page:
            return out


def _article_counts(session: Session, feed_ids: list[int]) -> dict[int, int]:
    if not feed_ids:
        return {}
    rows = session.exec(
        select(FeedArticle.feed_id, func.count())
        .where(col(FeedArticle.feed_id).in_(feed_ids))
        .group_by(col(FeedArticle.feed_id))
    )
    return {feed_id: count for feed_id, count in rows}


def articles_since(*, session: Session, feed_ids: list[int], since: datetime) -> dict[int, int]:
    """How many articles each feed brought in since `since` (first seen in that feed)."""
    if not feed_ids:
        return {}
    rows = session.exec(
        select(FeedArticle.feed_id, func.count())
        .where(col(FeedArticle.feed_id).in_(feed_ids), col(FeedArticle.first_seen_at) >= since)
        .group_by(col(FeedArticle.feed_id))
    )
    return {feed_id: count for feed_id, count in rows}


def update_feed(*, session: Session, feed_id: int, changes: dict[str, Any]) -> Feed | None:
    """Change only the given fields (`title`, `interval_seconds`, `full_text`)."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return None
    for key, value in changes.items():
        setattr(feed, key, value)
    session.add(feed)
    session.flush()
    return feed


def delete_feed(*, session: Session, feed_id: int) -> bool:
    result = session.execute(sa.delete(Feed).where(col(Feed.id) == feed_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def request_poll(*, session: Session, feed_id: int, now: datetime) -> bool:
    """Make a feed due now. False when there is no such feed."""
    result = session.execute(
        sa.update(Feed).where(col(Feed.id) == feed_id).values(next_poll_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_CLAIM_COLUMNS = (
    "id",
    "url",
    "title",
    "etag",
    "last_modified",
    "body_hash",
    "interval_seconds",
    "effective_interval_seconds",
    "error_count",
    "last_polled_at",
    "next_poll_at",
    "full_text",
)


def _unleased(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    """Feeds no poller holds: never leased, or the lease has expired."""
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


def next_due_at(*, session: Session, now: datetime) -> datetime | None:
    """When the first feed that no poller holds falls due (None without feeds)."""
    table: sa.Table = Feed.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.select(table.c.next_poll_at)
        .where(_unleased(table, now))
        .order_by(table.c.next_poll_at)
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def claim_due_feeds(
    *, session: Session, owner: str, now: datetime, lease_seconds: float, limit: int
) -> list[FeedClaim]:
    """Lease up to `limit` due feeds to `owner`. Replicas skip each other's locked rows.
    One SELECT and one UPDATE, whatever `limit` is."""
    table: sa.Table = Feed.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.select(*(table.c[name] for name in _CLAIM_COLUMNS))
        .where(table.c.next_poll_at <= now, _unleased(table, now))
        .order_by(table.c.next_poll_at)
        .limit(limit)
    )
    rows = session.execute(for_update_skip_locked(session, stmt)).all()
    if not rows:
        return []
    expires = now + timedelta(seconds=lease_seconds)
    session.execute(
        sa.update(table)
        .where(table.c.id.in_([row.id for row in rows]))
        .values(lease_owner=owner, lease_expires_at=expires)
    )
    return [
        FeedClaim(
            id=row.id,
            url=row.url,
            title=row.title,
            etag=row.etag,
            last_modified=row.last_modified,
            body_hash=row.body_hash,
            interval_seconds=row.interval_seconds,
            effective_interval_seconds=row.effective_interval_seconds,
            error_count=row.error_count,
            last_polled_at=row.last_polled_at,
            lease_owner=owner,
            lease_expires_at=expires,
            due_at=row.next_poll_at,
            full_text=row.full_text,
        )
        for row in rows
    ]


def _poll_values(now: datetime, result: PollResult) -> dict[str, Any]:
    """The plain column values a poll's outcome sets (`error_count` and `title` are
    expressions, added by the caller: +1 on error, and only into an empty title)."""
    values: dict[str, Any] = {
        "last_polled_at": now,
        "next_poll_at": result.next_poll_at,
        "lease_owner": "",
        "lease_expires_at": None,
    }
    if result.effective_interval_seconds is not None:
        values["effective_interval_seconds"] = result.effective_interval_seconds
    if result.status == "error":
        values["status"] = "error"
        values["last_error"] = clip(result.error, 1000)
    else:
        values.update(status="ok", error_count=0, last_error="", last_success_at=now)
        for key in ("etag", "last_modified", "body_hash", "site_url", "language"):
            value = getattr(result, key)
            if value is not None:
                values[key] = clip(value, Feed.__table__.c[key].type.length)  # type: ignore[attr-defined]
        if result.title:
            values["title"] = clip(result.title, 1000)
        if result.new_articles:
            values["last_new_article_at"] = now
    return values


def _finish_statement(columns: Sequence[str], error: bool) -> sa.Update:
    """UPDATE of one feed's poll outcome, with a bind parameter per column in `columns`."""
    table: sa.Table = Feed.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {name: sa.bindparam(f"v_{name}") for name in columns}
    if error:
        values["error_count"] = table.c.error_count + 1
    if "title" in values:
        # A title the user chose is kept; the feed's own fills only an empty one.
        values["title"] = sa.case((table.c.title == "", values["title"]), else_=table.c.title)
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"), table.c.lease_owner == sa.bindparam("b_owner"))
        .values(values)
    )


def finish_polls(
    *, session: Session, polls: Sequence[tuple[int, str, datetime, PollResult]]
) -> int:
    """Record many (feed_id, owner, now, result) outcomes in one transaction; return how
    many leases were still held. This is what makes a pass of 304s cheap: outcomes that
    set the same columns go as one executemany of one compiled statement."""
    groups: dict[tuple[tuple[str, ...], bool], list[dict[str, Any]]] = {}
    for feed_id, owner, now, result in polls:
        values = _poll_values(now, result)
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(b_id=feed_id, b_owner=owner)
        groups.setdefault((tuple(values), result.status == "error"), []).append(params)
    held = 0
    for (columns, error), rows in groups.items():
        stmt = _finish_statement(columns, error)
        if len(rows) == 1:
            held += session.execute(stmt, rows[0]).rowcount  # type: ignore[attr-defined]
        else:
            # executemany: the total is exact on SQLite and psycopg, which count every row.
            held += session.execute(stmt, rows).rowcount  # type: ignore[attr-defined]
    return held


def release_feed_leases(*, session: Session, owner: str, feed_ids: list[int] | None = None) -> int:
    """Give back `owner`'s leases (all, or only `feed_ids`) so that another poller may claim
    them at once; the feeds stay due. Returns how many were released."""
    stmt = (
        sa.update(Feed)
        .where(col(Feed.lease_owner) == owner)
        .values(lease_owner="", lease_expires_at=None)
    )
    if feed_ids is not None:
        stmt = stmt.where(col(Feed.id).in_(feed_ids))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
