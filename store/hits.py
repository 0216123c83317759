"""Hits, and their fan-out into the outbox, in the caller's (the ingest) transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from store._sql import insert_ignore, insert_ignore_many
from store.articles import first_feeds
from store.tables import Article, Hit, Rule, TelegramChat, User, Webhook, metadata
from store.values import NewHit

WEBHOOK = "webhook"
TELEGRAM = "telegram"


def record_hits_and_enqueue(
    *, session: Session, hits: Sequence[NewHit], now: datetime
) -> list[int]:
    """Insert hits (one per rule and article) and one delivery per (hit, active channel).
    Returns the ids of hits that are new. Call it in the same transaction as the articles."""
    return [hit_id for hit_id, _ in record_hits(session=session, hits=hits, now=now)]


def record_hits(
    *, session: Session, hits: Sequence[NewHit], now: datetime
) -> list[tuple[int, int]]:
    """`record_hits_and_enqueue`, returning (hit id, article id) of the new hits."""
    if not hits:
        return []
    owners = dict(
        session.exec(
            select(Rule.id, Rule.user_id).where(
                col(Rule.id).in_({h.rule_id for h in hits}),
                col(Rule.deleted_at).is_(None),
                col(Rule.enabled).is_(True),
            )
        ).all()
    )
    webhooks, chats = _channels(session, set(owners.values()))
    rows = {
        (h.rule_id, h.article_id): {
            "rule_id": h.rule_id,
            "article_id": h.article_id,
            "user_id": owners[h.rule_id],
            "snippet": h.snippet,
            "matched_terms": list(h.matched_terms),
            "created_at": now,
        }
        for h in hits
        if h.rule_id in owners  # else deleted or disabled since the index last synced
    }
    if not rows:
        return []
    # One multi-row statement each for hits and deliveries: an ingest holds SQLite's
    # single write lock while it runs, so it has to be short.
    inserted = insert_ignore_many(
        session,
        metadata.tables["hits"],
        list(rows.values()),
        ["rule_id", "article_id"],
        ("id", "rule_id", "article_id"),
    )
    new_ids: list[tuple[int, int]] = []
    deliveries = []
    for hit_id, rule_id, article_id in sorted(inserted):
        new_ids.append((hit_id, article_id))
        user_id = owners[rule_id]
        targets = [
            (WEBHOOK, w.id)
            for w in webhooks[user_id]
            if w.rule_ids is None or rule_id in w.rule_ids
        ] + [(TELEGRAM, c.id) for c in chats[user_id]]
        deliveries += [
            _delivery_row(user_id, kind, channel_id or 0, now, hit_id, "hit.created")
            for kind, channel_id in targets
        ]
    if deliveries:
        insert_ignore_many(
            session,
            metadata.tables["deliveries"],
            deliveries,
            ["hit_id", "channel_kind", "channel_id"],
            ("id",),
        )
    return new_ids


def _channels(
    session: Session, user_ids: set[int]
) -> tuple[dict[int, list[Webhook]], dict[int, list[TelegramChat]]]:
    webhooks: dict[int, list[Webhook]] = defaultdict(list)
    chats: dict[int, list[TelegramChat]] = defaultdict(list)
    if not user_ids:
        return webhooks, chats
    # A disabled user's channels receive nothing.
    enabled = select(col(User.id)).where(
        col(User.id).in_(user_ids), col(User.disabled_at).is_(None)
    )
    user_ids = {user_id for user_id in session.exec(enabled) if user_id is not None}
    for w in session.exec(
        select(Webhook).where(
            col(Webhook.user_id).in_(user_ids),
            col(Webhook.active).is_(True),
            col(Webhook.deleted_at).is_(None),
        )
    ):
        webhooks[w.user_id].append(w)
    for c in session.exec(
        select(TelegramChat).where(
            col(TelegramChat.user_id).in_(user_ids),
            col(TelegramChat.active).is_(True),
            col(TelegramChat.paused).is_(False),
        )
    ):
        chats[c.user_id].append(c)
    return webhooks, chats


def hit_article_ids(*, session: Session, rule_id: int, article_ids: Sequence[int]) -> set[int]:
    """Which of these articles the rule has a hit on already."""
    if not article_ids:
        return set()
    stmt = select(Hit.article_id).where(
        Hit.rule_id == rule_id, col(Hit.article_id).in_(article_ids)
    )
    return set(session.exec(stmt))


def enqueue(
    *,
    session: Session,
    user_id: int,
    kind: str,
    channel_id: int,
    now: datetime,
    hit_id: int | None = None,
    event_type: str = "hit.created",
) -> int | None:
    """Add one outbox row, due now. None when that (hit, channel) is already queued."""
    return insert_ignore(
        session,
        metadata.tables["deliveries"],
        _delivery_row(user_id, kind, channel_id, now, hit_id, event_type),
        ["hit_id", "channel_kind", "channel_id"],
    )


def _delivery_row(
    user_id: int, kind: str, channel_id: int, now: datetime, hit_id: int | None, event_type: str
) -> dict[str, object]:
    return {
        "hit_id": hit_id,
        "user_id": user_id,
        "channel_kind": kind,
        "channel_id": channel_id,
        "event_type": event_type,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_owner": "",
        "last_error": "",
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True, slots=True)
class HitView:
    hit: Hit
    rule_name: str
    article: Article
    feed_id: int
    feed_title: str


CURSOR_DIGITS = 18  # any id below 10**18 fits an int64, so every such cursor decodes


def encode_cursor(item_id: int, kind: str = "h") -> str:
    """A keyset cursor: the last id seen, after a letter naming what it is an id of
    ("h41"). Plain, so that the API can declare its exact pattern."""
    return f"{kind}{item_id}"


def cursor_pattern(kind: str) -> str:
    """The regular expression every cursor of this kind matches, and only those."""
    return f"^{kind}[0-9]{{1,{CURSOR_DIGITS}}}$"


def decode_cursor(cursor: str, kind: str = "h") -> int:
    """The id inside a cursor; ValueError when it is not one of ours (for this `kind`)."""
    if not re.fullmatch(cursor_pattern(kind), cursor):
        raise ValueError(f"invalid cursor {cursor!r}")
    return int(cursor[len(kind) :])


def list_hits(
    *,
    session: Session,
    user_id: int,
    limit: int,
    rule_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
) -> list[HitView]:
    """A user's hits, newest first (keyset on id; `after_id` for those newer than one seen)."""
    stmt = (
        select(Hit, Rule.name, Article)
        .join(Rule, col(Rule.id) == Hit.rule_id)
        .join(Article, col(Article.id) == Hit.article_id)
        .where(Hit.user_id == user_id)
        .order_by(col(Hit.id).desc())
        .limit(limit)
    )
    if rule_id is not None:
        stmt = stmt.where(Hit.rule_id == rule_id)
    if since is not None:
        stmt = stmt.where(col(Hit.created_at) >= since)
    if before_id is not None:
        stmt = stmt.where(col(Hit.id) < before_id)
    if after_id is not None:
        stmt = stmt.where(col(Hit.id) > after_id)
    rows = list(session.exec(stmt))
    feeds = first_feeds(session=session, article_ids=[a.id for _, _, a in rows if a.id])
    return [
        HitView(hit, name, article, *feeds.get(article.id or 0, (0, "")))
        for hit, name, article in rows
    ]
