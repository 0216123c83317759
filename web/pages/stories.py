"""Stories: the hits page shows the copies of one story as one entry, and a story's page
lists its articles. Both use the API's queries (`story_summaries` as GET /v1/hits does,
`story_articles` as GET /v1/stories/{id} does)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.deps import SessionDep
from api.routes.stories import MAX_ARTICLES
from store.hits import HitView
from store.stories import StorySummary, story_articles, story_summaries
from web.pages.common import not_found, web_router
from web.render import page
from web.sessions import ViewerDep

router = web_router()

ALSO_IN_SHOWN = 5  # outlets named in an entry; the rest are counted


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the hits page: a user's hits on the copies of one story, newest first."""

    key: str  # "s<story id>", or "a<article id>" for an article stored before stories
    hits: tuple[HitView, ...]
    story: StorySummary | None

    @property
    def lead(self) -> HitView:
        return self.hits[0]

    @property
    def rules(self) -> list[tuple[int, str]]:
        """The rules that hit the story, each once, newest hit first."""
        return list(dict.fromkeys((v.hit.rule_id, v.rule_name) for v in self.hits))

    @property
    def also_in(self) -> list[str]:
        """The other outlets that ran the story (the lead's own feed left out)."""
        sources = self.story.sources if self.story else ()
        return [s for s in sources if s and s != self.lead.feed_title]

    @property
    def more_outlets(self) -> int:
        return max(0, len(self.also_in) - ALSO_IN_SHOWN)


def story_key(view: HitView) -> str:
    story = view.article.story_id
    return f"s{story}" if story is not None else f"a{view.article.id}"


def group_hits(session: Session, views: Iterable[HitView]) -> list[Entry]:
    """Hits (newest first) as entries, one per story, in the order of each one's newest hit."""
    groups: dict[str, list[HitView]] = {}
    for view in views:
        groups.setdefault(story_key(view), []).append(view)
    summaries = story_summaries(
        session=session,
        story_ids={int(key[1:]) for key in groups if key.startswith("s")},
    )
    return [
        Entry(key, tuple(hits), summaries.get(int(key[1:])) if key.startswith("s") else None)
        for key, hits in groups.items()
    ]


@router.get("/stories/{story_id:int}")
def story_page(
    request: Request, story_id: int, session: SessionDep, viewer: ViewerDep
) -> HTMLResponse:
    """Articles are one shared catalogue, as in the API: any user may read a story."""
    articles = story_articles(session=session, story_id=story_id, limit=MAX_ARTICLES)
    if not articles:
        return not_found(request, viewer, "story")
    return page(request, "story.html", viewer=viewer, story_id=story_id, articles=articles)
