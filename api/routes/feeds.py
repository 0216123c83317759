"""The shared feed catalogue: anyone may add a feed; only the admin may delete one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlmodel import Session

from api.config import ApiConfig
from api.deps import (
    AdminDep,
    ConfigDep,
    SessionDep,
    UserDep,
    field_error,
    keyset_page,
    not_found,
    page_end,
    utcnow,
)
from api.params import FeedCursor, Id
from api.schemas import (
    FeedCreate,
    FeedImportResult,
    FeedPage,
    FeedPublic,
    FeedUpdate,
    InvalidFeed,
    Queued,
)
from monitor.discover import resolve_feed_url
from monitor.errors import ParseError
from monitor.opml import Subscription, read_opml, write_opml
from net.errors import BlockedURLError
from net.guard import check_urls
from store.feeds import (
    FeedWithCount,
    add_feed,
    all_feeds,
    delete_feed,
    get_feed,
    list_feeds,
    request_poll,
    update_feed,
)

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])
FEED_CURSOR = "f"


def to_public(row: FeedWithCount, default_interval: int) -> FeedPublic:
    """A feed: the interval asked for (or the default), and the one in force."""
    feed = row.feed
    assert feed.id is not None
    asked = feed.interval_seconds or default_interval
    return FeedPublic(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        interval_seconds=asked,
        effective_interval_seconds=feed.effective_interval_seconds or asked,
        status=feed.status,
        last_polled_at=feed.last_polled_at,
        next_poll_at=feed.next_poll_at,
        error_count=feed.error_count,
        last_error=feed.last_error,
        article_count=row.article_count,
        full_text=feed.full_text,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedPublic,
    summary="Add a feed, or the feed a web page advertises (200 when the URL is known)",
    responses={200: {"model": FeedPublic, "description": "The URL was known: the existing feed"}},
)
async def create(
    body: FeedCreate, response: Response, user: UserDep, config: ConfigDep, session: SessionDep
) -> FeedPublic:
    row, created = await add_feed_by_url(
        session=session,
        config=config,
        url=body.url,
        title=body.title or "",
        interval_seconds=body.interval_seconds,
        user_id=user.id,
        full_text=body.full_text,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return to_public(row, config.poll_interval_seconds)


async def add_feed_by_url(
    *,
    session: Session,
    config: ApiConfig,
    url: str,
    user_id: int | None,
    title: str = "",
    interval_seconds: int | None = None,
    full_text: str = "auto",
) -> tuple[FeedWithCount, bool]:
    """Add the feed at `url`, or the one the web page there advertises: (feed, created).
    A bad or blocked URL is a 422 on `url`."""
    # Release the transaction (SQLite's write lock) while the page is fetched.
    session.commit()
    try:
        feed_url = await resolve_feed_url(
            url, config.guard(), timeout_seconds=config.discovery_timeout_seconds
        )
    except BlockedURLError as exc:
        raise field_error("url", str(exc), "url_blocked") from None
    except ParseError as exc:
        raise field_error("url", str(exc), "not_a_feed") from None
    feed, created = add_feed(
        session=session,
        url=feed_url,
        now=utcnow(),
        title=title,
        interval_seconds=interval_seconds,
        created_by=user_id,
        full_text=full_text,
    )
    row = get_feed(session=session, feed_id=feed.id or 0)
    assert row is not None
    return row, created


@router.post(
    "/import",
    response_model=FeedImportResult,
    summary="Import an OPML subscription list (the request body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/x-opml": {"schema": {"type": "string"}}},
        }
    },
)
async def import_opml(
    request: Request, user: UserDep, config: ConfigDep, session: SessionDep
) -> FeedImportResult:
    return await import_feeds(
        session=session, config=config, document=await request.body(), user_id=user.id
    )


async def import_feeds(
    *, session: Session, config: ApiConfig, document: bytes, user_id: int | None
) -> FeedImportResult:
    """Add every feed of an OPML document: counts of added and existing, and the invalid
    ones with reasons. 413/422 for a document over the limits or not OPML."""
    if len(document) > config.max_import_bytes:
        raise HTTPException(
            413,
            f"an OPML document of at most {config.max_import_bytes} bytes",
        )
    try:
        subscriptions = read_opml(document)
    except ParseError as exc:
        raise HTTPException(422, str(exc)) from None
    if len(subscriptions) > config.max_import_feeds:
        raise HTTPException(
            422,
            f"the document lists {len(subscriptions)} feeds; an import may hold at most "
            f"{config.max_import_feeds} (MAX_IMPORT_FEEDS)",
        )
    session.commit()  # no write lock held while names resolve
    checked = await check_urls([s.url for s in subscriptions], config.guard())
    added = existing = 0
    invalid: list[InvalidFeed] = []
    for sub, error in zip(subscriptions, checked, strict=True):
        if error:
            invalid.append(InvalidFeed(url=sub.url[:2048], reason=error))
            continue
        _, created = add_feed(
            session=session,
            url=sub.url,
            now=utcnow(),
            title=sub.title,
            created_by=user_id,
            full_text=sub.full_text,
        )
        added += created
        existing += not created
    return FeedImportResult(added=added, existing=existing, invalid=invalid)


def export_document(session: Session) -> str:
    """The whole catalogue as an OPML document."""
    subscriptions = [
        Subscription(row.feed.url, row.feed.title, row.feed.site_url, row.feed.full_text)
        for row in all_feeds(session=session)
    ]
    return write_opml(subscriptions)


@router.get(
    "/export",
    response_class=Response,
    summary="Export every feed as an OPML document",
    responses={200: {"content": {"text/x-opml": {"schema": {"type": "string"}}}}},
)
def export_opml(session: SessionDep, _user: UserDep) -> Response:
    return Response(
        export_document(session),
        media_type="text/x-opml; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="newswatch-feeds.opml"'},
    )


@router.get("", response_model=FeedPage, summary="List feeds, oldest first")
def list_(
    session: SessionDep,
    _user: UserDep,
    config: ConfigDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: FeedCursor = None,
) -> FeedPage:
    limit, after_id = keyset_page(config, limit, cursor, FEED_CURSOR)
    rows = list_feeds(session=session, limit=limit + 1, after_id=after_id or 0)
    return FeedPage(
        items=[to_public(r, config.poll_interval_seconds) for r in rows[:limit]],
        next_cursor=page_end([r.feed.id or 0 for r in rows], limit, FEED_CURSOR),
    )


@router.get("/{feed_id:int}", response_model=FeedPublic, summary="Get a feed and its poll status")
def get(feed_id: Id, session: SessionDep, _user: UserDep, config: ConfigDep) -> FeedPublic:
    row = get_feed(session=session, feed_id=feed_id)
    if row is None:
        raise not_found("feed", feed_id)
    return to_public(row, config.poll_interval_seconds)


@router.patch(
    "/{feed_id:int}",
    response_model=FeedPublic,
    summary="Change a feed's title, interval or full-text mode",
)
def patch(
    feed_id: Id, body: FeedUpdate, session: SessionDep, _user: UserDep, config: ConfigDep
) -> FeedPublic:
    changes = body.model_dump(exclude_unset=True)
    for key in ("title", "full_text"):
        if changes.get(key) is None:
            changes.pop(key, None)
    if update_feed(session=session, feed_id=feed_id, changes=changes) is None:
        raise not_found("feed", feed_id)
    row = get_feed(session=session, feed_id=feed_id)
    assert row is not None
    return to_public(row, config.poll_interval_seconds)


@router.delete(
    "/{feed_id:int}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a feed (admin only)"
)
def delete(feed_id: Id, session: SessionDep, _admin: AdminDep) -> Response:
    if not delete_feed(session=session, feed_id=feed_id):
        raise not_found("feed", feed_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{feed_id:int}/poll",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Queued,
    response_model_exclude_none=True,
    summary="Poll a feed as soon as possible",
)
def poll(feed_id: Id, session: SessionDep, _user: UserDep) -> Queued:
    if not request_poll(session=session, feed_id=feed_id, now=utcnow()):
        raise not_found("feed", feed_id)
    return Queued(status="queued")
