"""Request and response models: a Create / Update / Public schema per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from rules import RuleSyntaxError, parse
from rules.parser import MAX_LENGTH

Name = Annotated[str, Field(min_length=1, max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Interval = Annotated[int, Field(ge=60, le=86_400)]
Ids = Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=1000)]


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# users ---------------------------------------------------------------------------------


class UserCreate(Strict):
    name: Name


class UserCreated(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown only here; store it now.")


# feeds ---------------------------------------------------------------------------------


class FeedCreate(Strict):
    url: Url
    title: Annotated[str, Field(max_length=1000)] | None = None
    interval_seconds: Interval | None = None


class FeedUpdate(Strict):
    title: Annotated[str, Field(max_length=1000)] | None = None
    interval_seconds: Interval | None = None


class FeedPublic(BaseModel):
    id: int
    url: str
    title: str
    interval_seconds: int
    status: str
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    error_count: int
    last_error: str
    article_count: int


class InvalidFeed(BaseModel):
    url: str
    reason: str


class FeedImportResult(BaseModel):
    added: int
    existing: int
    invalid: list[InvalidFeed]


# rules ---------------------------------------------------------------------------------


def check_query(query: str) -> str:
    """Refuse a query that does not parse, with the position of the problem."""
    try:
        parse(query)
    except RuleSyntaxError as exc:
        raise PydanticCustomError(
            "rule_syntax",
            "{message} at {position}",
            {"message": exc.message, "position": exc.position},
        ) from None
    return query


# No length bounds here: `check_query` refuses empty and over-long queries itself, so that
# every refusal carries `ctx.position`.
Query = Annotated[
    str, Field(description=f"A rule (see the rule language); at most {MAX_LENGTH} characters.")
]


class RuleCreate(Strict):
    name: Name
    query: Query
    feed_ids: Ids | None = None
    enabled: bool = True

    _check = field_validator("query")(check_query)


class RuleUpdate(Strict):
    name: Name | None = None
    query: Query | None = None
    feed_ids: Ids | None = None
    enabled: bool | None = None

    @field_validator("query")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        return None if value is None else check_query(value)


class RulePublic(BaseModel):
    id: int
    name: str
    query: str
    feed_ids: list[int] | None
    enabled: bool
    created_at: datetime


class RuleTest(Strict):
    query: Query
    title: Annotated[str, Field(max_length=2000)] = ""
    text: Annotated[str, Field(max_length=200_000)] = ""

    _check = field_validator("query")(check_query)


class RuleTestResult(BaseModel):
    matched: bool
    matched_terms: list[str]
    snippet: str


# hits ----------------------------------------------------------------------------------


class HitArticle(BaseModel):
    id: int
    title: str
    url: str
    published_at: datetime | None
    feed_id: int
    feed_title: str


class RulePreviewItem(BaseModel):
    """A stored article that the rule matches: what it would have alerted."""

    article: HitArticle
    snippet: str
    matched_terms: list[str]


class HitPublic(BaseModel):
    id: int
    rule_id: int
    rule_name: str
    article: HitArticle
    snippet: str
    matched_terms: list[str]
    created_at: datetime


class HitPage(BaseModel):
    items: list[HitPublic]
    next_cursor: str | None


# webhooks ------------------------------------------------------------------------------


class WebhookCreate(Strict):
    url: Url
    rule_ids: Ids | None = None
    secret: (
        Annotated[str, Field(min_length=10, max_length=200, pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
        | None
    ) = None


class WebhookPublic(BaseModel):
    id: int
    url: str
    rule_ids: list[int] | None
    active: bool
    disabled_reason: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="Shown only here; store it now.")


class DeliveryPublic(BaseModel):
    id: int
    event_type: str
    hit_id: int | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None


# telegram ------------------------------------------------------------------------------


class TelegramLinkCreated(BaseModel):
    code: str = Field(description="Send `/start <code>` to the bot; works once, until expires_at.")
    deep_link: str | None = Field(description="Opens the bot with the code; null when unknown.")
    expires_at: datetime
