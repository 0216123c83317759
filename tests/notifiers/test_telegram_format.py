"""The Telegram alert format (pure) and the flood limiter on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from newswatch.fake_telegram import parse_html
from notifiers.telegram_format import MAX_MESSAGE, format, marked, safe_url, size
from notifiers.telegram_limiter import ChatLimiter, Deferred, TelegramLimits
from store.values import DeliveryJob

JOB = DeliveryJob(
    id=1,
    event_type="hit.created",
    channel_kind="telegram",
    channel_id=1,
    attempts=0,
    created_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    target_active=True,
    chat_id=42,
    hit_id=7,
    snippet="…induk TikTok, **ByteDance**, berunding dengan **Huawei** untuk…",
    rule_name="bd-hw",
    article_title="ByteDance dan Huawei jajaki kerja sama",
    article_url="https://berita.example.id/a?x=1&y=2",
    article_published_at=datetime(2026, 11, 27, 11, 58, tzinfo=UTC),
    feed_title="Berita <Tekno>",
)


def test_alert_shows_rule_link_source_and_bold_terms() -> None:
    """Rule name, the linked title, feed and time, and the matched words in bold."""
    parsed = parse_html(format(JOB))
    assert parsed.text.splitlines()[:3] == [
        "🔔 bd-hw",
        "ByteDance dan Huawei jajaki kerja sama",
        "Berita <Tekno> · 2026-11-27 11:58 UTC",
    ]
    assert parsed.links == [("https://berita.example.id/a?x=1&y=2", JOB.article_title)]
    assert parsed.bold == ["bd-hw", "ByteDance", "Huawei"]


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com/a", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("/relative/path", False),
        ("http://exa mple.com/", False),
        ("https://", False),
        ("", False),
    ],
)
def test_only_http_links(url: str, linked: bool) -> None:
    """Only absolute http(s) URLs become links; anything else leaves the title plain."""
    assert (safe_url(url) is not None) == linked
    parsed = parse_html(format(replace(JOB, article_url=url)))
    assert bool(parsed.links) == linked


@pytest.mark.parametrize(
    "field", ["rule_name", "article_title", "feed_title", "snippet", "article_url"]
)
@pytest.mark.parametrize("text", ["<&>" * 3000, "a" * 50_000, "😀" * 5000, "**x" * 2000])
def test_any_field_stays_valid_and_within_4096(field: str, text: str) -> None:
    """Hostile or huge values in any field still give valid HTML within Telegram's limit."""
    value = "https://e.com/" + text if field == "article_url" else text
    message = format(replace(JOB, **{field: value}))
    assert size(message) <= MAX_MESSAGE
    parse_html(message)


@pytest.mark.parametrize(
    ("snippet", "bold"),
    [
        ("a **b** c", ["b"]),
        ("**a** and **b**", ["a", "b"]),
        ("cut **b", []),
        ("x < **y & z** >", ["y & z"]),
    ],
)
def test_snippet_marks_become_bold(snippet: str, bold: list[str]) -> None:
    """Paired marks turn bold; an unpaired one (from a cut) stays plain text."""
    assert parse_html(marked(snippet)).bold == bold


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.mark.parametrize(("chat_id", "spacing"), [(5, 1.2), (-100123, 3.2)])
def test_limiter_spaces_each_chat(chat_id: int, spacing: float) -> None:
    """A private chat gets a message every 1.2 s at most, a group every 3.2 s (20/min);
    a backlog longer than max_wait is deferred rather than waited for."""
    clock = VirtualClock()
    limiter = ChatLimiter(TelegramLimits(max_wait_seconds=7), clock=clock, sleep=clock.sleep)
    times: list[float] = []
    deferred: list[float] = []

    async def send() -> None:
        try:
            async with limiter.slot(chat_id):
                times.append(clock.now)
        except Deferred as exc:
            deferred.append(exc.retry_after)

    async def run() -> None:
        await asyncio.gather(*(send() for _ in range(12)))

    asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= spacing - 1e-9
    assert deferred and min(deferred) > 7 and len(times) + len(deferred) == 12


def test_limiter_retry_after_defers_only_that_chat() -> None:
    """After a RetryAfter for one chat, its messages are deferred; another chat goes on."""
    clock = VirtualClock()
    limiter = ChatLimiter(TelegramLimits(), clock=clock, sleep=clock.sleep)
    limiter.retry_after(1, 30)

    async def run() -> None:
        with pytest.raises(Deferred) as exc:
            async with limiter.slot(1):
                pass
        assert exc.value.retry_after == pytest.approx(30)
        async with limiter.slot(2):
            assert clock.now == 0
        clock.now = 31
        async with limiter.slot(1):
            pass

    asyncio.run(run())


def test_alert_names_the_other_outlets_bounded() -> None:
    """ "also in: …" lists the story's other outlets (not this one), escaped, then +n more."""
    outlets = ("Berita <Tekno>", "Kompas & Co", "Detik", *(f"Outlet {n} " * 4 for n in range(30)))
    message = format(replace(JOB, story_id=7, story_articles=33, story_sources=outlets))
    parsed = parse_html(message)
    line = next(x for x in parsed.text.splitlines() if x.startswith("also in"))
    assert line.startswith("also in: Kompas & Co, Detik, Outlet 0")
    assert "Berita <Tekno>" not in line and line.endswith("more")
    assert size(message) <= MAX_MESSAGE


def test_alert_without_other_outlets_has_no_also_in() -> None:
    """A story seen in one outlet only, so far: no "also in" line."""
    message = format(replace(JOB, story_sources=("Berita <Tekno>",)))
    assert "also in" not in message


@pytest.mark.parametrize("name", ["<&>" * 3000, "😀" * 5000])
def test_huge_outlet_names_stay_within_4096(name: str) -> None:
    """Every field at its worst, and hostile outlet names: still valid and in bounds."""
    job = replace(
        JOB,
        rule_name=name,
        article_title=name,
        feed_title=name,
        snippet=name,
        story_sources=(name, name + "x"),
    )
    message = format(job)
    assert size(message) <= MAX_MESSAGE
    parse_html(message)
