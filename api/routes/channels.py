"""E-mail and Apprise channels of the calling user, with their delivery modes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

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
from store.tables import Channel, ChannelSetting
from store.targets import APPRISE, create_channel, delete_channel, get_channel, list_channels

router = APIRouter(prefix="/v1/channels", tags=["channels"])


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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ChannelPublic,
    summary="Add an e-mail or Apprise channel; an Apprise URL is shown only redacted",
)
async def create(
    body: ChannelCreate, session: SessionDep, user: UserDep, config: ConfigDep
) -> ChannelPublic:
    if body.kind != APPRISE:
        raise field_error("kind", "e-mail channels are not available on this server")
    display = await _checked_apprise(body.target, config.allow_private_networks)
    now = utcnow()
    channel = create_channel(
        session=session,
        user_id=user.id or 0,
        kind=body.kind,
        target=body.target,
        display=display,
        rule_ids=body.rule_ids,
        now=now,
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
