"""Webhook endpoints of the calling user, their deliveries and a test ping."""

from __future__ import annotations

import binascii
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import Session

from api.config import ApiConfig
from api.deps import (
    ConfigDep,
    SessionDep,
    UserDep,
    field_error,
    keyset_page,
    not_found,
    page_end,
    utcnow,
)
from api.modes import ModeUpdate
from api.params import DeliveryCursor, Id, WebhookCursor
from api.routes.deliveries import to_public as delivery_public
from api.routes.webhook_modes import patch_mode
from api.schemas import (
    DeliveryPage,
    Queued,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookPublic,
    WebhookRotate,
    WebhookRotated,
    WebhookUpdate,
)
from net.errors import BlockedURLError
from notifiers.webhook import new_secret, secret_bytes
from store.deliveries import list_deliveries
from store.hits import WEBHOOK, encode_cursor, enqueue
from store.tables import Webhook
from store.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhooks,
    rotate_secret,
    update_webhook,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
DELIVERY_CURSOR = "d"
WEBHOOK_CURSOR = "w"


async def _check_url(url: str, config: ApiConfig) -> None:
    try:
        await config.guard().check_url(url)
    except BlockedURLError as exc:
        raise field_error("url", str(exc), "url_blocked") from None


def _checked_secret(secret: str | None) -> str:
    """The given secret if it is a usable key, or a new one."""
    secret = secret or new_secret()
    try:
        if len(secret_bytes(secret)) < 16:
            raise field_error("secret", "the secret must hold at least 16 bytes")
    except binascii.Error:
        raise field_error("secret", "the secret after whsec_ must be base64") from None
    return secret


def to_public(webhook: Webhook) -> WebhookPublic:
    assert webhook.id is not None
    return WebhookPublic(
        id=webhook.id,
        url=webhook.url,
        rule_ids=webhook.rule_ids,
        active=webhook.active,
        disabled_reason=webhook.disabled_reason,
        previous_secret_expires_at=_rotation_end(webhook),
        created_at=webhook.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Add a webhook; its signing secret is shown only in this answer",
)
async def create(
    body: WebhookCreate, session: SessionDep, user: UserDep, config: ConfigDep
) -> WebhookCreated:
    webhook, secret = await add_webhook(
        session=session,
        config=config,
        user_id=user.id or 0,
        url=body.url,
        rule_ids=body.rule_ids,
        secret=body.secret,
    )
    return WebhookCreated(**to_public(webhook).model_dump(), secret=secret)


async def add_webhook(
    *,
    session: Session,
    config: ApiConfig,
    user_id: int,
    url: str,
    rule_ids: list[int] | None = None,
    secret: str | None = None,
) -> tuple[Webhook, str]:
    """Add a webhook (its URL passes the SSRF guard): the row and its signing secret."""
    await _check_url(url, config)
    secret = _checked_secret(secret)
    webhook = create_webhook(
        session=session, user_id=user_id, url=url, secret=secret, rule_ids=rule_ids, now=utcnow()
    )
    return webhook, secret


def ping(*, session: Session, user_id: int, webhook_id: int) -> int | None:
    """Queue a ping to one of the user's webhooks; 404 when it is not theirs."""
    if get_webhook(session=session, webhook_id=webhook_id, user_id=user_id) is None:
        raise not_found("webhook", webhook_id)
    return enqueue(
        session=session,
        user_id=user_id,
        kind=WEBHOOK,
        channel_id=webhook_id,
        now=utcnow(),
        event_type="ping",
    )


@router.get("", response_model=WebhookPage, summary="List your webhooks, oldest first")
def list_(
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: WebhookCursor = None,
) -> WebhookPage:
    limit, after_id = keyset_page(config, limit, cursor, WEBHOOK_CURSOR)
    rows = list_webhooks(
        session=session, user_id=user.id or 0, limit=limit + 1, after_id=after_id or 0
    )
    return WebhookPage(
        items=[to_public(w) for w in rows[:limit]],
        next_cursor=page_end([w.id or 0 for w in rows], limit, WEBHOOK_CURSOR),
    )


@router.get("/{webhook_id:int}", response_model=WebhookPublic, summary="Get a webhook")
def get(webhook_id: Id, session: SessionDep, user: UserDep) -> WebhookPublic:
    webhook = get_webhook(session=session, webhook_id=webhook_id, user_id=user.id)
    if webhook is None:
        raise not_found("webhook", webhook_id)
    return to_public(webhook)


class WebhookChange(WebhookUpdate, ModeUpdate):
    """A webhook PATCH: its own fields, and the delivery-mode fields of every channel."""


@router.patch(
    "/{webhook_id:int}",
    response_model=WebhookPublic,
    summary="Change a webhook's url, rule_ids, active (true turns on one a 410 disabled), "
    "mode, at, timezone or quiet_hours",
)
async def patch(
    webhook_id: Id, body: WebhookChange, session: SessionDep, user: UserDep, config: ConfigDep
) -> WebhookPublic:
    changes = body.model_dump(exclude_unset=True)
    mode = ModeUpdate.model_validate(
        {key: changes.pop(key) for key in list(changes) if key in ModeUpdate.model_fields}
    )
    for key in ("url", "active"):
        if key in changes and changes[key] is None:
            del changes[key]
    if "url" in changes:
        session.commit()  # no write lock held while the name resolves
        await _check_url(changes["url"], config)
    webhook = update_webhook(
        session=session, webhook_id=webhook_id, user_id=user.id or 0, changes=changes, now=utcnow()
    )
    if webhook is None:
        raise not_found("webhook", webhook_id)
    patch_mode(session, webhook_id, mode)  # a 422 here rolls the whole change back
    return to_public(webhook)


@router.post(
    "/{webhook_id:int}/rotate-secret",
    response_model=WebhookRotated,
    summary="Replace the signing secret; the old one also signs for a grace period",
)
def rotate(
    webhook_id: Id, session: SessionDep, user: UserDep, body: WebhookRotate | None = None
) -> WebhookRotated:
    body = body or WebhookRotate()
    webhook = get_webhook(session=session, webhook_id=webhook_id, user_id=user.id)
    if webhook is None:
        raise not_found("webhook", webhook_id)
    secret = _checked_secret(body.secret)
    until = utcnow() + timedelta(hours=body.grace_hours) if body.grace_hours > 0 else None
    rotate_secret(session=session, webhook=webhook, secret=secret, previous_until=until)
    return WebhookRotated(id=webhook_id, secret=secret, previous_secret_expires_at=until)


def _rotation_end(webhook: Webhook) -> datetime | None:
    until = webhook.previous_secret_expires_at
    return until if webhook.previous_secret and until and until > utcnow() else None


@router.delete(
    "/{webhook_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook; its pending deliveries are dropped",
)
def delete(webhook_id: Id, session: SessionDep, user: UserDep) -> Response:
    if not delete_webhook(
        session=session, webhook_id=webhook_id, user_id=user.id or 0, now=utcnow()
    ):
        raise not_found("webhook", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id:int}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Queued,
    summary="Send a ping event to the webhook",
)
def test(webhook_id: Id, session: SessionDep, user: UserDep) -> Queued:
    delivery_id = ping(session=session, user_id=user.id or 0, webhook_id=webhook_id)
    return Queued(status="queued", delivery_id=delivery_id)


@router.get(
    "/{webhook_id:int}/deliveries",
    response_model=DeliveryPage,
    summary="Deliveries to this webhook, newest first, with keyset pagination",
)
def deliveries(
    webhook_id: Id,
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: DeliveryCursor = None,
) -> DeliveryPage:
    limit, before_id = keyset_page(config, limit, cursor, DELIVERY_CURSOR)
    if get_webhook(session=session, webhook_id=webhook_id, user_id=user.id) is None:
        raise not_found("webhook", webhook_id)
    rows = list_deliveries(
        session=session, kind=WEBHOOK, channel_id=webhook_id, limit=limit + 1, before_id=before_id
    )
    items = [delivery_public(d) for d in rows[:limit]]
    more = len(rows) > limit
    return DeliveryPage(
        items=items, next_cursor=encode_cursor(items[-1].id, DELIVERY_CURSOR) if more else None
    )
