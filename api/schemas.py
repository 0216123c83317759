"""Request and response models: a Create / Update / Public schema per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from rules import RuleSyntaxError, parse
from rules.parser import MAX_LENGTH

Name = Annotated[str, Field(min_length=1, max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Interval = Annotated[int, Field(ge=60, le=86_400)]
FullText = Literal["auto", "always", "never"]
Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(max_length=1000)]


def _no_nul(value: object) -> object:
    # PostgreSQL text cannot hold NUL; refuse it at the edge for both databases.
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "text must not contain NUL characters")
    return value


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped; text never holds NUL."""

    model_config = ConfigDict(extra="forbid")

    _no_nul = field_validator("*", mode="before")(_no_nul)


# users ---------------------------------------------------------------------------------


class UserCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "newsroom"}]})

    name: Name


class UserCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 2, "name": "newsroom", "token": "nw_3q2…"}]}
    )

    id: int
    name: str
    token: str = Field(description="Shown only here; store it now.")


# feeds ---------------------------------------------------------------------------------


class FeedCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"url": "https://www.antaranews.com/rss/terkini.xml", "interval_seconds": 600}
            ]
        }
    )

    url: Url
    title: Annotated[str, Field(max_length=1000)] | None = None
    interval_seconds: Interval | None = None
    full_text: FullText = Field(
        "auto", description="Fetch each item's page: when the feed's text is short, always, never"
    )


class FeedUpdate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Antara: latest", "interval_seconds": 900}]}
    )

    title: Annotated[str, Field(max_length=1000)] | None = None
    interval_seconds: Interval | None = None
    full_text: FullText | None = None


class FeedPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "url": "https://www.antaranews.com/rss/terkini.xml",
                    "title": "Antara",
                    "interval_seconds": 600,
                    "status": "ok",
                    "last_polled_at": "2026-11-27T12:00:00Z",
                    "next_poll_at": "2026-11-27T12:10:00Z",
                    "error_count": 0,
                    "last_error": "",
                    "article_count": 120,
                    "full_text": "auto",
                }
            ]
        }
    )

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
    full_text: str


class ArticlePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 9,
                    "title": "ByteDance jajaki chip AI Huawei",
                    "url": "https://www.antaranews.com/berita/1",
                    "canonical_url": "https://www.antaranews.com/berita/1",
                    "published_at": "2026-11-27T12:00:00Z",
                    "lang": "id",
                    "feed_id": 1,
                    "summary": "ByteDance dilaporkan tengah menjajaki kerja sama baru…",
                    "text": "ByteDance dilaporkan … chip Ascend 910B buatan Huawei …",
                    "text_source": "page",
                    "page_status": "ok",
                }
            ]
        }
    )

    id: int
    title: str
    url: str
    canonical_url: str
    published_at: datetime | None
    lang: str
    feed_id: int | None = Field(description="The feed the article was first seen in")
    summary: str
    text: str = Field(description="The best text: the page's main text, else the feed's")
    text_source: Literal["feed", "page"]
    page_status: str = Field(description='"ok", "skipped", "pending" or "failed: <reason>"')


class InvalidFeed(BaseModel):
    url: str
    reason: str


class FeedImportResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": 41,
                    "existing": 2,
                    "invalid": [
                        {
                            "url": "file:///etc/passwd",
                            "reason": "only http and https URLs are allowed, not file scheme",
                        }
                    ],
                }
            ]
        }
    )

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
    except RecursionError:
        # A long chain of NOT / - can outrun the parser's own depth limit.
        raise PydanticCustomError(
            "rule_syntax",
            "{message} at {position}",
            {"message": "the query is nested too deeply", "position": 0},
        ) from None
    return query


# No length bounds here: `check_query` refuses empty and over-long queries itself, so that
# every refusal carries `ctx.position`.
Query = Annotated[
    str, Field(description=f"A rule (see the rule language); at most {MAX_LENGTH} characters.")
]


class RuleCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "bd-hw",
                    "query": "ByteDance AND Huawei",
                    "feed_ids": None,
                    "enabled": True,
                }
            ]
        }
    )

    name: Name
    query: Query
    feed_ids: Ids | None = None
    enabled: bool = True

    _check = field_validator("query")(check_query)


class RuleUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    name: Name | None = None
    query: Query | None = None
    feed_ids: Ids | None = None
    enabled: bool | None = None

    @field_validator("query")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        return None if value is None else check_query(value)


class RulePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "bd-hw",
                    "query": "ByteDance AND Huawei",
                    "feed_ids": None,
                    "enabled": True,
                    "created_at": "2026-11-27T12:00:00Z",
                }
            ]
        }
    )

    id: int
    name: str
    query: str
    feed_ids: list[int] | None
    enabled: bool
    created_at: datetime


class RuleTest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "ByteDance AND Huawei",
                    "title": "ByteDance and Huawei sign a deal",
                    "text": "",
                }
            ]
        }
    )

    query: Query
    title: Annotated[str, Field(max_length=2000)] = ""
    text: Annotated[str, Field(max_length=200_000)] = ""

    _check = field_validator("query")(check_query)


class RuleTestResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "matched": True,
                    "matched_terms": ["bytedance", "huawei"],
                    "snippet": "**ByteDance** and **Huawei** sign a deal",
                }
            ]
        }
    )

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


_ARTICLE_EXAMPLE: JsonDict = {
    "id": 9,
    "title": "ByteDance and Huawei sign a deal",
    "url": "https://example.com/a",
    "published_at": "2026-11-27T12:00:00Z",
    "feed_id": 1,
    "feed_title": "Antara",
}


class RulePreviewItem(BaseModel):
    """A stored article that the rule matches: what it would have alerted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "article": _ARTICLE_EXAMPLE,
                    "snippet": "**ByteDance** and **Huawei** sign a deal",
                    "matched_terms": ["bytedance", "huawei"],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 41,
                            "rule_id": 3,
                            "rule_name": "bd-hw",
                            "article": _ARTICLE_EXAMPLE,
                            "snippet": "**ByteDance** and **Huawei** sign a deal",
                            "matched_terms": ["bytedance", "huawei"],
                            "created_at": "2026-11-27T12:00:00Z",
                        }
                    ],
                    "next_cursor": "aDQx",
                }
            ]
        }
    )

    items: list[HitPublic]
    next_cursor: str | None


# webhooks ------------------------------------------------------------------------------


class WebhookCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://example.com/hooks/newswatch", "rule_ids": [3]}]
        }
    )

    url: Url
    rule_ids: Ids | None = None
    secret: (
        Annotated[str, Field(min_length=10, max_length=200, pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
        | None
    ) = None


_WEBHOOK_EXAMPLE: JsonDict = {
    "id": 5,
    "url": "https://example.com/hooks/newswatch",
    "rule_ids": [3],
    "active": True,
    "disabled_reason": "",
    "created_at": "2026-11-27T12:00:00Z",
}


class WebhookPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WEBHOOK_EXAMPLE]})

    id: int
    url: str
    rule_ids: list[int] | None
    active: bool
    disabled_reason: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str = Field(description="Shown only here; store it now.")


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "event_type": "hit.created",
                    "hit_id": 41,
                    "status": "sent",
                    "attempts": 1,
                    "last_status_code": 200,
                    "last_error": "",
                    "created_at": "2026-11-27T12:00:00Z",
                    "updated_at": "2026-11-27T12:00:00Z",
                    "next_attempt_at": None,
                    "sent_at": "2026-11-27T12:00:00Z",
                }
            ]
        }
    )

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


# tokens --------------------------------------------------------------------------------


class TokenCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ci"}]})

    name: Name


class TokenPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 4, "name": "ci", "prefix": "nw_Xq9z1b", "created_at": "2026-11-27T12:00:00Z"}
            ]
        }
    )

    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to tell tokens apart.")
    created_at: datetime


class TokenCreated(TokenPublic):
    token: str = Field(description="Shown only here; store it now.")


# small answers -------------------------------------------------------------------------


class Queued(BaseModel):
    """A 202 answer: the work is queued."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "queued", "delivery_id": 12}]}
    )

    status: str
    delivery_id: int | None = None


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str
    detail: str | None = None


class DeliveryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 12,
                            "event_type": "hit.created",
                            "hit_id": 41,
                            "status": "sent",
                            "attempts": 1,
                            "last_status_code": 200,
                            "last_error": "",
                            "created_at": "2026-11-27T12:00:00Z",
                            "updated_at": "2026-11-27T12:00:01Z",
                            "next_attempt_at": None,
                            "sent_at": "2026-11-27T12:00:01Z",
                        }
                    ],
                    "next_cursor": "ZDEy",
                }
            ]
        }
    )

    items: list[DeliveryPublic]
    next_cursor: str | None


# telegram ------------------------------------------------------------------------------


class TelegramLinkCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "Xq9z1bK3",
                    "deep_link": "https://t.me/newswatch_bot?start=Xq9z1bK3",
                    "expires_at": "2026-11-27T12:15:00Z",
                }
            ]
        }
    )

    code: str = Field(description="Send `/start <code>` to the bot; works once, until expires_at.")
    deep_link: str | None = Field(description="Opens the bot with the code; null when unknown.")
    expires_at: datetime
