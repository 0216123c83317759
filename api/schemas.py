"""Request and response models: a Create / Update / Public schema per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from rules import RuleSyntaxError, parse
from rules.parser import MAX_LENGTH

Name = Annotated[str, Field(min_length=1, max_length=200)]
# Unique; not digits only, which the CLI would read as an id.
UserName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\D")]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Interval = Annotated[StrictInt, Field(ge=60, le=86_400)]
FullText = Literal["auto", "always", "never"]
Id = Annotated[StrictInt, Field(ge=1, le=2**53 - 1)]  # the JSON-exact bound, as in api.params
WebhookSecret = Annotated[
    str, Field(min_length=10, max_length=200, pattern=r"^whsec_[A-Za-z0-9+/=]+$")
]
Ids = Annotated[list[Id], Field(max_length=1000)]


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

    name: UserName


class UserCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 2, "name": "newsroom", "token": "nw_3q2…"}]}
    )

    id: int
    name: str
    token: str = Field(description="Shown only here; store it now.")


class UserUpdate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "desk"}, {"disabled": True}]}
    )

    name: UserName | None = None
    disabled: StrictBool | None = Field(
        default=None,
        description="True: the user's tokens stop working and its channels stop receiving.",
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "name": "newsroom",
                    "is_admin": False,
                    "disabled": False,
                    "created_at": "2026-11-27T12:00:00Z",
                }
            ]
        }
    )

    id: int
    name: str
    is_admin: bool
    disabled: bool
    created_at: datetime


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
                    "effective_interval_seconds": 3600,
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
    interval_seconds: int = Field(description="The interval asked for, or the default.")
    effective_interval_seconds: int = Field(
        description="The interval in force: longer when the feed asks for it (RSS ttl, "
        "cache headers) or, with no interval asked, when it publishes rarely."
    )
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
                    "per_story": True,
                }
            ]
        }
    )

    name: Name
    query: Query
    feed_ids: Ids | None = None
    enabled: StrictBool = True
    backfill_hours: StrictFloat = Field(
        default=0,
        ge=0,
        allow_inf_nan=False,
        description="Also alert on stored articles published this many hours back, at "
        "most ALERT_MAX_AGE_HOURS; each at most once. 0: only new articles alert.",
    )
    # One alert per story (the first copy to arrive); false alerts on every copy.
    per_story: StrictBool = True

    _check = field_validator("query")(check_query)


class RuleBackfill(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"hours": 24}]})

    hours: StrictFloat | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="How far back; at most and by default ALERT_MAX_AGE_HOURS.",
    )


class Backlog(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "hours": 24,
                    "matching": 3,
                    "alerted": 0,
                    "hint": "POST /v1/rules/3/backfill alerts them (each at most once)",
                }
            ]
        }
    )

    hours: float = Field(description="The window looked at: the alert window, or less.")
    matching: int = Field(
        description="Stored articles in the window that the rule matches and has not alerted."
    )
    alerted: int = Field(description="Of those, how many were alerted now.")
    hint: str = Field(description="How to get the ones not alerted, if any.")


class RuleUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    name: Name | None = None
    query: Query | None = None
    feed_ids: Ids | None = None
    enabled: StrictBool | None = None
    per_story: StrictBool | None = None

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
                    "per_story": True,
                    "muted_until": None,
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
    per_story: bool
    # Set while the rule is muted (`PUT /v1/rules/{id}/mute`): its hits alert no channel.
    muted_until: datetime | None = None
    created_at: datetime


class RuleCreated(RulePublic):
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
                    "backlog": {
                        "hours": 24,
                        "matching": 2,
                        "alerted": 0,
                        "hint": "POST /v1/rules/3/backfill alerts them (each at most once)",
                    },
                }
            ]
        }
    )

    backlog: Backlog = Field(
        description="Stored articles of the alert window that already match: new rules "
        "alert only on new articles, unless `backfill_hours` was given."
    )


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
    url: Annotated[str, Field(max_length=2048, description="The article URL (`url:`).")] = ""
    feed: Annotated[
        str, Field(max_length=2000, description="The feed's title or URL (`feed:`).")
    ] = ""
    lang: Annotated[str, Field(max_length=35, description="The article language (`lang:`).")] = ""
    feed_id: Annotated[
        Id | None,
        Field(
            description="A stored feed: its title and URL fill `feed`, and rules scoped "
            "to feeds see the article as from it."
        ),
    ] = None

    _check = field_validator("query")(check_query)


class RuleTestResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "matched": True,
                    "matched_terms": ["bytedance", "huawei"],
                    "snippet": "**ByteDance** and **Huawei** sign a deal",
                    "missing_fields": [],
                }
            ]
        }
    )

    matched: bool
    matched_terms: list[str]
    snippet: str
    missing_fields: list[str] = Field(
        default=[],
        description="Fields the query reads that the request left empty, so they could "
        "not match (`lang:id` with no `lang`, say)",
    )


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


class HitStory(BaseModel):
    """The story a hit's article tells: how many copies are known, and where they ran."""

    id: int
    articles: int
    sources: list[str]


class HitPublic(BaseModel):
    id: int
    rule_id: int
    rule_name: str
    article: HitArticle
    snippet: str
    matched_terms: list[str]
    created_at: datetime
    story: HitStory | None


class StoryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 9, "articles": [_ARTICLE_EXAMPLE]}]}
    )

    id: int
    articles: list[HitArticle]  # first one first


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
                            "story": {"id": 9, "articles": 3, "sources": ["Antara", "Reuters"]},
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
    secret: WebhookSecret | None = None


class WebhookUpdate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"active": True}, {"rule_ids": None}]}
    )

    url: Url | None = None
    rule_ids: Ids | None = Field(default=None, description="null: all of your rules.")
    active: StrictBool | None = Field(
        default=None,
        description="true turns on a webhook that was disabled (by a 410, say); then its "
        "dead deliveries can be retried. false stops it and drops its pending deliveries.",
    )


class WebhookRotate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_hours": 24}]})

    secret: WebhookSecret | None = Field(default=None, description="Else one is generated.")
    grace_hours: StrictFloat = Field(
        default=24,
        ge=0,
        le=168,
        allow_inf_nan=False,
        description="How long the old secret signs too (0: stop it at once).",
    )


class WebhookRotated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "secret": "whsec_3kS0QmVbq3bQGv1vY2p9JcGxW0d8Hn2Q",
                    "previous_secret_expires_at": "2026-11-28T12:00:00Z",
                }
            ]
        }
    )

    id: int
    secret: str = Field(description="The new secret, shown only here; store it now.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then every delivery carries a signature with each secret."
    )


_WEBHOOK_EXAMPLE: JsonDict = {
    "id": 5,
    "url": "https://example.com/hooks/newswatch",
    "rule_ids": [3],
    "active": True,
    "disabled_reason": "",
    "previous_secret_expires_at": None,
    "created_at": "2026-11-27T12:00:00Z",
}


class WebhookPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WEBHOOK_EXAMPLE]})

    id: int
    url: str
    rule_ids: list[int] | None
    active: bool
    disabled_reason: str
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="Set while a rotated-out secret still signs."
    )
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


# pages: every list answers {"items", "next_cursor"} ----------------------------------

_NEXT = "Pass as `?cursor=` for the next page; null on the last page."


def _page_example(item: type[BaseModel], cursor: str) -> ConfigDict:
    extra = item.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    first = examples[:1] if isinstance(examples, list) else []
    return ConfigDict(json_schema_extra={"examples": [{"items": first, "next_cursor": cursor}]})


class FeedPage(BaseModel):
    model_config = _page_example(FeedPublic, "ZjQy")

    items: list[FeedPublic]
    next_cursor: str | None = Field(description=_NEXT)


class RulePage(BaseModel):
    model_config = _page_example(RulePublic, "cjM")

    items: list[RulePublic]
    next_cursor: str | None = Field(description=_NEXT)


class RulePreviewPage(BaseModel):
    model_config = _page_example(RulePreviewItem, "cDkwMDE")

    items: list[RulePreviewItem]
    next_cursor: str | None = Field(
        description=_NEXT + " A page scans a bounded number of articles, so it may hold "
        "fewer than `limit` items (even none) and still have a next page."
    )


class WebhookPage(BaseModel):
    model_config = _page_example(WebhookPublic, "dzU")

    items: list[WebhookPublic]
    next_cursor: str | None = Field(description=_NEXT)


class TokenPage(BaseModel):
    model_config = _page_example(TokenPublic, "dDQ")

    items: list[TokenPublic]
    next_cursor: str | None = Field(description=_NEXT)


class UserPage(BaseModel):
    model_config = _page_example(UserPublic, "dTI")

    items: list[UserPublic]
    next_cursor: str | None = Field(description=_NEXT)
