"""The feed catalogue with its health; add by URL (with discovery), OPML import and export."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import ConfigDep, SessionDep, utcnow
from api.routes.feeds import add_feed_by_url, export_document, import_feeds
from store.feeds import articles_since, list_feeds, request_poll
from web.pages.common import back, not_found, problem, web_router
from web.render import page
from web.sessions import Viewer, ViewerDep, WriterDep

router = web_router()

RATE_DAYS = 7  # articles per day: the average over this many days


@router.get("/feeds")
def feeds_page(
    request: Request, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    return _catalogue(request, session, viewer, notice=notice[:300])


def _catalogue(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    rows = list_feeds(session=session, limit=1000)
    recent = articles_since(
        session=session,
        feed_ids=[r.feed.id or 0 for r in rows],
        since=utcnow() - timedelta(days=RATE_DAYS),
    )
    per_day = {feed_id: round(n / RATE_DAYS, 1) for feed_id, n in recent.items()}
    return page(
        request, "feeds.html", status_code, viewer=viewer, feeds=rows, per_day=per_day, **context
    )


@router.post("/feeds")
async def add(
    request: Request,
    session: SessionDep,
    viewer: WriterDep,
    config: ConfigDep,
    url: Annotated[str, Form(min_length=1, max_length=2048)],
    title: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        row, created = await add_feed_by_url(
            session=session, config=config, url=url.strip(), title=title, user_id=viewer.user_id
        )
    except HTTPException as exc:
        return _catalogue(request, session, viewer, 422, add_error=problem(exc), form={"url": url})
    name = row.feed.title or row.feed.url
    return back("/feeds", f"{'Added' if created else 'Already watched'}: {name}")


@router.post("/feeds/import")
async def import_opml(
    request: Request,
    session: SessionDep,
    viewer: WriterDep,
    config: ConfigDep,
    opml: Annotated[UploadFile, File()],
) -> Response:
    document = await opml.read(config.max_import_bytes + 1)
    try:
        result = await import_feeds(
            session=session, config=config, document=document, user_id=viewer.user_id
        )
    except HTTPException as exc:
        if _wants_json(request):
            return JSONResponse({"detail": problem(exc)}, status_code=exc.status_code)
        return _catalogue(request, session, viewer, 422, import_error=problem(exc))
    if _wants_json(request):  # the page's script imports a long list in parts, with progress
        return JSONResponse(result.model_dump())
    return _catalogue(request, session, viewer, imported=result)


def _wants_json(request: Request) -> bool:
    return request.headers.get("accept", "").startswith("application/json")


@router.get("/feeds/export")
def export(session: SessionDep, _viewer: ViewerDep) -> Response:
    return Response(
        export_document(session),
        media_type="text/x-opml; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="newswatch-feeds.opml"'},
    )


@router.post("/feeds/{feed_id:int}/poll")
def poll(request: Request, feed_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    if not request_poll(session=session, feed_id=feed_id, now=utcnow()):
        return not_found(request, viewer, "feed")
    return back("/feeds", "poll queued")
