"""E-mail and Apprise channels of users (rows of `channels`), isolated per user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.tables import Channel, Delivery

EMAIL, APPRISE = "email", "apprise"
KINDS = (EMAIL, APPRISE)
CONFIRM_EVENT = "channel.confirm"  # the double opt-in message of an e-mail channel


def create_channel(
    *,
    session: Session,
    user_id: int,
    kind: str,
    target: str,
    display: str,
    now: datetime,
    rule_ids: list[int] | None = None,
    link_secret: str = "",
) -> Channel:
    """A new channel; with a `link_secret` (e-mail) it sends nothing but the confirmation
    message until its confirmation link is followed."""
    channel = Channel(
        user_id=user_id,
        kind=kind,
        target=target,
        display=display,
        rule_ids=rule_ids,
        link_secret=link_secret,
        confirmed_at=None if link_secret else now,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def get_channel(*, session: Session, channel_id: int, user_id: int | None = None) -> Channel | None:
    """A channel that is not deleted; with `user_id`, only if that user owns it."""
    channel = session.get(Channel, channel_id)
    if channel is None or channel.deleted_at is not None:
        return None
    if user_id is not None and channel.user_id != user_id:
        return None
    return channel


def list_channels(*, session: Session, user_id: int) -> list[Channel]:
    stmt = (
        select(Channel)
        .where(Channel.user_id == user_id, col(Channel.deleted_at).is_(None))
        .order_by(col(Channel.id))
    )
    return list(session.exec(stmt))


def update_channel(*, session: Session, channel: Channel, changes: dict[str, Any]) -> Channel:
    for key, value in changes.items():
        setattr(channel, key, value)
    session.add(channel)
    session.flush()
    return channel


def delete_channel(*, session: Session, channel_id: int, user_id: int, now: datetime) -> bool:
    channel = get_channel(session=session, channel_id=channel_id, user_id=user_id)
    if channel is None:
        return False
    channel.deleted_at = now
    channel.active = False
    session.add(channel)
    _cancel_pending(session, channel, now, "channel deleted")
    return True


def confirm_channel(*, session: Session, channel_id: int, now: datetime) -> bool:
    """Double opt-in: the (verified) link of the first message turns the channel on."""
    result = session.execute(
        sa.update(Channel)
        .where(
            col(Channel.id) == channel_id,
            col(Channel.deleted_at).is_(None),
            col(Channel.confirmed_at).is_(None),
        )
        .values(confirmed_at=now, active=True, disabled_reason="")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def sent_since(*, session: Session, kind: str, channel_id: int, since: datetime) -> int:
    """How many deliveries a channel was sent since `since` (for per-address bounds)."""
    return session.exec(
        select(sa.func.count()).where(
            col(Delivery.channel_kind) == kind,
            col(Delivery.channel_id) == channel_id,
            col(Delivery.status) == "sent",
            col(Delivery.sent_at) > since,
        )
    ).one()


def deactivate_channel(*, session: Session, channel_id: int, reason: str, now: datetime) -> None:
    """Stop sending to a channel (an address the server refused, an unsubscribe); its
    pending deliveries die."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        return
    channel.active = False
    channel.disabled_reason = reason[:500]
    session.add(channel)
    _cancel_pending(session, channel, now, reason)


def _cancel_pending(session: Session, channel: Channel, now: datetime, reason: str) -> None:
    session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.channel_kind) == channel.kind,
            col(Delivery.channel_id) == channel.id,
            col(Delivery.status).in_(["pending", "held"]),
        )
        .values(
            status="dead",
            last_error=reason[:1000],
            updated_at=now,
            lease_owner="",
            lease_expires_at=None,
        )
    )
