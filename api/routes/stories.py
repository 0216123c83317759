"""Stories: the copies of one story that different outlets ran."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, UserDep, not_found
from api.schemas import HitArticle, StoryPublic
from store.stories import story_articles

router = APIRouter(prefix="/v1/stories", tags=["stories"])

MAX_ARTICLES = 500  # a story's copies listed at most


@router.get("/{story_id}", response_model=StoryPublic, summary="A story's articles, first first")
def get(story_id: int, session: SessionDep, _user: UserDep) -> StoryPublic:
    """Articles are one shared catalogue, like feeds: any user may read a story."""
    articles = story_articles(session=session, story_id=story_id, limit=MAX_ARTICLES)
    if not articles:
        raise not_found("story", story_id)
    return StoryPublic(
        id=story_id,
        articles=[
            HitArticle(
                id=a.id,
                title=a.title,
                url=a.url,
                published_at=a.published_at,
                feed_id=a.feed_id,
                feed_title=a.feed_title,
            )
            for a in articles
        ],
    )
