"""Link codes that tie a Telegram chat to the calling API user."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session

from api.config import ApiConfig
from api.deps import ConfigDep, SessionDep, UserDep, utcnow
from api.schemas import TelegramLinkCreated
from store.telegram import create_link

router = APIRouter(prefix="/v1/telegram", tags=["telegram"])


@router.post(
    "/links",
    status_code=status.HTTP_201_CREATED,
    response_model=TelegramLinkCreated,
    summary="A one-time code: `/start <code>` in the bot links that chat to you",
    responses={409: {"description": "No Telegram bot runs (NEWSWATCH_TELEGRAM_BOT_TOKEN unset)"}},
)
def create(session: SessionDep, user: UserDep, config: ConfigDep) -> TelegramLinkCreated:
    return new_link(session=session, config=config, user_id=user.id or 0)


def new_link(*, session: Session, config: ApiConfig, user_id: int) -> TelegramLinkCreated:
    """A fresh one-time link code of a user, with the bot's deep link; 409 when no bot runs."""
    username = config.telegram_bot_username
    if not username:  # a code no bot can redeem would only mislead
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "no Telegram bot runs: set NEWSWATCH_TELEGRAM_BOT_TOKEN (from @BotFather) "
            "and restart the service, then ask for a link code",
        )
    now = utcnow()
    expires_at = now + timedelta(seconds=config.telegram_link_ttl_seconds)
    # Telegram deep-link parameters allow up to 64 characters of [A-Za-z0-9_-].
    code = secrets.token_urlsafe(24)
    create_link(session=session, user_id=user_id, code=code, now=now, expires_at=expires_at)
    return TelegramLinkCreated(
        code=code,
        deep_link=f"https://t.me/{username}?start={code}",
        expires_at=expires_at,
    )
