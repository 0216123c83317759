"""Host politeness and robots.txt rules, with a hand-moved clock."""

from __future__ import annotations

import asyncio

import pytest

from net.politeness import HostPaused, Hosts, Politeness, RobotsCache, RobotsUnavailable

HOST = "https://news.example:"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failing_host_rests_with_a_doubling_backoff_and_success_resets() -> None:
    """Three failures in a row rest a host; each further one doubles the rest; a
    success starts the count again; a Retry-After pause is capped."""
    clock = Clock()
    hosts = Hosts(Politeness(failures_before_backoff=3, backoff_seconds=10), clock)
    for _ in range(2):
        hosts.failed(HOST)
    assert hosts.paused_until(HOST) is None
    hosts.failed(HOST)
    assert hosts.paused_until(HOST) == clock.now + 10
    hosts.failed(HOST)
    assert hosts.paused_until(HOST) == clock.now + 20

    async def enter() -> None:
        async with hosts.slot(HOST):
            pass

    with pytest.raises(HostPaused):
        asyncio.run(enter())
    clock.now += 21
    asyncio.run(enter())
    hosts.succeeded(HOST)
    hosts.failed(HOST)
    assert hosts.paused_until(HOST) is None
    hosts.pause(HOST, 10**9, "HTTP 429")
    assert hosts.paused_until(HOST) == clock.now + 3600


@pytest.mark.parametrize(
    ("status", "body", "allowed"),
    [
        (200, b"User-agent: newswatch\nDisallow: /private/\n", {"/a": True, "/private/x": False}),
        (200, b"User-agent: *\nDisallow: /\n", {"/a": False}),
        (200, b"User-agent: otherbot\nDisallow: /\n", {"/a": True}),
        (404, b"", {"/a": True, "/private/x": True}),
    ],
)
def test_robots_rules(status: int, body: bytes, allowed: dict[str, bool]) -> None:
    """robots.txt groups for our User-Agent (or *) apply; a 4xx means no rules."""
    fetched: list[str] = []

    async def fetch(url: str) -> tuple[int, bytes]:
        fetched.append(url)
        return status, body

    robots = RobotsCache(fetch, user_agent="newswatch/0.1 (+https://x)")

    async def check() -> dict[str, bool]:
        return {p: await robots.allowed(f"https://news.example{p}") for p in allowed}

    assert asyncio.run(check()) == allowed
    assert fetched == ["https://news.example/robots.txt"]  # once per origin


def test_robots_unavailable_blocks_until_it_can_be_read() -> None:
    """A 5xx robots.txt means no crawling; it is asked again after a minute, not an hour."""
    clock = Clock()
    answers = [(503, b""), (200, b"User-agent: *\nAllow: /\n")]

    async def fetch(url: str) -> tuple[int, bytes]:
        return answers.pop(0)

    robots = RobotsCache(fetch, user_agent="newswatch", ttl_seconds=3600, clock=clock)
    with pytest.raises(RobotsUnavailable):
        asyncio.run(robots.allowed("https://news.example/a"))
    clock.now += 61
    assert asyncio.run(robots.allowed("https://news.example/a")) is True
