"""Watch rules of the calling user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Query as QueryParam

from api.backtest import backtest
from api.deps import ConfigDep, SessionDep, UserDep, not_found, utcnow
from api.schemas import (
    HitArticle,
    RuleCreate,
    RulePreviewItem,
    RulePublic,
    RuleTest,
    RuleTestResult,
    RuleUpdate,
)
from rules import Document, Query, RuleIndex, RuleSyntaxError, parse
from store.rules import count_rules, create_rule, delete_rule, get_rule, list_rules, update_rule
from store.tables import Rule

router = APIRouter(prefix="/v1/rules", tags=["rules"])


def to_public(rule: Rule) -> RulePublic:
    assert rule.id is not None
    return RulePublic(
        id=rule.id,
        name=rule.name,
        query=rule.query,
        feed_ids=rule.feed_ids,
        enabled=rule.enabled,
        created_at=rule.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RulePublic,
    summary="Create a rule; a bad query is a 422 with the error position",
)
def create(body: RuleCreate, session: SessionDep, user: UserDep, config: ConfigDep) -> RulePublic:
    assert user.id is not None
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
        now=utcnow(),
    )
    return to_public(rule)


@router.get("", response_model=list[RulePublic], summary="List your rules")
def list_(session: SessionDep, user: UserDep) -> list[RulePublic]:
    return [to_public(r) for r in list_rules(session=session, user_id=user.id or 0)]


@router.post("/test", response_model=RuleTestResult, summary="Try a query against some text")
def test(body: RuleTest, _user: UserDep) -> RuleTestResult:
    return test_text(parse(body.query), title=body.title, text=body.text)


def test_text(query: Query, *, title: str, text: str) -> RuleTestResult:
    """Whether a query matches this text, with the matched terms and the snippet."""
    index = RuleIndex()
    index.add(0, query)
    hits = index.match(Document(title=title, text=text))
    if not hits:
        return RuleTestResult(matched=False, matched_terms=[], snippet="")
    return RuleTestResult(
        matched=True, matched_terms=list(hits[0].matched_terms), snippet=hits[0].snippet
    )


@router.get(
    "/{rule_id}/preview",
    response_model=list[RulePreviewItem],
    summary="Stored articles the rule matches, newest first: a backtest that sends no alerts",
)
def preview(
    rule_id: int,
    session: SessionDep,
    user: UserDep,
    limit: Annotated[int, QueryParam(ge=1, le=100)] = 20,
) -> list[RulePreviewItem]:
    """Match the rule against the newest stored articles, honouring its feed scope. Only
    the latest `PREVIEW_SCAN` (5,000) articles are scanned, so that a preview stays fast."""
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    try:
        query = parse(rule.query)
    except RuleSyntaxError as exc:  # saved under an older grammar
        raise HTTPException(422, str(exc)) from None
    result = backtest(session=session, query=query, limit=limit, feed_ids=rule.feed_ids)
    return [
        RulePreviewItem(
            article=HitArticle(
                id=m.article.id,
                title=m.article.title,
                url=m.article.url,
                published_at=m.article.published_at,
                feed_id=m.feed_id,
                feed_title=m.feed_title,
            ),
            snippet=m.snippet,
            matched_terms=list(m.matched_terms),
        )
        for m in result.matches
    ]


@router.get("/{rule_id}", response_model=RulePublic, summary="Get a rule")
def get(rule_id: int, session: SessionDep, user: UserDep) -> RulePublic:
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    return to_public(rule)


@router.patch("/{rule_id}", response_model=RulePublic, summary="Change only the fields sent")
def patch(rule_id: int, body: RuleUpdate, session: SessionDep, user: UserDep) -> RulePublic:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "query", "enabled"):
        if key in changes and changes[key] is None:
            del changes[key]
    rule = update_rule(
        session=session, rule_id=rule_id, user_id=user.id or 0, changes=changes, now=utcnow()
    )
    if rule is None:
        raise not_found("rule", rule_id)
    return to_public(rule)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule")
def delete(rule_id: int, session: SessionDep, user: UserDep) -> Response:
    if not delete_rule(session=session, rule_id=rule_id, user_id=user.id or 0, now=utcnow()):
        raise not_found("rule", rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
