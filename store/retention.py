"""Retention: the SQL that prunes old rows in small batches, and the lease that lets one
replica at a time do it.

Each batch is its own short transaction, found by keyset (`id > after`) so that a run
reads the old rows once. Conditions are repeated in the DELETE itself, so that a row that
changed since it was selected (a delivery made pending again) is left alone. A delivery
that is pending is never touched, and neither is its hit (deleting a hit would cascade)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store._sql import for_update_skip_locked
from store.tables import metadata

PENDING = "pending"


def _t(name: str) -> sa.Table:
    return metadata.tables[name]


# the lease -------------------------------------------------------------------------------


def take_lease(
    *, session: Session, name: str, owner: str, now: datetime, lease_seconds: float
) -> bool:
    """Hold the named lease until now + `lease_seconds`, unless another owner holds it."""
    leases = _t("leases")
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        module.insert(leases)
        .values(name=name, owner="", expires_at=None)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    taken = session.execute(
        sa.update(leases)
        .where(
            leases.c.name == name,
            sa.or_(
                leases.c.expires_at.is_(None),
                leases.c.expires_at < now,
                leases.c.owner == owner,
            ),
        )
        .values(owner=owner, expires_at=now + timedelta(seconds=lease_seconds))
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def release_lease(*, session: Session, name: str, owner: str) -> None:
    leases = _t("leases")
    session.execute(
        sa.update(leases)
        .where(leases.c.name == name, leases.c.owner == owner)
        .values(owner="", expires_at=None)
    )


# what is due -------------------------------------------------------------------------------


def _pending_delivery(hit_id: sa.ColumnElement[Any]) -> sa.Exists:
    deliveries = _t("deliveries")
    return sa.exists().where(deliveries.c.hit_id == hit_id, deliveries.c.status == PENDING)


def _hit_due(cutoff: datetime) -> sa.ColumnElement[bool]:
    hits = _t("hits")
    return sa.and_(hits.c.created_at < cutoff, ~_pending_delivery(hits.c.id))


def _article_due(cutoff: datetime, hit_cutoff: datetime | None) -> sa.ColumnElement[bool]:
    """Old, not waiting for its page, and no hit refers to it (in a dry run, no hit that
    this run would keep: `hit_cutoff` counts those due as gone)."""
    articles, hits = _t("articles"), _t("hits")
    referring = hits.c.article_id == articles.c.id
    if hit_cutoff is not None:
        referring = sa.and_(referring, sa.not_(_hit_due(hit_cutoff)))
    return sa.and_(
        articles.c.created_at < cutoff,
        articles.c.page_next_at.is_(None),
        ~sa.exists().where(referring),
    )


def _text_due(cutoff: datetime) -> sa.ColumnElement[bool]:
    articles = _t("articles")
    return sa.and_(articles.c.created_at < cutoff, articles.c.text_source == "page")


def count_due(
    *, session: Session, article_cutoff: datetime, text_cutoff: datetime, hit_cutoff: datetime
) -> dict[str, int]:
    """What a prune would delete now (a dry run): hits, deliveries, articles, texts."""
    hits, deliveries, articles = _t("hits"), _t("deliveries"), _t("articles")

    def count(table: sa.Table, where: sa.ColumnElement[bool]) -> int:
        stmt = sa.select(sa.func.count()).select_from(table).where(where)
        return int(session.execute(stmt).scalar_one())

    due_hits = sa.select(hits.c.id).where(_hit_due(hit_cutoff))
    return {
        "hits": count(hits, _hit_due(hit_cutoff)),
        "deliveries": count(deliveries, deliveries.c.hit_id.in_(due_hits)),
        "articles": count(articles, _article_due(article_cutoff, hit_cutoff)),
        "texts": count(
            articles, sa.and_(_text_due(text_cutoff), articles.c.created_at >= article_cutoff)
        ),
    }


# one batch each -------------------------------------------------------------------------


def _due_ids(
    session: Session, table: sa.Table, where: sa.ColumnElement[bool], after: int, limit: int
) -> list[int]:
    stmt = sa.select(table.c.id).where(where, table.c.id > after).order_by(table.c.id).limit(limit)
    return list(session.execute(for_update_skip_locked(session, stmt)).scalars())


def prune_hits(
    *, session: Session, cutoff: datetime, after: int, limit: int
) -> tuple[int, int, int | None]:
    """One batch of old hits and their finished deliveries. Returns (hits, deliveries,
    the last id looked at, or None when no more are due)."""
    hits, deliveries = _t("hits"), _t("deliveries")
    ids = _due_ids(session, hits, _hit_due(cutoff), after, limit)
    if not ids:
        return 0, 0, None
    gone = session.execute(
        sa.delete(deliveries).where(deliveries.c.hit_id.in_(ids), deliveries.c.status != PENDING)
    ).rowcount  # type: ignore[attr-defined]
    deleted = session.execute(
        sa.delete(hits).where(hits.c.id.in_(ids), ~_pending_delivery(hits.c.id))
    ).rowcount  # type: ignore[attr-defined]
    return int(deleted), int(gone), ids[-1]


def prune_articles(
    *, session: Session, cutoff: datetime, after: int, limit: int
) -> tuple[int, int | None]:
    """One batch of old articles that no hit refers to (their feed links go with them)."""
    articles = _t("articles")
    ids = _due_ids(session, articles, _article_due(cutoff, None), after, limit)
    if not ids:
        return 0, None
    deleted = session.execute(
        sa.delete(articles).where(articles.c.id.in_(ids), _article_due(cutoff, None))
    ).rowcount  # type: ignore[attr-defined]
    return int(deleted), ids[-1]


def prune_texts(
    *, session: Session, cutoff: datetime, after: int, limit: int
) -> tuple[int, int | None]:
    """One batch of old page texts dropped: the article keeps its feed text and summary."""
    articles = _t("articles")
    ids = _due_ids(session, articles, _text_due(cutoff), after, limit)
    if not ids:
        return 0, None
    updated = session.execute(
        sa.update(articles)
        .where(articles.c.id.in_(ids), _text_due(cutoff))
        .values(text="", text_source="feed")
    ).rowcount  # type: ignore[attr-defined]
    return int(updated), ids[-1]
