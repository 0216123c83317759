"""The page queue: articles whose page is to be fetched, claimed under a lease.

An article is queued while `page_next_at` is set; a claim leases it to one fetcher (SKIP
LOCKED on PostgreSQL), and `finish_page` stores the outcome. So pending pages survive a
restart, and replicas share them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from store._sql import clip, for_update_skip_locked
from store.articles import carrying_feeds
from store.tables import Article
from store.values import StoredArticle

PENDING, OK = "pending", "ok"
MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class PageClaim:
    """An article whose page one fetcher holds until `lease_expires_at`."""

    article_id: int
    url: str
    attempts: int
    lease_owner: str
    lease_expires_at: datetime


@dataclass(frozen=True, slots=True)
class PageContext:
    """A fetched article as matching sees it, with every feed that carries it as
    (id, title, url), first seen first."""

    article: StoredArticle
    feeds: list[tuple[int, str, str]]


def _table() -> sa.Table:
    return Article.__table__  # type: ignore[attr-defined]


def queue_pages(*, session: Session, article_ids: Sequence[int], now: datetime) -> int:
    """Queue these articles' pages, due now. Returns how many were queued."""
    if not article_ids:
        return 0
    table = _table()
    result = session.execute(
        sa.update(table)
        .where(table.c.id.in_(list(article_ids)))
        .values(page_status=PENDING, page_next_at=now, page_attempts=0)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _claimable(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        table.c.page_next_at.is_not(None),
        table.c.page_next_at <= now,
        sa.or_(table.c.page_lease_expires_at.is_(None), table.c.page_lease_expires_at < now),
    )


def claim_pages(
    *,
    session: Session,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    exclude: Collection[int] = (),
) -> list[PageClaim]:
    """Lease up to `limit` due pages to `owner`, oldest due first; replicas skip each
    other's locked rows, and an expired lease (a fetcher that died) makes a page due.
    `exclude`: pages the caller is still working on."""
    table = _table()
    stmt = (
        sa.select(table.c.id, table.c.url, table.c.page_attempts)
        .where(_claimable(table, now), table.c.id.not_in(list(exclude)))
        .order_by(table.c.page_next_at, table.c.id)
        .limit(limit)
    )
    rows = session.execute(for_update_skip_locked(session, stmt)).all()
    if not rows:
        return []
    expires = now + timedelta(seconds=lease_seconds)
    session.execute(
        sa.update(table)
        .where(table.c.id.in_([row.id for row in rows]))
        .values(page_lease_owner=owner, page_lease_expires_at=expires)
    )
    return [PageClaim(row.id, row.url, row.page_attempts, owner, expires) for row in rows]


def next_page_due_at(*, session: Session, now: datetime) -> datetime | None:
    """When the first unleased queued page falls due (None when the queue is empty)."""
    table = _table()
    stmt = (
        sa.select(table.c.page_next_at)
        .where(
            table.c.page_next_at.is_not(None),
            sa.or_(table.c.page_lease_expires_at.is_(None), table.c.page_lease_expires_at < now),
        )
        .order_by(table.c.page_next_at)
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def finish_page(
    *,
    session: Session,
    claim: PageClaim,
    status: str,
    text: str = "",
    language: str = "",
    published_at: datetime | None = None,
    retry_at: datetime | None = None,
    count_attempt: bool = True,
) -> bool:
    """Store a page's outcome if `claim` still holds the lease (else False). A text makes
    it the article's best text; `language` and `published_at` fill only empty fields.
    `retry_at` keeps the page queued."""
    table = _table()
    values: dict[str, object] = {
        "page_status": clip(status, 300),
        "page_next_at": retry_at,
        "page_lease_owner": "",
        "page_lease_expires_at": None,
    }
    if count_attempt:
        values["page_attempts"] = table.c.page_attempts + 1
    if text:
        values.update(text=text[:MAX_TEXT_CHARS], text_source="page")
    if language:
        values["language"] = sa.case(
            (table.c.language == "", clip(language, 35)), else_=table.c.language
        )
    if published_at is not None:
        values["published_at"] = sa.func.coalesce(table.c.published_at, published_at)
    updated = session.execute(
        sa.update(table)
        .where(table.c.id == claim.article_id, table.c.page_lease_owner == claim.lease_owner)
        .values(values)
    )
    return bool(updated.rowcount)  # type: ignore[attr-defined]


def page_context(*, session: Session, article_id: int) -> PageContext | None:
    """The article with its best text as the body, and the feeds that carry it."""
    row = session.get(Article, article_id)
    if row is None or row.id is None:
        return None
    feeds = carrying_feeds(session=session, article_ids=[row.id]).get(row.id, [])
    article = StoredArticle(
        id=row.id,
        url=row.url,
        title=row.title,
        summary=row.summary,
        content=row.text or row.content,
        language=row.language,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
    )
    return PageContext(article, feeds)


def release_page_leases(*, session: Session, owner: str) -> int:
    """Give back `owner`'s page leases, so that another fetcher may take them at once."""
    table = _table()
    result = session.execute(
        sa.update(table)
        .where(table.c.page_lease_owner == owner, table.c.page_next_at.is_not(None))
        .values(page_lease_owner="", page_lease_expires_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def page_queue_depth(*, session: Session) -> int:
    """How many pages are queued (leased or not)."""
    table = _table()
    stmt = sa.select(sa.func.count()).select_from(table).where(table.c.page_next_at.is_not(None))
    return int(session.execute(stmt).scalar_one())
