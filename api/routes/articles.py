"""The shared article catalogue: any user may read any article, with its best text."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, UserDep, not_found
from api.schemas import ArticlePublic
from store.articles import get_article

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.get(
    "/{article_id}",
    response_model=ArticlePublic,
    summary="Get an article: its best text, where that came from, and its page's status",
)
def get(article_id: int, session: SessionDep, _user: UserDep) -> ArticlePublic:
    found = get_article(session=session, article_id=article_id)
    if found is None:
        raise not_found("article", article_id)
    article, feed_id = found
    assert article.id is not None
    page = article.text_source == "page" and article.text
    return ArticlePublic(
        id=article.id,
        title=article.title,
        url=article.url,
        canonical_url=article.canonical_url,
        published_at=article.published_at,
        lang=article.language,
        feed_id=feed_id or None,
        summary=article.summary,
        text=article.text if page else (article.content or article.summary),
        text_source="page" if page else "feed",
        page_status=article.page_status,
    )
