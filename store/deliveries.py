"""The outbox: claim due deliveries under a lease, then mark each sent, retried or dead."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import clip, for_update_skip_locked
from store.articles import first_feeds
from store.tables import Article, Delivery, Feed, Hit, Rule, TelegramChat, Webhook
from store.values import DeliveryJob

PENDING, SENT, DEAD = "pending", "sent", "dead"


def claim_due_deliveries(
    *, session: Session, owner: str, now: datetime, lease_seconds: float, limit: int
) -> list[DeliveryJob]:
    """Lease up to `limit` due deliveries to `owner` and load what sending them needs.
    A lease that expires (its process died mid-send) makes the delivery due again."""
    stmt = (
        select(Delivery.id)
        .where(
            col(Delivery.status) == PENDING,
            col(Delivery.next_attempt_at) <= now,
            sa.or_(col(Delivery.lease_expires_at).is_(None), col(Delivery.lease_expires_at) < now),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    ids = list(session.exec(for_update_skip_locked(session, stmt)))
    if not ids:
        return []
    session.execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(ids))
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return load_jobs(session=session, delivery_ids=ids)


def load_jobs(*, session: Session, delivery_ids: list[int]) -> list[DeliveryJob]:
    deliveries = list(
        session.exec(
            select(Delivery).where(col(Delivery.id).in_(delivery_ids)).order_by(col(Delivery.id))
        )
    )
    hit_ids = [d.hit_id for d in deliveries if d.hit_id is not None]
    hits: dict[int, tuple[Hit, Rule, Article]] = {}
    if hit_ids:
        for hit, rule, article in session.exec(
            select(Hit, Rule, Article)
            .join(Rule, col(Rule.id) == Hit.rule_id)
            .join(Article, col(Article.id) == Hit.article_id)
            .where(col(Hit.id).in_(hit_ids))
        ):
            hits[hit.id or 0] = (hit, rule, article)
    feeds = first_feeds(session=session, article_ids=[a.id or 0 for _, _, a in hits.values()])
    feed_urls = (
        dict(
            session.exec(
                select(Feed.id, Feed.url).where(col(Feed.id).in_({f for f, _ in feeds.values()}))
            ).all()
        )
        if feeds
        else {}
    )
    webhooks = _by_id(
        session, Webhook, [d.channel_id for d in deliveries if d.channel_kind == "webhook"]
    )
    chats = _by_id(
        session, TelegramChat, [d.channel_id for d in deliveries if d.channel_kind == "telegram"]
    )

    jobs = []
    for d in deliveries:
        fields: dict[str, Any] = {}
        if d.channel_kind == "webhook":
            w = webhooks.get(d.channel_id)
            fields.update(
                target_active=bool(w and w.active and w.deleted_at is None),
                webhook_url=w.url if w else "",
                webhook_secret=w.secret if w else "",
            )
        else:
            c = chats.get(d.channel_id)
            fields.update(target_active=bool(c and c.active), chat_id=c.chat_id if c else 0)
        if d.hit_id is not None and d.hit_id in hits:
            hit, rule, article = hits[d.hit_id]
            feed_id, feed_title = feeds.get(article.id or 0, (0, ""))
            fields.update(
                hit_id=hit.id,
                hit_created_at=hit.created_at,
                snippet=hit.snippet,
                matched_terms=tuple(hit.matched_terms or ()),
                rule_id=rule.id,
                rule_name=rule.name,
                rule_query=rule.query,
                article_id=article.id,
                article_title=article.title,
                article_url=article.url,
                article_summary=article.summary,
                article_published_at=article.published_at,
                feed_id=feed_id,
                feed_title=feed_title,
                feed_url=feed_urls.get(feed_id, ""),
            )
        jobs.append(
            DeliveryJob(
                id=d.id or 0,
                event_type=d.event_type,
                channel_kind=d.channel_kind,
                channel_id=d.channel_id,
                attempts=d.attempts,
                created_at=d.created_at,
                **fields,
            )
        )
    return jobs


def _by_id(session: Session, table: Any, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(ids)))}


def _finish(
    session: Session, delivery_id: int, owner: str, values: dict[str, Any], count: bool = True
) -> bool:
    # Only the lease holder finishes a delivery; a lease lost to expiry means another
    # process took over, and its outcome wins.
    stmt = (
        sa.update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.status) == PENDING,
            col(Delivery.lease_owner) == owner,
        )
        .values(
            lease_owner="",
            lease_expires_at=None,
            attempts=Delivery.attempts + (1 if count else 0),
            **values,
        )
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def mark_sent(
    *, session: Session, delivery_id: int, owner: str, now: datetime, status_code: int | None
) -> bool:
    return _finish(
        session,
        delivery_id,
        owner,
        {
            "status": SENT,
            "sent_at": now,
            "updated_at": now,
            "last_status_code": status_code,
            "last_error": "",
        },
    )


def schedule_retry(
    *,
    session: Session,
    delivery_id: int,
    owner: str,
    now: datetime,
    next_attempt_at: datetime,
    error: str,
    status_code: int | None,
    count_attempt: bool = True,
) -> bool:
    """Release the lease until `next_attempt_at`; a deferral (`count_attempt=False`, the
    send was never tried) does not use up one of the attempts."""
    return _finish(
        session,
        delivery_id,
        owner,
        {
            "next_attempt_at": next_attempt_at,
            "updated_at": now,
            "last_status_code": status_code,
            "last_error": clip(error, 1000),
        },
        count_attempt,
    )


def mark_dead(
    *,
    session: Session,
    delivery_id: int,
    owner: str,
    now: datetime,
    error: str,
    status_code: int | None,
) -> bool:
    return _finish(
        session,
        delivery_id,
        owner,
        {
            "status": DEAD,
            "updated_at": now,
            "last_status_code": status_code,
            "last_error": clip(error, 1000),
        },
    )


def list_deliveries(
    *, session: Session, kind: str, channel_id: int, limit: int, before_id: int | None = None
) -> list[Delivery]:
    """A channel's deliveries, newest first (keyset on id)."""
    stmt = (
        select(Delivery)
        .where(Delivery.channel_kind == kind, Delivery.channel_id == channel_id)
        .order_by(col(Delivery.id).desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(col(Delivery.id) < before_id)
    return list(session.exec(stmt))


def pending_count(*, session: Session) -> int:
    return session.exec(select(sa.func.count()).where(col(Delivery.status) == PENDING)).one()


def release_delivery_leases(
    *, session: Session, owner: str, delivery_ids: list[int] | None = None
) -> int:
    """Give back `owner`'s leases on pending deliveries (all, or only `delivery_ids`) without
    counting an attempt, so that another dispatcher sends them at once."""
    stmt = (
        sa.update(Delivery)
        .where(col(Delivery.status) == PENDING, col(Delivery.lease_owner) == owner)
        .values(lease_owner="", lease_expires_at=None)
    )
    if delivery_ids is not None:
        stmt = stmt.where(col(Delivery.id).in_(delivery_ids))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
