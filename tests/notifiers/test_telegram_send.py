"""Alerts through the real python-telegram-bot client to the fake Bot API: escaping,
blocked chats, and Telegram's rate limits."""

from __future__ import annotations

from bisect import bisect_left

import pytest
from sqlalchemy.engine import Engine

from newswatch.fake_telegram import FakeTelegram
from notifiers.telegram_limiter import TelegramLimits
from tests.support.telegram_world import chat_active, delivery_states, dispatch_all, seed_alerts


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
    """300 alerts to 60 chats: at most 1 per chat and 30 in all in any second, and at
    least 25/s achieved; a 429 for one chat delays that chat only."""
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
        # The others run at full speed while the flooded chat waits out its retry_after.
        others = sorted(s.at for s in sent if s.chat_id != flooded)
        rate = (len(others) - 1) / (others[-1] - others[0])
        assert rate >= 25, f"{rate:.1f} messages/s"
        [refused] = [a for a in fake.attempts if a.status == 429]
        retried = [s.at for s in fake.sent(flooded)]
        assert len(retried) == 5 and min(retried) - refused.at >= 3
        # Waiting out a flood is not a failed attempt: each delivery was tried once.
        assert delivery_states(engine, rows[flooded], attempts=True) == [("sent", 1)] * 5
