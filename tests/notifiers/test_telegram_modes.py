"""/digest, /quiet, /mute and /unmute through the real bot client and the fake Bot API,
and a long digest that arrives as ordered parts under Telegram's limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from newswatch.fake_telegram import FakeTelegram
from notifiers.digest import telegram_parts
from notifiers.telegram_format import MAX_MESSAGE, size
from notifiers.telegram_limiter import TelegramLimits
from notifiers.telegram_modes import parse_duration
from store import session_scope
from store.channels import get_setting, rule_muted_until, set_schedule
from store.digests import build_due_digests
from store.schedule import Schedule
from store.tables import ChannelSetting
from store.values import DeliveryJob
from tests.notifiers.test_telegram_bot import ask, bot, chat_row
from tests.support.telegram_world import delivery_states, dispatch_all, seed_alerts

CHAT = 4242


def setting(engine: Engine, chat_id: int) -> ChannelSetting | None:
    with session_scope(engine, readonly=True) as s:
        return get_setting(session=s, kind="telegram", channel_id=chat_row(engine, chat_id).id or 0)


def test_digest_and_quiet_commands(engine: Engine) -> None:
    """Each command changes the chat's settings and says so; bad values are named."""

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                reply = await ask(fake, CHAT, "/digest daily 08:00 Asia/Jakarta")
                assert "daily digest at 08:00 Asia/Jakarta" in reply.text
                row = setting(engine, CHAT)
                assert row is not None and (row.mode, row.digest_at) == ("daily", "08:00")
                assert "hourly digests" in (await ask(fake, CHAT, "/digest hourly")).text
                reply = await ask(fake, CHAT, "/quiet 22:00-07:00")
                assert "quiet 22:00-07:00 Asia/Jakarta" in reply.text
                assert setting(engine, CHAT).quiet_hours == "22:00-07:00"  # type: ignore[union-attr]
                assert "instant alerts" in (await ask(fake, CHAT, "/digest off")).text
                assert "quiet" not in (await ask(fake, CHAT, "/quiet off")).text
                assert setting(engine, CHAT).mode == "instant"  # type: ignore[union-attr]
                for command, answer in (
                    ("/digest daily 25:00", "'25:00' is not a time"),
                    ("/digest daily 08:00 Mars/Base", "'Mars/Base' is not an IANA timezone"),
                    ("/digest daily", "Usage: /digest daily"),
                    ("/digest weekly", "Usage"),
                    ("/quiet 22:00", "is not a range"),
                    ("/mute all soon", "'soon' is not a duration"),
                    ("/mute 999 2h", "No rule #999 here"),
                ):
                    assert answer in (await ask(fake, CHAT, command)).text, command
                help_text = (await ask(fake, CHAT, "/help")).text
                for command in ("/digest", "/quiet", "/mute", "/unmute"):
                    assert command in help_text, command

    asyncio.run(run())


def test_mute_and_unmute_commands(engine: Engine) -> None:
    """/mute all snoozes the chat, /mute <id> a rule; /unmute lifts both."""

    async def run() -> None:
        with FakeTelegram() as fake:
            async with bot(engine, fake):
                reply = await ask(fake, CHAT, "/watch ByteDance")
                rule_id = int(reply.text.split("#")[1].split(":")[0])
                assert "This chat is muted until" in (await ask(fake, CHAT, "/mute all 2h")).text
                muted = setting(engine, CHAT).muted_until  # type: ignore[union-attr]
                assert muted is not None and muted > datetime.now(UTC) + timedelta(hours=1.9)
                assert (
                    f"Rule #{rule_id} is muted"
                    in (await ask(fake, CHAT, f"/mute {rule_id} 1d")).text
                )
                now = datetime.now(UTC)
                with session_scope(engine, readonly=True) as s:
                    assert rule_muted_until(session=s, rule_id=rule_id, now=now) is not None
                assert "unmuted" in (await ask(fake, CHAT, "/unmute")).text
                assert setting(engine, CHAT).muted_until is None  # type: ignore[union-attr]
                with session_scope(engine, readonly=True) as s:
                    assert rule_muted_until(session=s, rule_id=rule_id, now=now) is None

    asyncio.run(run())


@pytest.mark.parametrize(
    ("text", "seconds"), [("2h", 7200), ("90m", 5400), ("1d12h", 129600), ("45s", 45)]
)
def test_durations(text: str, seconds: int) -> None:
    """Mute durations in d/h/m/s."""
    assert parse_duration(text).total_seconds() == seconds


def test_long_digest_splits_into_ordered_parts() -> None:
    """A digest of about 10,000 characters is several parts, numbered, each under 4,096,
    keeping every entry whole and in order."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    hits = tuple(
        DeliveryJob(
            id=i,
            event_type="hit.created",
            channel_kind="telegram",
            channel_id=1,
            attempts=0,
            created_at=now,
            target_active=True,
            hit_id=i,
            hit_created_at=now + timedelta(minutes=i),
            rule_id=1 + i % 2,
            rule_name=f"rule {1 + i % 2}",
            article_title=f"Story {i:02d} <b>" + "x" * 250,
            article_url=f"https://news.example/{i}",
            snippet="**ByteDance** " + "y" * 300,
        )
        for i in range(30)
    )
    job = DeliveryJob(
        id=99,
        event_type="digest.created",
        channel_kind="telegram",
        channel_id=1,
        attempts=0,
        created_at=now,
        target_active=True,
        digest_id=7,
        digest_hits=hits,
    )
    parts = telegram_parts(job)
    assert sum(size(p) for p in parts) > 10_000 and len(parts) >= 3
    assert all(size(p) <= MAX_MESSAGE for p in parts)
    assert all(p.split("\n")[0].endswith(f"({n}/{len(parts)})") for n, p in enumerate(parts, 1))
    order = [
        int(line.split("Story ")[1][:2])
        for p in parts
        for line in p.split("\n")
        if "Story " in line
    ]
    # Rule 2 (odd, with the newest hit) first, then rule 1, newest first in each.
    assert order == [*range(29, 0, -2), *range(28, -1, -2)]
    assert "&lt;b&gt;" in parts[0]


def long_digest_due(engine: Engine, hits: int, mode: str = "daily") -> int:
    """A chat in digest mode holding `hits` long alerts, its digest built: the chat's row."""
    rows = seed_alerts(engine, [CHAT], per_chat=0)
    with session_scope(engine) as s:
        set_schedule(
            session=s,
            kind="telegram",
            channel_id=rows[CHAT],
            schedule=Schedule.parse(mode=mode, at="08:00" if mode == "daily" else None),
            now=datetime.now(UTC),
        )
    seed_alerts(
        engine,
        [CHAT],
        per_chat=hits,
        title="ByteDance and Huawei " + "t" * 280,
        snippet="**ByteDance** and **Huawei** " + "s" * 350,
    )
    assert set(delivery_states(engine, rows[CHAT])) == {"held"}
    with session_scope(engine) as s:  # the digest time has come
        s.execute(sa.update(ChannelSetting).values(next_digest_at=datetime.now(UTC)))
    with session_scope(engine) as s:
        assert len(build_due_digests(session=s, now=datetime.now(UTC))) == 1
    return rows[CHAT]


def test_long_digest_reaches_the_chat_in_order(engine: Engine) -> None:
    """Through the real sender and the fake Bot API: a held chat's digest of ~10,000
    characters arrives as ordered parts, each accepted, and is sent once."""
    with FakeTelegram() as fake:
        row = long_digest_due(engine, 25)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(chat_interval_seconds=0.01))
        sent = fake.sent(CHAT)
        assert len(sent) >= 3 and all(m.status == 200 for m in sent)
        assert [m.parsed.text.split("\n")[0] for m in sent if m.parsed] == [
            f"🗞 Digest: 25 alerts ({n}/{len(sent)})" for n in range(1, len(sent) + 1)
        ]
        assert sum(len(m.text) for m in sent) > 10_000
        assert sorted(delivery_states(engine, row)) == ["digested"] * 25 + ["sent"]


@pytest.mark.parametrize("failure", ["server error", "flood"])
def test_a_digest_that_fails_part_way_resumes_after_the_parts_received(
    engine: Engine, failure: str
) -> None:
    """Part 3 of a long digest fails (a 502, or a 429): the retry sends parts 3 onwards,
    so the chat receives each part exactly once, in order."""
    with FakeTelegram() as fake:
        row = long_digest_due(engine, 40, mode="hourly")
        if failure == "flood":
            fake.flood(CHAT, retry_after=0.01, after=2)
        else:
            fake.fail(CHAT, status=502, after=2)
        dispatch_all(engine, fake.api_url, limits=TelegramLimits(chat_interval_seconds=0.01))
        attempts = [m.status for m in fake.attempts if m.chat_id == CHAT]
        sent = fake.sent(CHAT)
    assert attempts[:4] == [200, 200, 502 if failure == "server error" else 429, 200]
    total = len(sent)
    assert total >= 5
    assert [m.parsed.text.split("\n")[0] for m in sent if m.parsed] == [
        f"🗞 Digest: 40 alerts ({n}/{total})" for n in range(1, total + 1)
    ]
    assert len({m.text for m in sent}) == total
    assert sorted(delivery_states(engine, row)) == ["digested"] * 40 + ["sent"]
