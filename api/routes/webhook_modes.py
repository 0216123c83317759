"""A webhook's delivery mode, quiet hours and mute. The mode fields are meant for
PATCH /v1/webhooks/{id} too; until that route takes them, they live at .../mode."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import SessionDep, UserDep, not_found, utcnow
from api.modes import ModePublic, ModeUpdate, MutePublic, MuteRequest, apply_mode, mode_public, mute
from store.channels import get_setting
from store.hits import WEBHOOK
from store.webhooks import get_webhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _own(session: SessionDep, user: UserDep, webhook_id: int) -> None:
    if get_webhook(session=session, webhook_id=webhook_id, user_id=user.id) is None:
        raise not_found("webhook", webhook_id)


@router.get("/{webhook_id}/mode", response_model=ModePublic, summary="A webhook's delivery mode")
def get_mode(webhook_id: int, session: SessionDep, user: UserDep) -> ModePublic:
    _own(session, user, webhook_id)
    setting = get_setting(session=session, kind=WEBHOOK, channel_id=webhook_id)
    return mode_public(setting, utcnow())


@router.patch(
    "/{webhook_id}/mode",
    response_model=ModePublic,
    summary="Change the delivery mode (instant, hourly, daily at a local time) or quiet hours",
)
def patch(webhook_id: int, body: ModeUpdate, session: SessionDep, user: UserDep) -> ModePublic:
    _own(session, user, webhook_id)
    return patch_mode(session, webhook_id, body)


def patch_mode(session: SessionDep, webhook_id: int, body: ModeUpdate) -> ModePublic:
    """The mode part of a webhook PATCH, for PATCH /v1/webhooks/{id} to call as well."""
    now = utcnow()
    setting = apply_mode(session=session, kind=WEBHOOK, channel_id=webhook_id, change=body, now=now)
    return mode_public(setting, now)


@router.post(
    "/{webhook_id}/mute",
    response_model=MutePublic,
    summary="Mute a webhook until a time or for a while: hits are recorded, none is sent",
)
def mute_webhook(
    webhook_id: int, body: MuteRequest, session: SessionDep, user: UserDep
) -> MutePublic:
    _own(session, user, webhook_id)
    now = utcnow()
    return mute(
        session=session, kind=WEBHOOK, channel_id=webhook_id, until=body.resolve(now), now=now
    )


@router.delete(
    "/{webhook_id}/mute", status_code=status.HTTP_204_NO_CONTENT, summary="Unmute a webhook"
)
def unmute_webhook(webhook_id: int, session: SessionDep, user: UserDep) -> Response:
    _own(session, user, webhook_id)
    mute(session=session, kind=WEBHOOK, channel_id=webhook_id, until=None, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
