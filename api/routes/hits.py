"""The calling user's hits, newest first, with keyset pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import ConfigDep, SessionDep, UserDep, keyset_page
from api.params import MAX_ID, HitCursor, Since
from api.schemas import HitArticle, HitPage, HitPublic, HitStory
from store.hits import encode_cursor, list_hits
from store.stories import StorySummary, story_summaries

router = APIRouter(prefix="/v1/hits", tags=["hits"])


@router.get("", response_model=HitPage, summary="List your hits, newest first")
def list_(
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    rule_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Since = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: HitCursor = None,
) -> HitPage:
    limit, before_id = keyset_page(config, limit, cursor)
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, "since needs a timezone, e.g. 2026-11-27T12:00:00Z")
    rows = list_hits(
        session=session,
        user_id=user.id or 0,
        limit=limit + 1,
        rule_id=rule_id,
        since=since,
        before_id=before_id,
    )
    stories = story_summaries(
        session=session,
        story_ids={v.article.story_id for v in rows[:limit] if v.article.story_id is not None},
    )
    items = [
        HitPublic(
            id=v.hit.id or 0,
            rule_id=v.hit.rule_id,
            rule_name=v.rule_name,
            article=HitArticle(
                id=v.article.id or 0,
                title=v.article.title,
                url=v.article.url,
                published_at=v.article.published_at,
                feed_id=v.feed_id,
                feed_title=v.feed_title,
            ),
            snippet=v.hit.snippet,
            matched_terms=list(v.hit.matched_terms or []),
            created_at=v.hit.created_at,
            story=_story(stories.get(v.article.story_id or 0)),
        )
        for v in rows[:limit]
    ]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return HitPage(items=items, next_cursor=next_cursor)


def _story(summary: StorySummary | None) -> HitStory | None:
    if summary is None:
        return None
    return HitStory(id=summary.id, articles=summary.articles, sources=list(summary.sources))
