"""Watch rules of the calling user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Query as QueryParam
from sqlmodel import Session

from api.backtest import BacktestMatch, backtest
from api.config import ApiConfig
from api.deps import (
    ConfigDep,
    SessionDep,
    UserDep,
    field_error,
    keyset_page,
    not_found,
    page_end,
    utcnow,
)
from api.params import Id, PreviewCursor, RuleCursor
from api.schemas import (
    Backlog,
    HitArticle,
    RuleBackfill,
    RuleCreate,
    RuleCreated,
    RulePage,
    RulePreviewItem,
    RulePreviewPage,
    RulePublic,
    RuleTest,
    RuleTestResult,
    RuleUpdate,
)
from monitor.backfill import Backlog as BacklogFound
from monitor.backfill import backlog
from rules import Document, Query, RuleIndex, RuleSyntaxError, parse
from store.articles import recent_articles
from store.channels import rule_muted_until, rule_mutes
from store.feeds import get_feed
from store.hits import encode_cursor
from store.rules import count_rules, create_rule, delete_rule, get_rule, list_rules, update_rule
from store.tables import Rule

router = APIRouter(prefix="/v1/rules", tags=["rules"])

RULE_CURSOR, PREVIEW_CURSOR = "r", "p"


def to_public(rule: Rule, muted_until: datetime | None = None) -> RulePublic:
    assert rule.id is not None
    return RulePublic(
        id=rule.id,
        name=rule.name,
        query=rule.query,
        feed_ids=rule.feed_ids,
        enabled=rule.enabled,
        per_story=rule.per_story,
        muted_until=muted_until,
        created_at=rule.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleCreated,
    summary="Create a rule; a bad query is a 422 with the error position",
)
def create(body: RuleCreate, session: SessionDep, user: UserDep, config: ConfigDep) -> RuleCreated:
    assert user.id is not None
    if body.backfill_hours > config.alert_max_age_hours:
        raise _over_window("backfill_hours", body.backfill_hours, config)
    if count_rules(session=session, user_id=user.id) >= config.max_rules_per_user:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"rule limit reached: {config.max_rules_per_user} per user"
        )
    rule = create_rule(
        session=session,
        user_id=user.id,
        name=body.name,
        query=body.query,
        feed_ids=body.feed_ids,
        enabled=body.enabled,
        per_story=body.per_story,
        now=utcnow(),
    )
    found = backlog(
        session=session,
        rule=rule,
        now=utcnow(),
        hours=body.backfill_hours or config.alert_max_age_hours,
        record=body.backfill_hours > 0,
    )
    return RuleCreated(**to_public(rule).model_dump(), backlog=_backlog_public(rule, found))


@router.post(
    "/{rule_id:int}/backfill",
    response_model=Backlog,
    summary="Alert on the stored articles of the alert window the rule matches (once each)",
)
def backfill(
    rule_id: Id,
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    body: RuleBackfill | None = None,
) -> Backlog:
    hours = body.hours if body and body.hours is not None else config.alert_max_age_hours
    if hours > config.alert_max_age_hours:
        raise _over_window("hours", hours, config)
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    found = backlog(session=session, rule=rule, now=utcnow(), hours=hours, record=True)
    return _backlog_public(rule, found)


def _over_window(name: str, hours: float, config: ApiConfig) -> HTTPException:
    return field_error(
        name,
        f"{hours:g} hours is past the alert window: at most {config.alert_max_age_hours:g} "
        "(ALERT_MAX_AGE_HOURS)",
    )


def _backlog_public(rule: Rule, found: BacklogFound) -> Backlog:
    left = found.matching - found.alerted
    hint = ""
    if left and not rule.enabled:
        hint = "the rule is disabled: enable it, then POST /v1/rules/{id}/backfill"
    elif left:
        hint = "POST /v1/rules/{id}/backfill alerts them (each at most once)"
    return Backlog(
        hours=found.hours,
        matching=found.matching,
        alerted=found.alerted,
        hint=hint.replace("{id}", str(rule.id)),
    )


@router.get("", response_model=RulePage, summary="List your rules, oldest first")
def list_(
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    limit: Annotated[int | None, QueryParam(ge=1)] = None,
    cursor: RuleCursor = None,
) -> RulePage:
    limit, after_id = keyset_page(config, limit, cursor, RULE_CURSOR)
    rows = list_rules(
        session=session, user_id=user.id or 0, limit=limit + 1, after_id=after_id or 0
    )
    mutes = rule_mutes(session=session, rule_ids=[r.id or 0 for r in rows], now=utcnow())
    return RulePage(
        items=[to_public(r, mutes.get(r.id or 0)) for r in rows[:limit]],
        next_cursor=page_end([r.id or 0 for r in rows], limit, RULE_CURSOR),
    )


@router.post(
    "/test",
    response_model=RuleTestResult,
    summary="Try a query against an article's fields; says which fields it read were empty",
)
def test(body: RuleTest, session: SessionDep, _user: UserDep) -> RuleTestResult:
    feed = body.feed
    if body.feed_id is not None:
        row = get_feed(session=session, feed_id=body.feed_id)
        if row is None:
            raise field_error("feed_id", f"feed {body.feed_id} not found")
        feed = feed or f"{row.feed.title} {row.feed.url}".strip()
    query = parse(body.query)
    return test_text(
        query,
        title=body.title,
        text=body.text,
        url=body.url,
        feed=feed,
        lang=body.lang,
        feed_id=body.feed_id,
    )


def test_text(
    query: Query,
    *,
    title: str,
    text: str,
    url: str = "",
    feed: str = "",
    lang: str = "",
    feed_id: int | None = None,
) -> RuleTestResult:
    """Whether a query matches this article, with the matched terms, the snippet, and the
    fields the query reads that were empty."""
    doc = Document(title=title, text=text, url=url, feed=feed, lang=lang, feed_id=feed_id)
    given = {"title": doc.title, "text": doc.title + doc.text, "url": doc.url, "feed": feed}
    given["lang"] = doc.lang
    missing = sorted(name for name in query.fields if not given[name])
    index = RuleIndex()
    index.add(0, query)
    hits = index.match(doc)
    if not hits:
        return RuleTestResult(matched=False, matched_terms=[], snippet="", missing_fields=missing)
    return RuleTestResult(
        matched=True,
        matched_terms=list(hits[0].matched_terms),
        snippet=hits[0].snippet,
        missing_fields=missing,
    )


@router.get(
    "/{rule_id:int}/preview",
    response_model=RulePreviewPage,
    summary="Stored articles the rule matches, newest first: a backtest that sends no alerts",
)
def preview(
    rule_id: Id,
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    limit: Annotated[int, QueryParam(ge=1, le=100)] = 20,
    cursor: PreviewCursor = None,
) -> RulePreviewPage:
    """Match the rule against stored articles, newest first, honouring its feed scope.
    A page scans at most `preview_scan_articles` articles; its cursor continues the scan,
    so that paging goes through every stored article while each request stays fast."""
    _, before = keyset_page(config, limit, cursor, PREVIEW_CURSOR)
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    try:
        query = parse(rule.query)
    except RuleSyntaxError as exc:  # saved under an older grammar
        raise HTTPException(422, str(exc)) from None
    result = backtest(
        session=session,
        query=query,
        limit=limit,
        feed_ids=rule.feed_ids,
        scan=config.preview_scan_articles,
        before=before,
    )
    next_cursor = None if result.exhausted else _after(session, result.last_id)
    return RulePreviewPage(
        items=[_preview_item(m) for m in result.matches], next_cursor=next_cursor
    )


def _after(session: Session, article_id: int | None) -> str | None:
    """The cursor that goes on scanning below `article_id`, if any article is there."""
    if article_id is None or not recent_articles(session=session, limit=1, before_id=article_id):
        return None
    return encode_cursor(article_id, PREVIEW_CURSOR)


def _preview_item(match: BacktestMatch) -> RulePreviewItem:
    article = match.article
    return RulePreviewItem(
        article=HitArticle(
            id=article.id,
            title=article.title,
            url=article.url,
            published_at=article.published_at,
            feed_id=match.feed_id,
            feed_title=match.feed_title,
        ),
        snippet=match.snippet,
        matched_terms=list(match.matched_terms),
    )


@router.get("/{rule_id:int}", response_model=RulePublic, summary="Get a rule")
def get(rule_id: Id, session: SessionDep, user: UserDep) -> RulePublic:
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    return to_public(rule, rule_muted_until(session=session, rule_id=rule_id, now=utcnow()))


@router.patch("/{rule_id:int}", response_model=RulePublic, summary="Change only the fields sent")
def patch(rule_id: Id, body: RuleUpdate, session: SessionDep, user: UserDep) -> RulePublic:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "query", "enabled", "per_story"):
        if key in changes and changes[key] is None:
            del changes[key]
    rule = update_rule(
        session=session, rule_id=rule_id, user_id=user.id or 0, changes=changes, now=utcnow()
    )
    if rule is None:
        raise not_found("rule", rule_id)
    return to_public(rule, rule_muted_until(session=session, rule_id=rule_id, now=utcnow()))


@router.delete("/{rule_id:int}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule")
def delete(rule_id: Id, session: SessionDep, user: UserDep) -> Response:
    if not delete_rule(session=session, rule_id=rule_id, user_id=user.id or 0, now=utcnow()):
        raise not_found("rule", rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
