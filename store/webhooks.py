"""Webhook endpoints of users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.tables import Delivery, Webhook


def create_webhook(
    *,
    session: Session,
    user_id: int,
    url: str,
    secret: str,
    now: datetime,
    rule_ids: list[int] | None = None,
) -> Webhook:
    webhook = Webhook(user_id=user_id, url=url, secret=secret, rule_ids=rule_ids, created_at=now)
    session.add(webhook)
    session.flush()
    return webhook


def get_webhook(*, session: Session, webhook_id: int, user_id: int | None = None) -> Webhook | None:
    """A webhook that is not deleted; with `user_id`, only if that user owns it."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.deleted_at is not None:
        return None
    if user_id is not None and webhook.user_id != user_id:
        return None
    return webhook


def list_webhooks(
    *, session: Session, user_id: int, limit: int | None = None, after_id: int = 0
) -> list[Webhook]:
    """A user's webhooks, oldest first, keyset-paged."""
    stmt = (
        select(Webhook)
        .where(Webhook.user_id == user_id, col(Webhook.deleted_at).is_(None))
        .where(col(Webhook.id) > after_id)
        .order_by(col(Webhook.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def update_webhook(
    *, session: Session, webhook_id: int, user_id: int, changes: dict[str, Any], now: datetime
) -> Webhook | None:
    """Change `url`, `rule_ids` and/or `active`. Turning a webhook on clears why it was
    disabled (a 410, say); turning it off drops its pending deliveries, as a 410 does."""
    webhook = get_webhook(session=session, webhook_id=webhook_id, user_id=user_id)
    if webhook is None:
        return None
    for key in ("url", "rule_ids"):
        if key in changes:
            setattr(webhook, key, changes[key])
    if changes.get("active") is True and not webhook.active:
        webhook.active, webhook.disabled_reason = True, ""
    session.add(webhook)
    session.flush()
    if changes.get("active") is False and webhook.active:
        disable_webhook(session=session, webhook_id=webhook_id, reason="turned off", now=now)
        session.refresh(webhook)
    return webhook


def rotate_secret(
    *, session: Session, webhook: Webhook, secret: str, previous_until: datetime | None
) -> Webhook:
    """Sign with `secret` from now on, and with the old one too until `previous_until`."""
    webhook.previous_secret = webhook.secret if previous_until is not None else ""
    webhook.previous_secret_expires_at = previous_until
    webhook.secret = secret
    session.add(webhook)
    session.flush()
    return webhook


def delete_webhook(*, session: Session, webhook_id: int, user_id: int, now: datetime) -> bool:
    webhook = get_webhook(session=session, webhook_id=webhook_id, user_id=user_id)
    if webhook is None:
        return False
    webhook.deleted_at = now
    webhook.active = False
    session.add(webhook)
    _cancel_pending(session, webhook_id, now, "webhook deleted")
    return True


def disable_webhook(*, session: Session, webhook_id: int, reason: str, now: datetime) -> None:
    """Stop sending to an endpoint (it answered 410 Gone); its pending deliveries die."""
    session.execute(
        sa.update(Webhook)
        .where(col(Webhook.id) == webhook_id)
        .values(active=False, disabled_reason=reason[:500])
    )
    _cancel_pending(session, webhook_id, now, reason)


def _cancel_pending(session: Session, webhook_id: int, now: datetime, reason: str) -> None:
    session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.channel_kind) == "webhook",
            col(Delivery.channel_id) == webhook_id,
            col(Delivery.status) == "pending",
        )
        .values(
            status="dead",
            last_error=reason[:1000],
            updated_at=now,
            lease_owner="",
            lease_expires_at=None,
        )
    )
