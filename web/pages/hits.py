"""Hits, newest first, filtered by rule and paged, the copies of one story as one entry;
new ones arrive by server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.engine import Engine

from api.deps import ConfigDep, SessionDep, get_engine, keyset_page
from store import session_scope
from store.hits import encode_cursor, list_hits
from store.rules import list_rules
from web.pages.common import web_router
from web.pages.stories import Entry, group_hits
from web.render import env, page
from web.sessions import COOKIE, SignInRequired, Viewer, ViewerDep, find_viewer

router = web_router()

PAGE_SIZE = 50  # hits: a page shows fewer entries when some are copies of one story
STORY_HITS = 20  # a live entry is drawn from at most this many hits of its story
SELECT_RULES = 200
STREAM_POLL_SECONDS = 1.0
STREAM_LIFETIME_SECONDS = 300.0  # then the browser's EventSource reconnects by itself


@router.get("/")
def hits_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    config: ConfigDep,
    rule: Annotated[str, Query(alias="rule_id", max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    rule_id = int(rule) if rule.isdigit() and 0 < int(rule) < 2**63 else None  # "" is all
    try:
        limit, before_id = keyset_page(config, PAGE_SIZE, cursor)
    except HTTPException:
        limit, before_id = PAGE_SIZE, None
    rows = list_hits(
        session=session,
        user_id=viewer.user_id,
        limit=limit + 1,
        rule_id=rule_id,
        before_id=before_id,
    )
    shown = rows[:limit]
    return page(
        request,
        "hits.html",
        viewer=viewer,
        entries=group_hits(session, shown),
        # A select for a few rules; past that a rule id field (the page stays small).
        rules=list_rules(session=session, user_id=viewer.user_id, limit=SELECT_RULES + 1),
        select_rules=SELECT_RULES,
        rule_id=rule_id,
        live=before_id is None,
        newest=shown[0].hit.id if shown else 0,
        next_cursor=encode_cursor(shown[-1].hit.id or 0) if len(rows) > limit else None,
    )


def hit_row(entry: Entry) -> str:
    return env.get_template("hit_row.html").render(e=entry)


@router.get("/hits/stream")
async def hits_stream(
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    rule_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Server-sent events: one `hit` event per story with new hits, holding the story's
    entry drawn again (which the page puts in place of the one it shows, if any). The
    session is checked again on every poll, so a revoked token ends the stream too."""
    last = request.headers.get("last-event-id", "")
    if last.isdigit():
        after = max(after, int(last))
    engine = get_engine(request)
    secret = request.cookies.get(COOKIE)
    # No request-scoped session: it would hold a pooled connection for the whole stream.
    viewer = await asyncio.to_thread(_viewer, engine, secret)
    if viewer is None:
        raise SignInRequired()
    return StreamingResponse(
        _events(request, engine, secret, viewer.user_id, after, rule_id),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _events(
    request: Request,
    engine: Engine,
    secret: str | None,
    user_id: int,
    after: int,
    rule_id: int | None,
) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    deadline = time.monotonic() + STREAM_LIFETIME_SECONDS
    closing = _closing(request.app)
    while time.monotonic() < deadline and not await request.is_disconnected():
        batch = await asyncio.to_thread(_poll, engine, secret, user_id, after, rule_id)
        if batch is None:
            yield "event: end\ndata: signed out\n\n"
            return
        for hit_id, key, html in batch:
            after = max(after, hit_id)
            data = json.dumps({"id": hit_id, "story": key, "html": html})
            yield f"id: {hit_id}\nevent: hit\ndata: {data}\n\n"
        if not batch:
            yield ": keep-alive\n\n"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing.wait(), STREAM_POLL_SECONDS)
        if closing.is_set():
            return  # the server is stopping: the browser reconnects to another replica


def _closing(app: FastAPI) -> asyncio.Event:
    if not hasattr(app.state, "streams_closing"):
        app.state.streams_closing = asyncio.Event()
    closing: asyncio.Event = app.state.streams_closing
    return closing


def close_streams(app: FastAPI) -> None:
    """End every open live-hits stream (the service calls it when it stops)."""
    _closing(app).set()


def _viewer(engine: Engine, secret: str | None) -> Viewer | None:
    with session_scope(engine, readonly=True) as session:
        return find_viewer(session, secret)


def _poll(
    engine: Engine, secret: str | None, user_id: int, after: int, rule_id: int | None
) -> list[tuple[int, str, str]] | None:
    """(newest hit id, story key, entry) of each story with new hits, the story with the
    newest hit last; or None when the session has ended."""
    with session_scope(engine, readonly=True) as session:
        viewer = find_viewer(session, secret)
        if viewer is None or viewer.user_id != user_id:
            return None
        rows = list_hits(
            session=session, user_id=user_id, limit=PAGE_SIZE, rule_id=rule_id, after_id=after
        )
        out = []
        for fresh in reversed(group_hits(session, rows)):
            entry = fresh
            story = fresh.lead.article.story_id
            if story is not None:  # the story's earlier hits belong in its entry too
                [entry] = group_hits(
                    session,
                    list_hits(
                        session=session,
                        user_id=user_id,
                        limit=STORY_HITS,
                        rule_id=rule_id,
                        story_id=story,
                    ),
                )
            out.append((fresh.lead.hit.id or 0, fresh.key, hit_row(entry)))
        return out
