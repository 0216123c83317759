"""Alerts through the real python-telegram-bot client to the fake Bot API: escaping,
blocked chats, groups that became supergroups, and Telegram's rate limits."""

from __future__ import annotations

import multiprocessing
from bisect import bisect_left
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from newswatch.fake_telegram import FakeTelegram
from notifiers.retry import STANDARD_SCHEDULE
from notifiers.telegram_limiter import TelegramLimits
from store import session_scope
from store.tables import Rule, TelegramChat, TelegramLink
from store.telegram import create_link, migrate_chat
from tests.support.databases import POSTGRES_ONLY
from tests.support.telegram_world import (
    chat_active,
    delivery_states,
    dispatch_all,
    dispatch_in_process,
    dispatch_once,
    next_attempts,
    now,
    seed_alerts,
)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events inside any half-open window of `window` seconds."""
    times = sorted(times)
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def test_hostile_title_and_link_are_escaped(engine: Engine) -> None:
    """A title with tags and a javascript: link give a message the fake accepts, with the
    text shown literally and no link."""
    title = "<b>x</b><script>alert('&')</script>"
    with FakeTelegram() as fake:
        seed_alerts(engine, [101], per_chat=1, title=title, url="javascript:alert(1)//{n}")
        dispatch_all(engine, fake.api_url)
        [sent] = fake.attempts
        assert sent.status == 200 and sent.parsed is not None
        assert title in sent.parsed.text
        assert sent.parsed.links == []
        assert sent.parsed.bold[1:] == ["ByteDance", "Huawei"]


def test_a_hostile_retry_after_neither_raises_nor_undoes_its_batch(engine: Engine) -> None:
    """`retry_after: 1e12` for one chat, in a batch with four others: the four are marked
    sent in that same round, and the flooded one waits no longer than the last step of
    the retry schedule, without spending an attempt."""
    chats = [401, 402, 403, 404, 405]
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, chats, per_chat=1)
        fake.flood(403, retry_after=1e12)
        started = now()
        assert dispatch_once(engine, fake.api_url, scale=1.0) == 5
        for chat in (401, 402, 404, 405):
            assert delivery_states(engine, rows[chat]) == ["sent"], chat
        assert delivery_states(engine, rows[403], attempts=True) == [("pending", 0)]
        [due] = next_attempts(engine, rows[403])
        assert timedelta(hours=23) < due - started <= timedelta(seconds=STANDARD_SCHEDULE[-1] + 5)


def test_blocked_chat_is_deactivated_after_first_403(engine: Engine) -> None:
    """A chat that blocked the bot gets one attempt: the chat turns inactive and its other
    alerts die unsent; another chat gets all of its alerts."""
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, [201, 202], per_chat=3)
        fake.blocked.add(201)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(chat_interval_seconds=0.05))
        assert [a.status for a in fake.attempts if a.chat_id == 201] == [403]
        assert len(fake.sent(202)) == 3
        assert not chat_active(engine, 201) and chat_active(engine, 202)
        assert delivery_states(engine, rows[201]) == ["dead"] * 3
        assert delivery_states(engine, rows[202]) == ["sent"] * 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the sender's logic only
@pytest.mark.parametrize("status", [500, 502])
def test_transient_error_is_retried_through_the_outbox(engine: Engine, status: int) -> None:
    """A server error leaves the delivery pending, and the outbox's retry delivers it."""
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, [301], per_chat=1)
        fake.fail(301, status=status)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(chat_interval_seconds=0.05))
        assert [a.status for a in fake.attempts] == [status, 200]
        assert delivery_states(engine, rows[301]) == ["sent"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a timing test; SQLite is enough
def test_rate_limits_hold_and_a_429_delays_only_its_chat(engine: Engine) -> None:
    """300 alerts to 60 chats: at most 1 per chat and 30 in all in any second; a 429 for
    one chat delays that chat only (the rate achieved is bench.deliver's business)."""
    chats = list(range(1001, 1061))
    flooded = chats[7]
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, chats, per_chat=5)
        fake.flood(flooded, retry_after=3)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(), timeout=40)
        sent = fake.sent()
        assert len(sent) == 300 and {s.chat_id for s in sent} == set(chats)
        assert max_in_window([a.at for a in fake.attempts]) <= 30
        for chat in chats:
            assert max_in_window([a.at for a in fake.attempts if a.chat_id == chat]) <= 1, chat
        # The others go on while the flooded chat waits out its retry_after: a pause of
        # the whole bot would send none of theirs in those 3 s.
        [refused] = [a for a in fake.attempts if a.status == 429]
        others = [s.at for s in sent if s.chat_id != flooded]
        assert len([at for at in others if refused.at < at < refused.at + 3]) >= 10
        retried = [s.at for s in fake.sent(flooded)]
        assert len(retried) == 5 and min(retried) - refused.at >= 3
        # Waiting out a flood is not a failed attempt: each delivery was tried once.
        assert delivery_states(engine, rows[flooded], attempts=True) == [("sent", 1)] * 5


def test_a_group_that_became_a_supergroup_gets_its_alerts_at_the_new_id(engine: Engine) -> None:
    """ChatMigrated: the chat moves to the new id keeping its row, user, links and settings,
    and the alert (and the next one) arrive at the new id; the old id is tried once."""
    old, new = -500, -100_500
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, [old], per_chat=2)
        with session_scope(engine) as session:
            chat = session.get(TelegramChat, rows[old])
            assert chat is not None
            chat.title, user_id = "Newsroom", chat.user_id
            session.add(chat)
            link = create_link(
                session=session, user_id=user_id, code="c0de", now=now(), expires_at=now()
            )
            link.chat_id = old
        fake.migrate(old, new)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(group_interval_seconds=0.05))
        assert [a.status for a in fake.attempts if a.chat_id == old] == [400]
        assert len(fake.sent(new)) == 2
        assert delivery_states(engine, rows[old], attempts=True) == [("sent", 1)] * 2
        with session_scope(engine, readonly=True) as session:
            moved = session.get(TelegramChat, rows[old])
            assert moved is not None
            assert (moved.chat_id, moved.user_id, moved.title, moved.active) == (
                new,
                user_id,
                "Newsroom",
                True,
            )
            assert session.exec(select(TelegramLink.chat_id)).all() == [new]


def test_a_migration_onto_a_chat_the_bot_already_knows_merges_them(engine: Engine) -> None:
    """Someone wrote from the supergroup before the group's first alert failed: that row
    gives way, handing its queued alerts and its own user's rules to the moved chat."""
    old, new = -600, -100_600
    rows = seed_alerts(engine, [old, new], per_chat=1)
    with session_scope(engine) as session:
        assert migrate_chat(session=session, chat_row_id=rows[old], new_chat_id=new, now=now())
    with session_scope(engine, readonly=True) as session:
        [chat] = session.exec(select(TelegramChat)).all()
        assert (chat.id, chat.chat_id) == (rows[old], new)
        owners = session.exec(select(Rule.user_id).where(col(Rule.deleted_at).is_(None))).all()
        assert set(owners) == {chat.user_id}
    assert delivery_states(engine, rows[old]) == ["pending"] * 2


@POSTGRES_ONLY
def test_two_dispatcher_processes_keep_to_one_message_a_second_per_chat(
    db_url: str, engine: Engine
) -> None:
    """A burst of 10 alerts to one chat, sent by two dispatcher processes on PostgreSQL:
    they share one budget through the database, so the fake Bot API sees at most one
    message to the chat in any second, and every alert once."""
    with FakeTelegram() as fake:
        rows = seed_alerts(engine, [801], per_chat=10)
        ctx = multiprocessing.get_context("spawn")
        replicas = [
            ctx.Process(target=dispatch_in_process, args=(db_url, fake.api_url, f"r{n}", 60.0))
            for n in range(2)
        ]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.join(90)
        assert [r.exitcode for r in replicas] == [0, 0]
        attempts = [a for a in fake.attempts if a.chat_id == 801]
        assert [a.status for a in attempts] == [200] * 10
        assert max_in_window([a.at for a in attempts]) <= 1
        assert delivery_states(engine, rows[801]) == ["sent"] * 10
