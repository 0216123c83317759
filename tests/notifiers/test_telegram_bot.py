"""The bot's commands, webhook mode and single receiver, in process: the real
python-telegram-bot Application against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from newswatch.fake_telegram import TOKEN, FakeTelegram, Sent
from notifiers.telegram import SECRET_HEADER, TelegramConfig, TelegramRole
from rules import RuleSyntaxError, parse
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.rules import create_rule
from store.tables import TelegramChat
from store.telegram import create_link, deactivate_chat
from tests.conftest import make_user
from tests.support.service import free_port
from tests.support.telegram_world import Story, seed_alerts


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def bot(engine: Engine, fake: FakeTelegram, **config: Any) -> AsyncIterator[TelegramRole]:
    role = TelegramRole(
        engine,
        TelegramConfig(
            token=TOKEN,
            api_url=fake.api_url,
            poll_timeout_seconds=1,
            lock_retry_seconds=0.2,
            **config,
        ),
        now,
    )
    await role.start(receive=True, send=False)
    try:
        yield role
    finally:
        await role.stop()


async def until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return value


async def ask(fake: FakeTelegram, chat: int, text: str, *, button: bool = False) -> Sent:
    """Write to the bot (or press a button) and wait for its next message to the chat."""
    before = len(fake.sent(chat))
    if button:
        fake.callback(chat, text)
    else:
        fake.message(chat, text)
    return (await until(lambda: fake.sent(chat)[before:]))[0]  # type: ignore[no-any-return]


def chat_row(engine: Engine, chat_id: int) -> TelegramChat:
    with session_scope(engine, readonly=True) as session:
        return session.exec(select(TelegramChat).where(TelegramChat.chat_id == chat_id)).one()


def buttons(sent: Sent) -> list[str]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


BAD_QUERIES = ["ByteDance AND (Huawei", 'title:"unclosed', "a AND AND b", "NOT Huawei"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # refused before any SQL
def test_watch_refuses_bad_queries_with_a_caret(engine: Engine) -> None:
    """/watch with a bad query saves nothing and answers with a caret under the error."""

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                for query in BAD_QUERIES:
                    with pytest.raises(RuleSyntaxError) as refused:
                        parse(query)
                    answer = await ask(fake, 61, f"/watch {query}")
                    assert answer.parsed is not None and "❌" in answer.parsed.text
                    line, caret = answer.parsed.text.splitlines()[-2:]
                    assert line == query, query
                    assert caret.index("^") == refused.value.position, query
                rules = await ask(fake, 61, "/rules")
                assert "No rules yet" in rules.parsed.text  # type: ignore[union-attr]

    asyncio.run(run())


def test_commands_and_buttons(engine: Engine) -> None:
    """/watch gives buttons; /test shows stored matches; the unwatch button removes the
    rule; /pause and /resume switch alerts; /start reactivates a blocked chat."""
    seed_alerts(engine, [999], per_chat=2, title="Huawei & <partners>")

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                watched = await ask(fake, 62, "/watch Huawei")
                test_id, unwatch_id = buttons(watched)
                assert test_id.startswith("test:") and unwatch_id.startswith("unwatch:")

                tested = await ask(fake, 62, test_id, button=True)
                assert tested.parsed is not None
                assert tested.parsed.links == [  # newest first, titles escaped
                    ("https://news.example/1", "Huawei & <partners>"),
                    ("https://news.example/0", "Huawei & <partners>"),
                ]
                assert tested.parsed.bold == ["Huawei", "Huawei"]
                nothing = await ask(fake, 62, "/test Xiaomi OR Oppo")
                assert "No stored article matches" in nothing.parsed.text  # type: ignore[union-attr]

                removed = await ask(fake, 62, unwatch_id, button=True)
                assert "removed" in removed.parsed.text  # type: ignore[union-attr]
                assert "No rules yet" in (await ask(fake, 62, "/rules")).parsed.text  # type: ignore[union-attr]

                paused = await ask(fake, 62, "/pause")
                assert buttons(paused) == ["resume"] and chat_row(engine, 62).paused
                await ask(fake, 62, "resume", button=True)
                assert not chat_row(engine, 62).paused

                # A link code moves the chat, and the rules it made, to the code's user.
                await ask(fake, 62, "/watch Xiaomi")
                desk, _ = make_user(engine, "desk")
                with session_scope(engine) as session:
                    create_link(
                        session=session,
                        user_id=desk,
                        code="code-62",
                        now=now(),
                        expires_at=now() + timedelta(minutes=5),
                    )
                assert "Linked" in (await ask(fake, 62, "/start code-62")).parsed.text  # type: ignore[union-attr]
                assert chat_row(engine, 62).user_id == desk
                listed = await ask(fake, 62, "/rules")
                assert "Xiaomi" in listed.parsed.text  # type: ignore[union-attr]
                again = await ask(fake, 62, "/start code-62")
                assert "unknown, used or expired" in again.parsed.text  # type: ignore[union-attr]

                with session_scope(engine) as session:
                    deactivate_chat(
                        session=session,
                        chat_row_id=chat_row(engine, 62).id or 0,
                        reason="403",
                        now=now(),
                    )
                assert not chat_row(engine, 62).active
                await ask(fake, 62, "/start")
                assert chat_row(engine, 62).active
                assert {c["command"] for c in fake.commands} == {
                    "start",
                    "help",
                    "watch",
                    "rules",
                    "unwatch",
                    "backfill",
                    "test",
                    "pause",
                    "resume",
                    "digest",
                    "quiet",
                    "mute",
                    "unmute",
                }

    asyncio.run(run())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_webhook_mode_checks_the_secret_token(engine: Engine) -> None:
    """In webhook mode the bot registers its URL with a secret token, and only updates
    that carry the token are handled."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(
                engine,
                fake,
                webhook_url=url,
                webhook_secret="s3cret-token",
                webhook_listen="127.0.0.1",
                webhook_port=port,
            ):
                await until(lambda: fake.webhooks)
                assert fake.webhooks[0]["url"] == url
                assert fake.webhooks[0]["secret_token"] == "s3cret-token"
                update = {
                    "update_id": 1,
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "chat": {"id": 63, "type": "private", "first_name": "x"},
                        "from": {"id": 63, "is_bot": False, "first_name": "x"},
                        "text": "/help",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                    },
                }
                async with httpx.AsyncClient() as client:
                    for secret, status in (("", 403), ("wrong", 403), ("s3cret-token", 200)):
                        response = await _post(client, url, update, secret)
                        assert response.status_code == status
                await until(lambda: fake.sent(63))
                assert len(fake.sent(63)) == 1 and fake.sent(63)[0].parsed is not None

    asyncio.run(run())


async def _post(
    client: httpx.AsyncClient, url: str, update: dict[str, Any], secret: str
) -> httpx.Response:
    """POST an update as Telegram would, once the webhook server listens."""
    headers = {SECRET_HEADER: secret} if secret else {}
    for _ in range(100):
        try:
            return await client.post(url, json=update, headers=headers)
        except httpx.ConnectError:
            await asyncio.sleep(0.05)
    raise AssertionError("the webhook server never listened")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_one_replica_receives_on_postgres(db_url: str, engine: Engine) -> None:
    """Two replicas on PostgreSQL: only the advisory-lock holder polls for updates; when
    it stops, the other takes over and answers."""
    other_engine = create_engine(db_url)

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake) as first:
                await until(lambda: first.receiving)
                async with bot(other_engine, fake) as second:
                    await asyncio.sleep(0.6)  # three lock retries of the second replica
                    assert first.receiving and not second.receiving
                    await ask(fake, 64, "/help")
                    await first.stop()
                    await until(lambda: second.receiving)
                    assert "/watch" in (await ask(fake, 64, "/help")).parsed.text  # type: ignore[union-attr]

    try:
        asyncio.run(run())
    finally:
        other_engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_watch_tells_of_the_backlog_and_backfills_it(engine: Engine) -> None:
    """/watch says how many stored articles already match and offers /backfill (and a
    button), which alerts them once; `/watch +2h …` alerts them at once."""
    from monitor.backfill import backlog
    from notifiers.telegram_bot import CommandConfig
    from tests.support.outbox import deliveries

    seed_alerts(engine, [999], per_chat=2, title="Huawei news")
    commands = CommandConfig(backlog=backlog)

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake, commands=commands):
                watched = await ask(fake, 63, "/watch Huawei")
                assert watched.parsed is not None
                assert "2 stored article(s) of the last 24 h already match" in watched.parsed.text
                [backfill_button] = [b for b in buttons(watched) if b.startswith("backfill:")]
                rule_id = backfill_button.split(":")[1]
                assert f"/backfill {rule_id}" in watched.parsed.text
                alerted = await ask(fake, 63, backfill_button, button=True)
                assert "Alerting 2 stored article(s)" in alerted.parsed.text  # type: ignore[union-attr]
                again = await ask(fake, 63, f"/backfill {rule_id}")
                assert "Nothing to alert" in again.parsed.text  # type: ignore[union-attr]
                at_once = await ask(fake, 63, "/watch +2h Huawei")
                assert "Alerting 2 stored article(s) of the last 2 h" in at_once.parsed.text  # type: ignore[union-attr]
                too_far = await ask(fake, 63, "/watch +48h Huawei")
                assert "at most 24 hours" in too_far.parsed.text  # type: ignore[union-attr]

    asyncio.run(run())
    chats = {d.channel_id for d in deliveries(engine) if d.channel_kind == "telegram"}
    assert len([d for d in deliveries(engine) if d.channel_kind == "telegram"]) == 2 + 4
    assert len(chats) == 2


def _long_query(n: int, length: int = 19_000) -> str:
    """A valid query of about `length` characters, with `&` and `<` to escape."""
    words = [f"w{n}x{i}&<" for i in range(length // 10)]
    return '"' + " ".join(words)[: length - 2] + '"'


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # about replies, not SQL
def test_every_reply_stays_under_the_limit(engine: Engine) -> None:
    """50 rules of 19,000 characters, a 20,000-character /watch, a syntax error at the end
    of one, a /test of a long query and huge ids: every reply is accepted by the fake (it
    refuses more than 4,096 characters), and /rules pages through every rule."""
    huge = "ByteDance " * 1999 + "AND"  # 20,000 characters, refused at the very end
    seed_alerts(engine, [998], per_chat=8, title="Huawei " * 400, snippet="**Huawei** " * 300)

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                await ask(fake, 71, "/rules")
                user_id = chat_row(engine, 71).user_id
                with session_scope(engine) as session:
                    ids = [
                        create_rule(
                            session=session,
                            user_id=user_id,
                            name=f"r{n}",
                            query=_long_query(n),
                            now=now(),
                        ).id
                        for n in range(50)
                    ]
                listed, page = set(), await ask(fake, 71, "/rules")
                for _ in range(10):  # 50 rules, a few per page
                    listed |= {d for d in buttons(page) if d.startswith("unwatch:")}
                    following = [
                        d for d in buttons(page) if d.startswith("rules:") and d != "rules:0"
                    ]
                    if not following:
                        break
                    page = await ask(fake, 71, following[0], button=True)
                assert listed == {f"unwatch:{i}" for i in ids}

                refused = await ask(fake, 71, f"/watch {huge}")
                assert refused.parsed is not None
                line, caret = refused.parsed.text.splitlines()[-2:]
                assert line.endswith("ByteDance AND") and len(line) < 100
                assert caret.index("^") == len(line)  # the term missing after the end
                await ask(fake, 71, "/watch " + "Huawei OR " * 1999 + "Huawei")
                await ask(fake, 71, "/test " + "Huawei OR " * 1999 + "Huawei")
                await ask(fake, 71, "/test " + "Xiaomi OR " * 1999 + "Xiaomi")
                await ask(fake, 71, "/unwatch " + "9" * 5000)
                await ask(fake, 71, "test:" + "9" * 18, button=True)
                await ask(fake, 71, "/start " + "c" * 4000)
                await ask(fake, 71, "/help")
                replies = [a for a in fake.attempts if a.chat_id == 71]
                assert {a.status for a in replies} == {200}
                assert max(len(a.parsed.text.encode("utf-16-le")) // 2 for a in replies) < 4096  # type: ignore[union-attr]

    asyncio.run(run())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_test_command_sees_every_feed_that_carries_a_story(engine: Engine) -> None:
    """/test with `feed:` finds a story that another feed stored first."""
    story = Story("k", "https://news.example/shared", "https://news.example/shared", "Huawei deal")
    with session_scope(engine) as session:
        for url, title in [("https://a.example/rss", "Wire"), ("https://b.example/rss", "Desk")]:
            feed, _ = add_feed(session=session, url=url, title=title, now=now())
            insert_new_articles(session=session, feed_id=feed.id or 0, articles=[story], now=now())

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                found = await ask(fake, 63, "/test huawei feed:desk")
                assert found.parsed is not None
                assert found.parsed.links == [("https://news.example/shared", "Huawei deal")]

    asyncio.run(run())
