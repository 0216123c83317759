"""The shared feed catalogue: anyone may add a feed; only the admin may delete one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import AdminDep, ConfigDep, SessionDep, UserDep, field_error, not_found, utcnow
from api.schemas import FeedCreate, FeedPublic, FeedUpdate, Queued
from monitor.errors import BlockedURLError
from monitor.guard import check_url
from store.feeds import (
    FeedWithCount,
    add_feed,
    delete_feed,
    get_feed,
    list_feeds,
    request_poll,
    update_feed,
)

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])


def to_public(row: FeedWithCount, default_interval: int = 600) -> FeedPublic:
    feed = row.feed
    assert feed.id is not None
    return FeedPublic(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        interval_seconds=feed.interval_seconds
        or feed.effective_interval_seconds
        or default_interval,
        status=feed.status,
        last_polled_at=feed.last_polled_at,
        next_poll_at=feed.next_poll_at,
        error_count=feed.error_count,
        last_error=feed.last_error,
        article_count=row.article_count,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedPublic,
    summary="Add a feed (200 with the existing feed when the URL is known)",
    responses={200: {"model": FeedPublic, "description": "The URL was known: the existing feed"}},
)
async def create(
    body: FeedCreate, response: Response, user: UserDep, config: ConfigDep, session: SessionDep
) -> FeedPublic:
    try:
        await check_url(body.url, allow_private=config.allow_private_networks)
    except BlockedURLError as exc:
        raise field_error("url", str(exc), "url_blocked") from None
    feed, created = add_feed(
        session=session,
        url=body.url,
        now=utcnow(),
        title=body.title or "",
        interval_seconds=body.interval_seconds,
        created_by=user.id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    row = get_feed(session=session, feed_id=feed.id or 0)
    assert row is not None
    return to_public(row)


@router.get("", response_model=list[FeedPublic], summary="List feeds")
def list_(
    session: SessionDep,
    _user: UserDep,
    config: ConfigDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> list[FeedPublic]:
    return [to_public(r) for r in list_feeds(session=session, limit=limit, after_id=after_id)]


@router.get("/{feed_id}", response_model=FeedPublic, summary="Get a feed and its poll status")
def get(feed_id: int, session: SessionDep, _user: UserDep) -> FeedPublic:
    row = get_feed(session=session, feed_id=feed_id)
    if row is None:
        raise not_found("feed", feed_id)
    return to_public(row)


@router.patch("/{feed_id}", response_model=FeedPublic, summary="Change a feed's title or interval")
def patch(feed_id: int, body: FeedUpdate, session: SessionDep, _user: UserDep) -> FeedPublic:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("title") is None:
        changes.pop("title", None)
    if update_feed(session=session, feed_id=feed_id, changes=changes) is None:
        raise not_found("feed", feed_id)
    row = get_feed(session=session, feed_id=feed_id)
    assert row is not None
    return to_public(row)


@router.delete(
    "/{feed_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a feed (admin only)"
)
def delete(feed_id: int, session: SessionDep, _admin: AdminDep) -> Response:
    if not delete_feed(session=session, feed_id=feed_id):
        raise not_found("feed", feed_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{feed_id}/poll",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Queued,
    summary="Poll a feed as soon as possible",
)
def poll(feed_id: int, session: SessionDep, _user: UserDep) -> Queued:
    if not request_poll(session=session, feed_id=feed_id, now=utcnow()):
        raise not_found("feed", feed_id)
    return Queued(status="queued")
