"""The outbox: claim due deliveries under a lease, then mark each sent, retried or dead."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import clip, for_update_skip_locked
from store.digests import DIGEST_EVENT, digest_hits
from store.stories import story_summaries
from store.tables import (
    Article,
    Channel,
    Delivery,
    Feed,
    FeedArticle,
    Hit,
    Rule,
    TelegramChat,
    User,
    Webhook,
)
from store.targets import CONFIRM_EVENT, KINDS
from store.values import DeliveryJob

PENDING, SENT, DEAD = "pending", "sent", "dead"
STORY_SOURCES = 20  # feed titles an alert may name, at most


def claim_due_deliveries(
    *,
    session: Session,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    per_channel: int | None = None,
    skip_channels: Collection[tuple[str, int]] = (),
) -> list[DeliveryJob]:
    """Lease up to `limit` due deliveries to `owner` and load what sending them needs.
    A lease that expires (its process died mid-send) makes the delivery due again.
    `per_channel` caps how many one endpoint gets in this claim, so that a slow endpoint's
    backlog cannot fill the batch; `skip_channels` are endpoints the caller has no room for."""
    due: list[sa.ColumnElement[bool]] = [
        col(Delivery.status) == PENDING,
        col(Delivery.next_attempt_at) <= now,
        sa.or_(col(Delivery.lease_expires_at).is_(None), col(Delivery.lease_expires_at) < now),
    ]
    if skip_channels:
        pairs = sa.tuple_(col(Delivery.channel_kind), col(Delivery.channel_id))
        due.append(pairs.not_in(list(skip_channels)))
    order = (col(Delivery.next_attempt_at), col(Delivery.id))
    if per_channel is None:
        candidates = select(Delivery.id).where(*due).order_by(*order).limit(limit)
    else:
        # Rank only the next few due rows by endpoint, so that the cost of a claim stays
        # bounded however deep the backlog is.
        window = (
            select(
                Delivery.id, Delivery.channel_kind, Delivery.channel_id, Delivery.next_attempt_at
            )
            .where(*due)
            .order_by(*order)
            .limit(limit * 4)
            .subquery()
        )
        rank = sa.func.row_number().over(
            partition_by=(window.c.channel_kind, window.c.channel_id),
            order_by=(window.c.next_attempt_at, window.c.id),
        )
        ranked = sa.select(*window.c, rank.label("rank")).subquery()
        candidates = (
            select(ranked.c.id)
            .where(ranked.c.rank <= per_channel)
            .order_by(ranked.c.next_attempt_at, ranked.c.id)
            .limit(limit)
        )
    # Two statements, each with a plan that cannot go wrong: the candidates first, then
    # the lease on those ids. As one statement, PostgreSQL (on a young table whose
    # statistics say it is empty) joined every due row to the ranking again, which took
    # seconds per claim once a few thousand were due.
    ids = list(session.execute(candidates).scalars())
    if not ids:
        return []
    # The due conditions are checked again on the locked rows, so that a row another
    # replica has just leased (or finished) is skipped rather than taken twice.
    still_due = for_update_skip_locked(
        session, select(Delivery.id).where(col(Delivery.id).in_(ids), *due)
    )
    leased = session.connection().execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(still_due))
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(*_DELIVERY)
    )
    return _jobs(session, sorted(leased, key=lambda row: row.id))


# What a job needs of its delivery row: selected as plain columns (as is all of
# `load_jobs`), since building ORM objects for every row was a large part of a claim.
_DELIVERY = (
    col(Delivery.id),
    col(Delivery.hit_id),
    col(Delivery.user_id),
    col(Delivery.channel_kind),
    col(Delivery.channel_id),
    col(Delivery.event_type),
    col(Delivery.attempts),
    col(Delivery.created_at),
    col(Delivery.digest_id),
)


def load_jobs(*, session: Session, delivery_ids: list[int]) -> list[DeliveryJob]:
    """What sending these deliveries needs; a digest's job carries its hits' jobs."""
    rows = session.execute(
        sa.select(*_DELIVERY).where(col(Delivery.id).in_(delivery_ids)).order_by(col(Delivery.id))
    )
    return _jobs(session, list(rows))


def _jobs(session: Session, deliveries: list[Any]) -> list[DeliveryJob]:
    """`load_jobs` for delivery rows already read (`_DELIVERY`), in their order."""
    hits = _hits(session, [d.hit_id for d in deliveries if d.hit_id is not None])
    stories = story_summaries(
        session=session,
        story_ids={h.story_id for h in hits.values() if h.story_id is not None},
        max_sources=STORY_SOURCES,
    )
    webhooks = _by_id(
        session,
        Webhook,
        [d.channel_id for d in deliveries if d.channel_kind == "webhook"],
        "active",
        "deleted_at",
        "url",
        "secret",
        "previous_secret",
        "previous_secret_expires_at",
    )
    chats = _by_id(
        session,
        TelegramChat,
        [d.channel_id for d in deliveries if d.channel_kind == "telegram"],
        "active",
        "chat_id",
    )
    others = _by_id(
        session,
        Channel,
        [d.channel_id for d in deliveries if d.channel_kind in KINDS],
        "active",
        "deleted_at",
        "confirmed_at",
        "target",
        "link_secret",
    )
    digests = [d.digest_id for d in deliveries if d.event_type == DIGEST_EVENT and d.digest_id]
    in_digest = digest_hits(session=session, digest_ids=digests)
    parts = (
        {
            j.id: j
            for j in load_jobs(
                session=session, delivery_ids=[i for ids in in_digest.values() for i in ids]
            )
        }
        if digests
        else {}
    )
    disabled = set(
        session.exec(
            select(User.id).where(
                col(User.id).in_({d.user_id for d in deliveries}),
                col(User.disabled_at).is_not(None),
            )
        )
    )

    jobs = []
    for d in deliveries:
        fields: dict[str, Any] = {}
        if d.digest_id is not None and d.event_type == DIGEST_EVENT:
            fields.update(
                digest_id=d.digest_id,
                digest_hits=tuple(parts[i] for i in in_digest.get(d.digest_id, ()) if i in parts),
            )
        if d.channel_kind == "webhook":
            w = webhooks.get(d.channel_id)
            fields.update(
                target_active=bool(w and w.active and w.deleted_at is None),
                webhook_url=w.url if w else "",
                webhook_secret=w.secret if w else "",
                webhook_previous_secret=w.previous_secret if w else "",
                webhook_previous_secret_until=w.previous_secret_expires_at if w else None,
            )
        elif d.channel_kind in KINDS:
            ch = others.get(d.channel_id)
            # Only the confirmation message goes to an address not confirmed yet.
            opted_in = ch is not None and (ch.confirmed_at or d.event_type == CONFIRM_EVENT)
            live = ch is not None and ch.active and ch.deleted_at is None and opted_in
            fields.update(
                target_active=bool(live),
                channel_target=ch.target if ch else "",
                channel_secret=ch.link_secret if ch else "",
            )
        else:
            c = chats.get(d.channel_id)
            fields.update(target_active=bool(c and c.active), chat_id=c.chat_id if c else 0)
        if d.user_id in disabled:
            fields["target_active"] = False
        h = hits.get(d.hit_id) if d.hit_id is not None else None
        if h is not None:
            fields.update(
                hit_id=h.hit_id,
                hit_created_at=h.hit_created_at,
                snippet=h.snippet,
                matched_terms=tuple(h.matched_terms or ()),
                rule_id=h.rule_id,
                rule_name=h.rule_name,
                rule_query=h.rule_query,
                article_id=h.article_id,
                article_title=h.article_title,
                article_url=h.article_url,
                article_summary=h.article_summary,
                article_published_at=h.article_published_at,
                feed_id=h.feed_id or 0,
                feed_title=h.feed_title or "",
                feed_url=h.feed_url or "",
            )
            story = stories.get(h.story_id or 0)
            if story is not None:
                fields.update(
                    story_id=story.id,
                    story_articles=story.articles,
                    story_sources=story.sources,
                )
        jobs.append(
            DeliveryJob(
                id=d.id,
                event_type=d.event_type,
                channel_kind=d.channel_kind,
                channel_id=d.channel_id,
                attempts=d.attempts,
                created_at=d.created_at,
                **fields,
            )
        )
    return jobs


def _hits(session: Session, hit_ids: list[int]) -> dict[int, Any]:
    """Each hit with its rule, its article and the feed the article was first seen in,
    in one statement."""
    if not hit_ids:
        return {}
    first_feed = (
        select(FeedArticle.feed_id)
        .where(col(FeedArticle.article_id) == Article.id)
        .order_by(col(FeedArticle.id))
        .limit(1)
        .correlate(Article)
        .scalar_subquery()
    )
    stmt: Any = (
        sa.select(
            col(Hit.id).label("hit_id"),
            col(Hit.created_at).label("hit_created_at"),
            col(Hit.snippet),
            col(Hit.matched_terms),
            col(Rule.id).label("rule_id"),
            col(Rule.name).label("rule_name"),
            col(Rule.query).label("rule_query"),
            col(Article.id).label("article_id"),
            col(Article.title).label("article_title"),
            col(Article.url).label("article_url"),
            col(Article.summary).label("article_summary"),
            col(Article.published_at).label("article_published_at"),
            col(Article.story_id),
            col(Feed.id).label("feed_id"),
            col(Feed.title).label("feed_title"),
            col(Feed.url).label("feed_url"),
        )
        .join(Rule, col(Rule.id) == Hit.rule_id)
        .join(Article, col(Article.id) == Hit.article_id)
        .outerjoin(Feed, col(Feed.id) == first_feed)
        .where(col(Hit.id).in_(hit_ids))
    )
    return {row.hit_id: row for row in session.execute(stmt)}


def _by_id(session: Session, table: Any, ids: list[int], *names: str) -> dict[int, Any]:
    """These columns of the rows with these ids, by id (plain rows, not ORM objects)."""
    if not ids:
        return {}
    columns = [getattr(table, name) for name in ("id", *names)]
    return {row.id: row for row in session.execute(select(*columns).where(table.id.in_(ids)))}


def _finish(
    session: Session,
    delivery_ids: Collection[int],
    owner: str,
    values: dict[str, Any],
    count: bool = True,
) -> set[int]:
    """Apply `values` to the deliveries this owner still holds; return those updated.
    `count` adds the try to `attempts` (a deferral that never tried does not)."""
    # Only the lease holder finishes a delivery; a lease lost to expiry means another
    # process took over, and its outcome wins.
    stmt = (
        sa.update(Delivery)
        .where(
            col(Delivery.id).in_(list(delivery_ids)),
            col(Delivery.status) == PENDING,
            col(Delivery.lease_owner) == owner,
        )
        .values(
            lease_owner="",
            lease_expires_at=None,
            attempts=Delivery.attempts + (1 if count else 0),
            **values,
        )
        .returning(col(Delivery.id))
    )
    # Core, not the ORM: no session objects to synchronise, and a cheaper statement.
    return {i for i in session.connection().execute(stmt).scalars() if i is not None}


def mark_sent(
    *, session: Session, delivery_id: int, owner: str, now: datetime, status_code: int | None
) -> bool:
    return bool(
        mark_sent_many(
            session=session,
            delivery_ids=[delivery_id],
            owner=owner,
            now=now,
            status_code=status_code,
        )
    )


def mark_sent_many(
    *,
    session: Session,
    delivery_ids: Collection[int],
    owner: str,
    now: datetime,
    status_code: int | None,
) -> set[int]:
    """Mark many deliveries sent in one statement; return the ids this owner still held."""
    return _finish(
        session,
        delivery_ids,
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
    return bool(
        _finish(
            session,
            [delivery_id],
            owner,
            {
                "next_attempt_at": next_attempt_at,
                "updated_at": now,
                "last_status_code": status_code,
                "last_error": clip(error, 1000),
            },
            count_attempt,
        )
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
    return bool(
        _finish(
            session,
            [delivery_id],
            owner,
            {
                "status": DEAD,
                "updated_at": now,
                "last_status_code": status_code,
                "last_error": clip(error, 1000),
            },
        )
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


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How far behind the outbox is: pending deliveries and the oldest one's creation."""

    pending: int
    oldest_pending_at: datetime | None


def outbox_stats(*, session: Session) -> OutboxStats:
    """Pending deliveries and the creation time of the oldest (the index on status helps)."""
    count, oldest = session.execute(
        select(sa.func.count(), sa.func.min(col(Delivery.created_at))).where(
            col(Delivery.status) == PENDING
        )
    ).one()
    return OutboxStats(int(count), oldest)


def get_delivery(*, session: Session, delivery_id: int, user_id: int) -> Delivery | None:
    """A delivery, only if `user_id` owns it."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.user_id != user_id:
        return None
    return delivery


def redeliver(*, session: Session, delivery_id: int, now: datetime) -> bool:
    """Make a dead delivery due again now (a retry by hand). False if it is not dead."""
    stmt = (
        sa.update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == DEAD)
        .values(
            status=PENDING,
            next_attempt_at=now,
            updated_at=now,
            lease_owner="",
            lease_expires_at=None,
        )
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


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
