"""SQLModel tables. Database constraints, not code, enforce the dedupe guarantees:

- one article per canonical URL (`articles.url_hash`), one per (feed, item key);
- one hit per (rule, article), and one per (rule, story) for per-story rules;
- one delivery per (hit, channel).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.types import BigId, UTCDateTime

# Stable constraint names, so that migrations can refer to them on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _fk(
    target: str, *, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True
) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            BigId, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


def _id() -> Any:
    return Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=nullable))


def _text() -> Any:
    return Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, server_default=""))


class User(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"

    id: int | None = _id()
    name: str = Field(max_length=200, unique=True)
    is_admin: bool = Field(default=False)
    created_at: datetime = _ts(nullable=False)
    # Set by the admin: the user's tokens stop working and its channels stop receiving.
    disabled_at: datetime | None = _ts()


class ApiToken(SQLModel, table=True):
    __tablename__: ClassVar[str] = "api_tokens"

    id: int | None = _id()
    user_id: int = _fk("users.id")
    name: str = Field(default="", max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = _ts(nullable=False)
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


class WebSession(SQLModel, table=True):
    """A dashboard sign-in. It lives only while the token it was opened with lives, so a
    revoked token ends its sessions on every replica (each request reads this row)."""

    __tablename__: ClassVar[str] = "web_sessions"

    id: int | None = _id()
    # sha256 of the cookie's random value: a stolen database opens no session.
    session_hash: str = Field(max_length=64, unique=True)
    token_id: int = _fk("api_tokens.id")
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)


class Feed(SQLModel, table=True):
    __tablename__: ClassVar[str] = "feeds"

    id: int | None = _id()
    url: str = Field(max_length=2048, unique=True)
    title: str = Field(default="", max_length=1000)
    site_url: str = Field(default="", max_length=2048)
    language: str = Field(default="", max_length=35)
    # Set by a user; None means the service default. The adaptive interval is separate.
    interval_seconds: int | None = Field(default=None)
    effective_interval_seconds: int | None = Field(default=None)
    status: str = Field(default="new", max_length=16)
    error_count: int = Field(default=0)
    last_error: str = Field(default="", max_length=1000)
    last_polled_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_new_article_at: datetime | None = _ts()
    next_poll_at: datetime = _ts(nullable=False, index=True)
    etag: str = Field(default="", max_length=512)
    last_modified: str = Field(default="", max_length=128)
    body_hash: str = Field(default="", max_length=64)
    # Fetch each item's page: "auto" (when the feed's text is short), "always" or "never".
    full_text: str = Field(
        default="auto",
        sa_column=sa.Column(sa.String(8), nullable=False, server_default="auto"),
    )
    lease_owner: str = Field(default="", max_length=64)
    lease_expires_at: datetime | None = _ts()
    created_by: int | None = _fk("users.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _ts(nullable=False)


class Article(SQLModel, table=True):
    __tablename__: ClassVar[str] = "articles"

    id: int | None = _id()
    # sha256 of the canonical URL: a bounded-length key for the unique index.
    url_hash: str | None = Field(default=None, max_length=64, unique=True)
    url: str = Field(default="", max_length=4096)
    canonical_url: str = Field(default="", max_length=4096)
    title: str = Field(default="", max_length=2000)
    summary: str = _text()
    content: str = _text()
    language: str = Field(default="", max_length=35)
    author: str = Field(default="", max_length=500)
    published_at: datetime | None = _ts(index=True)
    fetched_at: datetime = _ts(nullable=False)
    created_at: datetime = _ts(nullable=False, index=True)
    # The page's main text when it was fetched ("page"); else the feed's text is the best.
    text: str = _text()
    text_source: str = Field(
        default="feed", sa_column=sa.Column(sa.String(8), nullable=False, server_default="feed")
    )
    # "ok", "skipped", "pending" or "failed: <reason>"; the page queue is the rows whose
    # `page_next_at` is set (a lease, as for feeds and deliveries, makes replicas share it).
    page_status: str = Field(
        default="skipped",
        sa_column=sa.Column(sa.String(300), nullable=False, server_default="skipped"),
    )
    page_attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer(), nullable=False, server_default="0")
    )
    page_next_at: datetime | None = _ts(index=True)
    page_lease_owner: str = Field(
        default="", sa_column=sa.Column(sa.String(64), nullable=False, server_default="")
    )
    page_lease_expires_at: datetime | None = _ts()
    # The story the article tells: the id of that story's first article (its own id when
    # it is the first; the oldest one's after two stories merge). Set in the transaction
    # that stores the article; null only for a moment inside it.
    story_id: int | None = Field(
        default=None, sa_column=sa.Column(BigId, nullable=True, index=True)
    )


def _story_key_table(name: str) -> sa.Table:
    """A tier of the story index: (band key, article) pairs, the key first. Without a
    rowid on SQLite, the table is its key's B-tree: one insert a row, not three. No
    foreign key and no time: the window is the articles' `created_at`, and pruning goes
    by article id (ids grow with time); a key whose article is gone joins nothing."""
    return sa.Table(
        name,
        SQLModel.metadata,
        sa.Column("key", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("article_id", BigId, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )


# The story index in two tiers, as a log-structured index keeps it: new keys go to the
# small `story_keys_recent`, whose pages stay few and hot; once it holds
# `store.stories.RECENT_KEYS` rows they move to `story_keys` in one sorted insert. Keys
# are random, so writing each batch's straight into the large table would dirty most of
# its pages every transaction (bench.ingest: 14 of 32 seconds).
STORY_KEYS = _story_key_table("story_keys")
STORY_KEYS_RECENT = _story_key_table("story_keys_recent")


class FeedArticle(SQLModel, table=True):
    __tablename__: ClassVar[str] = "feed_articles"
    __table_args__ = (sa.UniqueConstraint("feed_id", "item_key", name="uq_feed_articles_key"),)

    id: int | None = _id()
    feed_id: int = _fk("feeds.id", index=False)
    article_id: int = _fk("articles.id")
    item_key: str = Field(max_length=64)
    first_seen_at: datetime = _ts(nullable=False)


class Rule(SQLModel, table=True):
    __tablename__: ClassVar[str] = "rules"

    id: int | None = _id()
    user_id: int = _fk("users.id")
    name: str = Field(max_length=200)
    query: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    feed_ids: list[int] | None = _json()
    enabled: bool = Field(default=True)
    # One alert per story (the first copy); false alerts on every copy.
    per_story: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.true())
    )
    created_at: datetime = _ts(nullable=False)
    # Every change bumps updated_at, so that each process's index can sync incrementally;
    # a delete is soft (deleted_at) for the same reason.
    updated_at: datetime = _ts(nullable=False, index=True)
    deleted_at: datetime | None = _ts()


class Hit(SQLModel, table=True):
    __tablename__: ClassVar[str] = "hits"
    __table_args__ = (
        sa.UniqueConstraint("rule_id", "article_id", name="uq_hits_rule_article"),
        # Null for a rule with `per_story` off: NULLs never collide, so every copy hits.
        # Story first: merging two stories finds the hits of one by this index. An index,
        # not a constraint: SQLite adds it without rebuilding the table.
        sa.Index("uq_hits_story_rule", "story_id", "rule_id", unique=True),
        sa.Index("ix_hits_user_id_id", "user_id", "id"),
    )

    id: int | None = _id()
    rule_id: int = _fk("rules.id", index=False)
    article_id: int = _fk("articles.id")
    user_id: int = _fk("users.id", index=False)
    snippet: str = _text()
    matched_terms: list[str] | None = _json()
    created_at: datetime = _ts(nullable=False)
    story_id: int | None = Field(default=None, sa_column=sa.Column(BigId, nullable=True))


class Webhook(SQLModel, table=True):
    __tablename__: ClassVar[str] = "webhooks"

    id: int | None = _id()
    user_id: int = _fk("users.id")
    url: str = Field(max_length=2048)
    # A signing key, so it is kept as is (a hash could not sign); it is never logged.
    secret: str = Field(max_length=200)
    # After a rotation the old secret also signs until `previous_secret_expires_at`, so
    # that a receiver can switch over without dropping a delivery.
    previous_secret: str = Field(default="", max_length=200)
    previous_secret_expires_at: datetime | None = _ts()
    rule_ids: list[int] | None = _json()
    active: bool = Field(default=True)
    disabled_reason: str = Field(default="", max_length=500)
    created_at: datetime = _ts(nullable=False)
    deleted_at: datetime | None = _ts()


class TelegramChat(SQLModel, table=True):
    __tablename__: ClassVar[str] = "telegram_chats"

    id: int | None = _id()
    chat_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, unique=True))
    user_id: int = _fk("users.id")
    title: str = Field(default="", max_length=500)
    chat_type: str = Field(default="private", max_length=32)
    active: bool = Field(default=True)
    paused: bool = Field(default=False)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class TelegramLink(SQLModel, table=True):
    __tablename__: ClassVar[str] = "telegram_links"

    id: int | None = _id()
    user_id: int = _fk("users.id")
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    used_at: datetime | None = _ts()
    chat_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))


class Delivery(SQLModel, table=True):
    """The outbox: one row per (hit, channel), or per ping."""

    __tablename__: ClassVar[str] = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("hit_id", "channel_kind", "channel_id", name="uq_deliveries_channel"),
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_deliveries_channel", "channel_kind", "channel_id", "id"),
    )

    id: int | None = _id()
    hit_id: int | None = _fk("hits.id", nullable=True, index=False)
    user_id: int = _fk("users.id", index=False)
    channel_kind: str = Field(max_length=16)
    channel_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    event_type: str = Field(default="hit.created", max_length=32)
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _ts(nullable=False)
    lease_owner: str = Field(default="", max_length=64)
    lease_expires_at: datetime | None = _ts()
    last_status_code: int | None = Field(default=None)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts()
    # A hit's row waiting for a digest ("held"), or in one ("digested"); or the digest's
    # own delivery (event "digest.created", no hit).
    # (No foreign key: adding one would make SQLite copy the whole outbox on upgrade.)
    digest_id: int | None = Field(
        default=None, sa_column=sa.Column(BigId, nullable=True, index=True)
    )


class ChannelSetting(SQLModel, table=True):
    """How a channel (a webhook, a Telegram chat) wants its alerts: instant, or in hourly
    or daily digests, quiet hours, and a mute. No row means instant, never quiet."""

    __tablename__: ClassVar[str] = "channel_settings"
    __table_args__ = (
        sa.UniqueConstraint("channel_kind", "channel_id", name="uq_channel_settings_channel"),
    )

    id: int | None = _id()
    channel_kind: str = Field(max_length=16)
    channel_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    mode: str = Field(default="instant", max_length=16)
    digest_at: str = Field(default="", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    quiet_hours: str = Field(default="", max_length=11)
    muted_until: datetime | None = _ts()
    next_digest_at: datetime | None = _ts(index=True)
    updated_at: datetime = _ts(nullable=False)


class Channel(SQLModel, table=True):
    """An e-mail address or an Apprise URL that alerts go to. The target is needed to
    send, so it is kept, but the API shows only `display` (the URL with secrets redacted),
    and it is never logged. An e-mail channel sends nothing until confirmed."""

    __tablename__: ClassVar[str] = "channels"

    id: int | None = _id()
    user_id: int = _fk("users.id")
    kind: str = Field(max_length=16)
    target: str = Field(max_length=2048)
    display: str = Field(default="", max_length=2048)
    rule_ids: list[int] | None = _json()
    active: bool = Field(default=True)
    disabled_reason: str = Field(default="", max_length=500)
    confirmed_at: datetime | None = _ts()
    # Signs the confirmation and unsubscribe links of an e-mail channel; never shown.
    link_secret: str = Field(default="", max_length=64)
    created_at: datetime = _ts(nullable=False)
    deleted_at: datetime | None = _ts()


class RuleMute(SQLModel, table=True):
    """A rule snoozed until a time: its hits are recorded, and alert no channel."""

    __tablename__: ClassVar[str] = "rule_mutes"

    id: int | None = _id()
    rule_id: int = Field(
        sa_column=sa.Column(
            BigId, sa.ForeignKey("rules.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    until: datetime = _ts(nullable=False)


class Digest(SQLModel, table=True):
    """One digest for one channel: the hits held until `period_end` (their delivery rows
    point here), sent as one delivery with a stable id."""

    __tablename__: ClassVar[str] = "digests"

    id: int | None = _id()
    user_id: int = _fk("users.id", index=False)
    channel_kind: str = Field(max_length=16)
    channel_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    period_end: datetime = _ts(nullable=False)
    hit_count: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)
    # Parts already received, for a channel that gets a digest in several messages
    # (Telegram): a retry resumes after them.
    parts_sent: int = Field(
        default=0, sa_column=sa.Column(sa.Integer(), nullable=False, server_default="0")
    )


class Lease(SQLModel, table=True):
    """A named job that one replica at a time runs (pruning), until `expires_at`."""

    __tablename__: ClassVar[str] = "leases"

    name: str = Field(primary_key=True, max_length=64)
    owner: str = Field(default="", max_length=64)
    expires_at: datetime | None = _ts()


metadata = SQLModel.metadata


class TelegramSendBudget(SQLModel, table=True):
    """Telegram's flood limits shared by every replica (PostgreSQL): when the next message
    may go, per chat (`key` = its chat id) and for the whole bot (`key` = 0)."""

    __tablename__: ClassVar[str] = "telegram_send_budget"

    key: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False))
    next_at: datetime = _ts(nullable=False)
    # When the last send to the chat started or, once it answered, ended.
    sent_at: datetime | None = _ts()
