"""Plain values that cross the store's boundary, in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ArticleLike(Protocol):
    """What `insert_new_articles` needs of a normalised article (see `monitor.Article`)."""

    @property
    def item_key(self) -> str: ...
    @property
    def canonical_url(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def published_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored, with its id; what matching and alerting see."""

    id: int
    url: str
    title: str
    summary: str
    content: str
    language: str
    published_at: datetime | None
    fetched_at: datetime
    item_key: str = ""  # set on what `insert_new_articles` returns


@dataclass(frozen=True, slots=True)
class NewHit:
    """A (rule, article) match to record, with its explanation."""

    rule_id: int
    article_id: int
    snippet: str
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedClaim:
    """A feed leased to one poller until `lease_expires_at`."""

    id: int
    url: str
    title: str
    etag: str
    last_modified: str
    body_hash: str
    interval_seconds: int | None
    effective_interval_seconds: int | None
    error_count: int
    last_polled_at: datetime | None
    lease_owner: str
    lease_expires_at: datetime
    # When this poll was due: the next one is due an interval later (a steady cadence).
    due_at: datetime | None = None
    full_text: str = "auto"  # the feed's page mode: "auto", "always" or "never"


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of a feed changed in its state."""

    status: str  # "ok" | "not_modified" | "unchanged" | "error"
    next_poll_at: datetime
    effective_interval_seconds: int | None = None
    error: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None
    site_url: str | None = None
    language: str | None = None
    new_articles: int = 0


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A rule as the matching index needs it, including deleted ones (for sync)."""

    id: int
    user_id: int
    query: str
    feed_ids: tuple[int, ...] | None
    active: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """Everything a notifier needs to send one claimed delivery; no further queries."""

    id: int
    event_type: str
    channel_kind: str
    channel_id: int
    attempts: int
    created_at: datetime
    # The target: a webhook (url, secret) or a Telegram chat (chat_id).
    target_active: bool
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)  # never in a log line
    # During a secret rotation the old secret signs too, until this time.
    webhook_previous_secret: str = field(default="", repr=False)
    webhook_previous_secret_until: datetime | None = None
    chat_id: int = 0
    # An e-mail address or an Apprise URL (secrets inside: never in a log line).
    channel_target: str = field(default="", repr=False)
    channel_secret: str = field(default="", repr=False)  # signs an e-mail's links
    # The hit, absent for a ping.
    hit_id: int | None = None
    hit_created_at: datetime | None = None
    snippet: str = ""
    matched_terms: tuple[str, ...] = ()
    rule_id: int = 0
    rule_name: str = ""
    rule_query: str = ""
    article_id: int = 0
    article_title: str = ""
    article_url: str = ""
    article_summary: str = ""
    article_published_at: datetime | None = None
    feed_id: int = 0
    feed_title: str = ""
    feed_url: str = ""
    # A digest ("digest.created"): its id, and its hits as jobs of their own.
    digest_id: int | None = None
    digest_hits: tuple[DeliveryJob, ...] = ()
    # The article's story as known when the delivery was claimed: its size, and the
    # feeds its copies ran in (first seen first, this article's own feed included).
    story_id: int | None = None
    story_articles: int = 0
    story_sources: tuple[str, ...] = ()
