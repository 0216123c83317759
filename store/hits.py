"""Hits, and their fan-out into the outbox, in the caller's (the ingest) transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store._sql import insert_ignore, insert_ignore_many
from store.articles import first_feeds
from store.channels import HELD, schedule_of
from store.schedule import holds_now
from store.tables import (
    Article,
    Channel,
    ChannelSetting,
    Hit,
    Rule,
    RuleMute,
    TelegramChat,
    User,
    Webhook,
    metadata,
)
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
    """`record_hits_and_enqueue`, returning (hit id, article id) of the new hits.
    A rule with `per_story` hits a story once: a later copy (its article already in the
    story, see `store.stories`) finds the hit taken, and sends nothing."""
    if not hits:
        return []
    rules: dict[int, tuple[int, bool]] = {}
    muted: set[int] = set()
    for rule_id, user_id, per_story_rule, muted_until in session.execute(
        _LIVE_RULES, {"rule_ids": sorted({h.rule_id for h in hits})}
    ):
        rules[rule_id] = (user_id, per_story_rule)
        if muted_until is not None and muted_until > now:
            muted.add(rule_id)  # its hits are recorded, and alert no one
    owners = {rule_id: user_id for rule_id, (user_id, _) in rules.items()}
    story_of = _stories_of(session, {h.article_id for h in hits if h.rule_id in rules})
    channels, settings = _channels(session, set(owners.values()))
    rows: dict[tuple[int, int], dict[str, object]] = {}
    per_story: set[tuple[int, int]] = set()
    for h in hits:
        if h.rule_id not in rules:  # deleted or disabled since the index last synced
            continue
        story = story_of.get(h.article_id) if rules[h.rule_id][1] else None
        if story is not None:
            if (h.rule_id, story) in per_story:  # two copies in one batch: the first
                continue
            per_story.add((h.rule_id, story))
        rows[(h.rule_id, h.article_id)] = {
            "rule_id": h.rule_id,
            "article_id": h.article_id,
            "user_id": owners[h.rule_id],
            "snippet": h.snippet,
            "matched_terms": list(h.matched_terms),
            "created_at": now,
            "story_id": story,
        }
    if not rows:
        return []
    # One multi-row statement each for hits and deliveries: an ingest holds SQLite's
    # single write lock while it runs, so it has to be short. No conflict target: a row
    # that collides on (rule, article) or on (rule, story) is skipped alike.
    inserted = insert_ignore_many(
        session,
        metadata.tables["hits"],
        list(rows.values()),
        None,
        ("id", "rule_id", "article_id"),
    )
    new_ids: list[tuple[int, int]] = []
    status = {c: _status(setting, now) for c, setting in settings.items()}
    targets: dict[int, list[tuple[str, int, str]]] = {}
    for _, rule_id, _ in inserted:
        if rule_id in targets or rule_id in muted:
            continue
        targets[rule_id] = [
            (kind, channel_id, state)
            for kind, channel_id, rule_ids in channels[owners[rule_id]]
            if rule_ids is None or rule_id in rule_ids
            if (state := status.get((kind, channel_id), "pending"))
        ]
    deliveries = []
    for hit_id, rule_id, article_id in sorted(inserted):
        new_ids.append((hit_id, article_id))
        deliveries += [
            _delivery_row(owners[rule_id], kind, channel_id, now, hit_id, "hit.created", status)
            for kind, channel_id, status in targets.get(rule_id, ())
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


def _status(setting: ChannelSetting, now: datetime) -> str | None:
    """What a new delivery to a channel with these settings starts as: "pending" (sent at
    once), "held" (for a digest), or None (the channel is muted: no delivery at all)."""
    if setting.muted_until is not None and setting.muted_until > now:
        return None
    return HELD if holds_now(schedule_of(setting), now) else "pending"


Target = tuple[str, int, "list[int] | None"]  # (kind, channel id, rule_ids)


def _stories_of(session: Session, article_ids: set[int]) -> dict[int, int]:
    """The story of each article (assigned earlier in the ingest transaction)."""
    if not article_ids:
        return {}
    rows = session.exec(
        select(Article.id, Article.story_id).where(col(Article.id).in_(article_ids))
    ).all()
    return {a: s for a, s in rows if a is not None and s is not None}


def _channels(
    session: Session, user_ids: set[int]
) -> tuple[dict[int, list[Target]], dict[tuple[str, int], ChannelSetting]]:
    """Per user, the channels a hit may go to (webhooks, Telegram chats, e-mail and Apprise
    channels), and the settings rows those channels have: one statement for all."""
    targets: dict[int, list[Target]] = defaultdict(list)
    settings: dict[tuple[str, int], ChannelSetting] = {}
    if not user_ids:
        return targets, settings
    # A disabled user's channels receive nothing.
    enabled = session.execute(_ENABLED_USERS, {"user_ids": sorted(user_ids)}).scalars()
    user_ids = {user_id for user_id in enabled if user_id is not None}
    if not user_ids:
        return targets, settings
    for row in session.execute(_LIVE_CHANNELS, {"user_ids": sorted(user_ids)}):
        kind, channel_id, user_id, rule_ids, mode, at, zone, quiet, muted = row
        targets[user_id].append((kind, channel_id, rule_ids))
        if mode is not None:
            settings[(kind, channel_id)] = ChannelSetting(
                channel_kind=kind,
                channel_id=channel_id,
                mode=mode,
                digest_at=at,
                timezone=zone,
                quiet_hours=quiet,
                muted_until=muted,
            )
    return targets, settings


def _with_setting(kind: Any, table: Any, rule_ids: Any) -> sa.Select[Any]:
    """A channel table's (kind, id, user, rule_ids) with its settings, if it has any."""
    on = sa.and_(
        col(ChannelSetting.channel_kind) == kind, col(ChannelSetting.channel_id) == table.id
    )
    return sa.select(
        kind.label("kind"),
        table.id,
        table.user_id,
        rule_ids.label("rule_ids"),
        col(ChannelSetting.mode),
        col(ChannelSetting.digest_at),
        col(ChannelSetting.timezone),
        col(ChannelSetting.quiet_hours),
        col(ChannelSetting.muted_until),
    ).outerjoin(ChannelSetting, on)


# The statements every ingest runs, built once with expanding parameters: building and
# keying a UNION of three joined SELECTs for each batch cost more CPU than running it.
_RULE_IDS: sa.BindParameter[list[int]] = sa.bindparam("rule_ids", expanding=True)
_USER_IDS: sa.BindParameter[list[int]] = sa.bindparam("user_ids", expanding=True)
_LIVE_RULES = (
    select(Rule.id, Rule.user_id, Rule.per_story, RuleMute.until)
    .outerjoin(RuleMute, col(RuleMute.rule_id) == Rule.id)
    .where(col(Rule.id).in_(_RULE_IDS), col(Rule.deleted_at).is_(None), col(Rule.enabled).is_(True))
)
_ENABLED_USERS = select(col(User.id)).where(
    col(User.id).in_(_USER_IDS), col(User.disabled_at).is_(None)
)
_LIVE_CHANNELS = sa.union_all(
    _with_setting(sa.literal(WEBHOOK), Webhook, col(Webhook.rule_ids)).where(
        col(Webhook.user_id).in_(_USER_IDS),
        col(Webhook.active).is_(True),
        col(Webhook.deleted_at).is_(None),
    ),
    _with_setting(sa.literal(TELEGRAM), TelegramChat, sa.cast(sa.null(), sa.JSON)).where(
        col(TelegramChat.user_id).in_(_USER_IDS),
        col(TelegramChat.active).is_(True),
        col(TelegramChat.paused).is_(False),
    ),
    _with_setting(col(Channel.kind), Channel, col(Channel.rule_ids)).where(
        col(Channel.user_id).in_(_USER_IDS),
        col(Channel.active).is_(True),
        col(Channel.deleted_at).is_(None),
        col(Channel.confirmed_at).is_not(None),  # e-mail: double opt-in
    ),
)


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
    user_id: int,
    kind: str,
    channel_id: int,
    now: datetime,
    hit_id: int | None,
    event_type: str,
    status: str = "pending",
) -> dict[str, object]:
    return {
        "hit_id": hit_id,
        "user_id": user_id,
        "channel_kind": kind,
        "channel_id": channel_id,
        "event_type": event_type,
        "status": status,
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
    story_id: int | None = None,
) -> list[HitView]:
    """A user's hits, newest first (keyset on id; `after_id` for those newer than one seen;
    `story_id` for those on the copies of one story)."""
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
    if story_id is not None:
        stmt = stmt.where(Article.story_id == story_id)
    rows = list(session.exec(stmt))
    feeds = first_feeds(session=session, article_ids=[a.id for _, _, a in rows if a.id])
    return [
        HitView(hit, name, article, *feeds.get(article.id or 0, (0, "")))
        for hit, name, article in rows
    ]
