"""E-mail and Apprise channels of the calling user, with their delivery modes."""

from __future__ import annotations

import re
import secrets

from fastapi import APIRouter, HTTPException, Response, status

from api.deps import ConfigDep, SessionDep, UserDep, field_error, not_found, utcnow
from api.modes import (
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
    ModeUpdate,
    MutePublic,
    MuteRequest,
    apply_mode,
    mode_public,
    mute,
)
from net.errors import BlockedURLError
from net.guard import Guard
from notifiers.apprise_channel import AppriseURLError, check_target, redact
from store.channels import get_setting, settings_for
from store.hits import enqueue
from store.tables import Channel, ChannelSetting
from store.targets import (
    APPRISE,
    CONFIRM_EVENT,
    EMAIL,
    create_channel,
    delete_channel,
    get_channel,
    list_channels,
)

router = APIRouter(prefix="/v1/channels", tags=["channels"])
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def to_public(channel: Channel, setting: ChannelSetting | None) -> ChannelPublic:
    assert channel.id is not None
    return ChannelPublic(
        id=channel.id,
        kind=channel.kind,
        target=channel.display,
        rule_ids=channel.rule_ids,
        active=channel.active,
        confirmed=channel.confirmed_at is not None,
        disabled_reason=channel.disabled_reason,
        created_at=channel.created_at,
        **mode_public(setting, utcnow()).model_dump(),
    )


async def _checked_apprise(url: str, allow_private: bool) -> str:
    """The redacted form of a usable Apprise URL, or a 422 that never echoes the URL."""
    try:
        await check_target(url, Guard(allow_private=allow_private))
        return redact(url)
    except AppriseURLError as exc:
        raise field_error("target", str(exc)) from None
    except BlockedURLError:
        raise field_error(
            "target", "the URL's host is not a public address", "url_blocked"
        ) from None


def _checked_address(address: str) -> str:
    """A plain e-mail address (one recipient, no display name), or a 422."""
    address = address.strip()
    if len(address) > 254 or not _ADDRESS.match(address):
        raise field_error("target", "not an e-mail address like desk@example.org")
    return address


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ChannelPublic,
    summary="Add an e-mail or Apprise channel; an Apprise URL is shown only redacted",
)
async def create(
    body: ChannelCreate, session: SessionDep, user: UserDep, config: ConfigDep
) -> ChannelPublic:
    if len(list_channels(session=session, user_id=user.id or 0)) >= config.max_channels_per_user:
        raise HTTPException(409, f"at most {config.max_channels_per_user} channels per user")
    now = utcnow()
    if body.kind == APPRISE:
        display = await _checked_apprise(body.target, config.allow_private_networks)
        secret = ""
    else:
        if not config.email_enabled:
            raise field_error("kind", "e-mail is not configured on this server (SMTP_HOST)")
        display = _checked_address(body.target)
        secret = secrets.token_urlsafe(32)
    channel = create_channel(
        session=session,
        user_id=user.id or 0,
        kind=body.kind,
        target=display if body.kind == EMAIL else body.target,
        display=display,
        rule_ids=body.rule_ids,
        link_secret=secret,
        now=now,
    )
    if body.kind == EMAIL:  # double opt-in: only the confirmation goes out until confirmed
        enqueue(
            session=session,
            user_id=user.id or 0,
            kind=EMAIL,
            channel_id=channel.id or 0,
            now=now,
            event_type=CONFIRM_EVENT,
        )
    mode = ModeUpdate(**body.model_dump(include=set(ModeUpdate.model_fields), exclude_unset=True))
    setting = apply_mode(
        session=session, kind=channel.kind, channel_id=channel.id or 0, change=mode, now=now
    )
    return to_public(channel, setting)


@router.get("", response_model=list[ChannelPublic], summary="List your channels")
def list_(session: SessionDep, user: UserDep) -> list[ChannelPublic]:
    rows = list_channels(session=session, user_id=user.id or 0)
    settings = settings_for(session=session, channels=[(c.kind, c.id or 0) for c in rows])
    return [to_public(c, settings.get((c.kind, c.id or 0))) for c in rows]


def _own(session: SessionDep, user: UserDep, channel_id: int) -> Channel:
    channel = get_channel(session=session, channel_id=channel_id, user_id=user.id)
    if channel is None:
        raise not_found("channel", channel_id)
    return channel


@router.get("/{channel_id}", response_model=ChannelPublic, summary="Get a channel")
def get(channel_id: int, session: SessionDep, user: UserDep) -> ChannelPublic:
    channel = _own(session, user, channel_id)
    return to_public(
        channel, get_setting(session=session, kind=channel.kind, channel_id=channel_id)
    )


@router.patch("/{channel_id}", response_model=ChannelPublic, summary="Change only the fields sent")
def patch(
    channel_id: int, body: ChannelUpdate, session: SessionDep, user: UserDep
) -> ChannelPublic:
    channel = _own(session, user, channel_id)
    sent = body.model_dump(exclude_unset=True)
    if "rule_ids" in sent:
        channel.rule_ids = body.rule_ids
    if sent.get("active") is True:
        channel.active, channel.disabled_reason = True, ""
    elif sent.get("active") is False:
        channel.active = False
    session.add(channel)
    mode = ModeUpdate(**body.model_dump(include=set(ModeUpdate.model_fields), exclude_unset=True))
    setting = apply_mode(
        session=session, kind=channel.kind, channel_id=channel_id, change=mode, now=utcnow()
    )
    return to_public(channel, setting)


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a channel; its pending deliveries are dropped",
)
def delete(channel_id: int, session: SessionDep, user: UserDep) -> Response:
    if not delete_channel(
        session=session, channel_id=channel_id, user_id=user.id or 0, now=utcnow()
    ):
        raise not_found("channel", channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{channel_id}/mute",
    response_model=MutePublic,
    summary="Mute a channel until a time or for a while: hits are recorded, none is sent",
)
def mute_channel(
    channel_id: int, body: MuteRequest, session: SessionDep, user: UserDep
) -> MutePublic:
    channel = _own(session, user, channel_id)
    now = utcnow()
    return mute(
        session=session, kind=channel.kind, channel_id=channel_id, until=body.resolve(now), now=now
    )


@router.delete(
    "/{channel_id}/mute", status_code=status.HTTP_204_NO_CONTENT, summary="Unmute a channel"
)
def unmute_channel(channel_id: int, session: SessionDep, user: UserDep) -> Response:
    channel = _own(session, user, channel_id)
    mute(session=session, kind=channel.kind, channel_id=channel_id, until=None, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
