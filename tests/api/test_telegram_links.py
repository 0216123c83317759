"""POST /v1/telegram/links: one-time codes, stored hashed, that expire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from api import ApiConfig, create_app
from store import session_scope
from store.tables import TelegramLink
from store.telegram import code_hash, ensure_chat, redeem_link
from tests.conftest import auth, make_user


@pytest.fixture
def bot_client(engine: Engine) -> Iterator[TestClient]:
    """The API of a service whose bot runs (as @newswatch_bot)."""
    config = ApiConfig(allow_private_networks=True, telegram_bot_username="newswatch_bot")
    with TestClient(create_app(engine=engine, config=config)) as test_client:
        yield test_client


def test_no_bot_answers_409_naming_the_setting(client: TestClient, engine: Engine) -> None:
    """Without a bot there is nobody to redeem a code: 409 naming TELEGRAM_BOT_TOKEN."""
    _, token = make_user(engine, "desk")
    answer = client.post("/v1/telegram/links", headers=auth(token))
    assert answer.status_code == 409
    assert "NEWSWATCH_TELEGRAM_BOT_TOKEN" in answer.json()["detail"]
    with session_scope(engine) as session:
        assert list(session.exec(select(TelegramLink))) == []


def test_link_code_is_stored_hashed_and_expires(bot_client: TestClient, engine: Engine) -> None:
    """A code needs a token, is unique, is kept only as a hash, and stops working once
    used or expired."""
    client = bot_client
    user_id, token = make_user(engine, "desk")
    assert client.post("/v1/telegram/links").status_code == 401
    first, second = (client.post("/v1/telegram/links", headers=auth(token)) for _ in range(2))
    assert first.status_code == second.status_code == 201
    body = first.json()
    assert body["code"] != second.json()["code"] and len(body["code"]) <= 64
    assert body["deep_link"] == f"https://t.me/newswatch_bot?start={body['code']}"
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    now = datetime.now(UTC)
    with session_scope(engine) as session:
        hashes = set(session.exec(select(TelegramLink.code_hash)))
        assert hashes == {code_hash(body["code"]), code_hash(second.json()["code"])}
        ensure_chat(session=session, chat_id=77, title="", chat_type="private", now=now)
        late = now + timedelta(hours=2)
        assert redeem_link(session=session, code=body["code"], chat_id=77, now=late) is None
        user = redeem_link(session=session, code=body["code"], chat_id=77, now=now)
        assert user is not None and user.id == user_id
        assert redeem_link(session=session, code=body["code"], chat_id=77, now=now) is None
