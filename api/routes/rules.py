"""Watch rules of the calling user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Query as QueryParam

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
from rules import Document, RuleIndex, RuleSyntaxError, article_document, parse
from store.articles import carrying_feeds, recent_articles
from store.feeds import feed_urls
from store.rules import count_rules, create_rule, delete_rule, get_rule, list_rules, update_rule
from store.tables import Rule

router = APIRouter(prefix="/v1/rules", tags=["rules"])

PREVIEW_SCAN = 5_000  # newest stored articles a preview looks through, at most
_PREVIEW_BATCH = 500


def to_public(rule: Rule) -> RulePublic:
    assert rule.id is not None
    return RulePublic(
        id=rule.id,
        name=rule.name,
        query=rule.query,
        feed_ids=rule.feed_ids,
        enabled=rule.enabled,
        per_story=rule.per_story,
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
        per_story=body.per_story,
        now=utcnow(),
    )
    return to_public(rule)


@router.get("", response_model=list[RulePublic], summary="List your rules")
def list_(session: SessionDep, user: UserDep) -> list[RulePublic]:
    return [to_public(r) for r in list_rules(session=session, user_id=user.id or 0)]


@router.post("/test", response_model=RuleTestResult, summary="Try a query against some text")
def test(body: RuleTest, _user: UserDep) -> RuleTestResult:
    index = RuleIndex()
    index.add(0, parse(body.query))
    hits = index.match(Document(title=body.title, text=body.text))
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
    index = RuleIndex()
    index.add(rule_id, query, feed_ids=rule.feed_ids)
    found: list[RulePreviewItem] = []
    before: int | None = None
    for _ in range(PREVIEW_SCAN // _PREVIEW_BATCH):
        batch = recent_articles(session=session, limit=_PREVIEW_BATCH, before_id=before)
        urls = feed_urls(session=session, feed_ids=sorted({feed_id for _, feed_id, _ in batch}))
        carriers = carrying_feeds(session=session, article_ids=[a.id for a, _, _ in batch])
        for article, feed_id, feed_title in batch:
            doc = article_document(
                article,
                feed_id=feed_id,
                feed_title=feed_title,
                feed_url=urls.get(feed_id, ""),
                also=carriers.get(article.id, ()),
            )
            for hit in index.match(doc):
                found.append(
                    RulePreviewItem(
                        article=HitArticle(
                            id=article.id,
                            title=article.title,
                            url=article.url,
                            published_at=article.published_at,
                            feed_id=feed_id,
                            feed_title=feed_title,
                        ),
                        snippet=hit.snippet,
                        matched_terms=list(hit.matched_terms),
                    )
                )
            if len(found) >= limit:
                return found
        if len(batch) < _PREVIEW_BATCH:
            break
        before = batch[-1][0].id
    return found


@router.get("/{rule_id}", response_model=RulePublic, summary="Get a rule")
def get(rule_id: int, session: SessionDep, user: UserDep) -> RulePublic:
    rule = get_rule(session=session, rule_id=rule_id, user_id=user.id)
    if rule is None:
        raise not_found("rule", rule_id)
    return to_public(rule)


@router.patch("/{rule_id}", response_model=RulePublic, summary="Change only the fields sent")
def patch(rule_id: int, body: RuleUpdate, session: SessionDep, user: UserDep) -> RulePublic:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "query", "enabled", "per_story"):
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
