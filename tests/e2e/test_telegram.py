"""Telegram end to end: the real service as a subprocess, a loopback feed, and the real
python-telegram-bot client talking to the fake Bot API."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from newswatch.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.support.feeds import BYTEDANCE_HUAWEI, HUAWEI_ONLY, rss
from tests.support.servers import FeedServer
from tests.support.service import ServiceProcess, wait_until

# The poller's rule index syncs every 0.2 s (NEWSWATCH_RULES_SYNC_SECONDS in the test
# service); an article ingested before that would rightly not alert on a brand-new rule.
RULES_SYNCED = 0.6

LATER = replace(BYTEDANCE_HUAWEI, guid="berita-3", link="https://berita.example.id/lagi")


def bot_env(fake: FakeTelegram) -> dict[str, str]:
    return {
        "NEWSWATCH_TELEGRAM_BOT_TOKEN": TOKEN,
        "NEWSWATCH_TELEGRAM_API_URL": fake.api_url,
        "NEWSWATCH_TELEGRAM_LOCK_RETRY_SECONDS": "0.5",
    }


def reply(fake: FakeTelegram, chat: int, text: str, contains: str) -> Sent:
    """Send `text` as the chat and wait for the bot's answer containing `contains`."""
    before = len(fake.sent(chat))
    fake.message(chat, text)

    def answered() -> Sent | None:
        new = fake.sent(chat)[before:]
        return next((s for s in new if s.parsed and contains in s.parsed.text), None)

    return wait_until(answered, message=f"a reply to {text!r} with {contains!r}")  # type: ignore[no-any-return]


def alerts(fake: FakeTelegram, chat: int) -> list[Sent]:
    return [s for s in fake.sent(chat) if s.text.startswith("🔔")]


def poll_and_wait(api, feed_id: int) -> None:  # type: ignore[no-untyped-def]
    before = api.get(f"/v1/feeds/{feed_id}").json()["last_polled_at"]
    assert api.post(f"/v1/feeds/{feed_id}/poll").status_code == 202
    wait_until(
        lambda: api.get(f"/v1/feeds/{feed_id}").json()["last_polled_at"] != before,
        message="a poll",
    )


def test_watch_alert_rules_unwatch(db_url: str, tmp_path: Path) -> None:
    """/start, /watch ByteDance AND Huawei, one bold alert for an Indonesian article,
    /rules lists the rule, /unwatch removes it, and a later match sends nothing."""
    chat = 5551
    with (
        FeedServer() as feeds,
        FakeTelegram() as fake,
        ServiceProcess(db_url, workdir=tmp_path, env=bot_env(fake)) as service,
    ):
        reply(fake, chat, "/start", "Welcome")
        assert {c["command"] for c in fake.commands} >= {"watch", "rules", "unwatch", "test"}
        watched = reply(fake, chat, "/watch ByteDance AND Huawei", "Watching rule")
        rule_id = int(re.search(r"#(\d+)", watched.parsed.text).group(1))  # type: ignore[union-attr]
        time.sleep(RULES_SYNCED)

        api = service.client()
        feed_url = feeds.set_feed("/berita.xml", rss([BYTEDANCE_HUAWEI, HUAWEI_ONLY]))
        feed_id = api.post("/v1/feeds", json={"url": feed_url}).json()["id"]
        [alert] = wait_until(lambda: alerts(fake, chat), message="the alert")
        assert alert.parsed is not None
        assert {"ByteDance", "Huawei"} <= set(alert.parsed.bold)
        assert alert.parsed.links == [
            (
                "https://berita.example.id/teknologi/bytedance-huawei-pusat-data?utm_source=rss",
                BYTEDANCE_HUAWEI.title,
            )
        ]

        listed = reply(fake, chat, "/rules", "Your rules")
        assert f"#{rule_id} ByteDance AND Huawei" in listed.parsed.text  # type: ignore[union-attr]
        reply(fake, chat, f"/unwatch {rule_id}", "removed")
        reply(fake, chat, "/rules", "No rules yet")

        # A control rule that the later article also matches: its alert shows that the
        # article was matched and dispatched, and that the removed rule stayed silent.
        reply(fake, chat, "/watch Jakarta", "Watching rule")
        time.sleep(RULES_SYNCED)
        feeds.set_feed("/berita.xml", rss([LATER, BYTEDANCE_HUAWEI, HUAWEI_ONLY]))
        poll_and_wait(api, feed_id)
        first, control = wait_until(lambda: alerts(fake, chat)[1:] and alerts(fake, chat))
        assert control.parsed.text.startswith("🔔 Jakarta")  # type: ignore[union-attr]
        assert first is alert and len(alerts(fake, chat)) == 2
        assert not [a for a in fake.attempts if a.status != 200]
        started = time.monotonic()
        assert service.terminate(timeout=15) == 0  # the bot stops with the service
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PG: test_commands_and_buttons
def test_link_code_routes_api_rules_to_the_chat(db_url: str, tmp_path: Path) -> None:
    """A code from POST /v1/telegram/links, sent as /start <code>, makes the API user's
    rules alert that chat; a code works only once."""
    chat = 5552
    with (
        FeedServer() as feeds,
        FakeTelegram() as fake,
        ServiceProcess(db_url, workdir=tmp_path, env=bot_env(fake)) as service,
    ):
        user = service.client().post("/v1/users", json={"name": "desk"}).json()
        api = service.client(user["token"])
        link = api.post("/v1/telegram/links")
        assert link.status_code == 201, link.text
        code = link.json()["code"]
        assert link.json()["deep_link"] == f"https://t.me/newswatch_test_bot?start={code}"

        reply(fake, chat, "/watch Xiaomi", "Watching rule")
        reply(fake, chat, f"/start {code}", "Linked")
        reply(fake, 5553, f"/start {code}", "unknown, used or expired")
        # The rule the chat made before linking now belongs to the API user.
        assert [r["query"] for r in api.get("/v1/rules").json()["items"]] == ["Xiaomi"]
        rule = api.post("/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"})
        assert rule.status_code == 201
        time.sleep(RULES_SYNCED)
        feed_url = feeds.set_feed("/linked.xml", rss([BYTEDANCE_HUAWEI]))
        assert api.post("/v1/feeds", json={"url": feed_url}).status_code == 201
        [alert] = wait_until(lambda: alerts(fake, chat), message="the alert")
        assert "bd-hw" in alert.parsed.text  # type: ignore[union-attr]
        assert alerts(fake, 5553) == []
