"""Poll cycles through the real refresh path on SQLite and PostgreSQL: conditional GET,
unchanged bodies, error backoff and recovery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from monitor import FetchLimits
from monitor.fetch import make_client
from monitor.recorder import StateRecorder
from net.guard import Guard
from tests.support.feeds import BYTEDANCE_HUAWEI, HUAWEI_ONLY, rss
from tests.support.polling import Clock, CountingExecutor, feed_row, make_ingest, new_feed, poll_now
from tests.support.servers import FeedServer, LoopbackServer, Reply


def _limits(port: int) -> FetchLimits:
    return FetchLimits(timeout_seconds=5, guard=Guard(allowlist=(f"127.0.0.1:{port}",)))


@pytest.mark.parametrize("batched", [False, True], ids=["direct", "batched"])
def test_second_poll_is_304_and_parses_nothing(engine: Engine, batched: bool) -> None:
    """The second poll sends the ETag back, gets a 304 and runs no parse."""
    pool = CountingExecutor()
    with FeedServer() as server:
        url = server.set_feed("/f.xml", rss([BYTEDANCE_HUAWEI, HUAWEI_ONLY]))
        limits = _limits(server.port)

        async def go() -> list[str]:
            async with make_client(limits) as client:
                recorder = StateRecorder(engine) if batched else None
                ingest = make_ingest(engine, client, limits, parse_pool=pool, recorder=recorder)
                feed_id = new_feed(engine, url)
                first = await poll_now(engine, ingest, feed_id)
                assert first.new_articles == 2 and pool.jobs == 1
                second = await poll_now(engine, ingest, feed_id)
                row = feed_row(engine, feed_id)
                assert row.status == "ok" and row.etag and row.last_polled_at is not None
                return [first.status, second.status]

        assert asyncio.run(go()) == ["ok", "not_modified"]
        first, second = server.fetches("/f.xml")
        assert "if-none-match" not in first.headers
        assert second.headers["if-none-match"]
        assert "newswatch" in second.headers["user-agent"]
    assert pool.jobs == 1
    pool.shutdown()


def test_same_body_without_validators_skips_parsing(engine: Engine) -> None:
    """A server with no ETag or Last-Modified: an identical body is found by its hash."""
    pool = CountingExecutor()
    body = rss([HUAWEI_ONLY])
    with LoopbackServer(lambda request: Reply(200, body, {"content-type": "text/xml"})) as server:
        limits = _limits(server.port)

        async def go() -> list[str]:
            async with make_client(limits) as client:
                ingest = make_ingest(engine, client, limits, parse_pool=pool)
                feed_id = new_feed(engine, server.url("/f"))
                return [(await poll_now(engine, ingest, feed_id)).status for _ in range(2)]

        assert asyncio.run(go()) == ["ok", "unchanged"]
        assert len(server.requests) == 2
    assert pool.jobs == 1
    pool.shutdown()


def test_errors_back_off_exponentially_and_recover(engine: Engine) -> None:
    """Each error doubles the wait and is visible on the feed; one success resets both."""
    state = {"status": 500}
    body = rss([HUAWEI_ONLY])

    def answer(request):  # type: ignore[no-untyped-def]
        return Reply(state["status"], body if state["status"] == 200 else b"down")

    clock = Clock()
    with LoopbackServer(answer) as server:
        limits = _limits(server.port)

        async def go() -> None:
            async with make_client(limits) as client:
                ingest = make_ingest(engine, client, limits, clock=clock)
                feed_id = new_feed(engine, server.url("/f"))
                for errors, wait in [(1, 600), (2, 1200), (3, 2400)]:
                    await poll_now(engine, ingest, feed_id)
                    row = feed_row(engine, feed_id)
                    assert (row.status, row.error_count) == ("error", errors)
                    assert "HTTP 500" in row.last_error
                    assert row.next_poll_at == clock.now + timedelta(seconds=wait)
                    clock.now += timedelta(seconds=wait)
                state["status"] = 200
                await poll_now(engine, ingest, feed_id)
                row = feed_row(engine, feed_id)
                assert (row.status, row.error_count, row.last_error) == ("ok", 0, "")
                assert row.next_poll_at - clock.now <= timedelta(hours=4)

        asyncio.run(go())


def test_retry_after_on_503_is_honoured(engine: Engine) -> None:
    """A 503 with Retry-After waits at least that long before the next poll."""
    clock = Clock()
    with LoopbackServer(lambda r: Reply(503, b"busy", {"retry-after": "7200"})) as server:
        limits = _limits(server.port)

        async def go() -> None:
            async with make_client(limits) as client:
                ingest = make_ingest(engine, client, limits, clock=clock)
                feed_id = new_feed(engine, server.url("/f"))
                await poll_now(engine, ingest, feed_id)
                row = feed_row(engine, feed_id)
                assert row.error_count == 1 and "503" in row.last_error
                assert row.next_poll_at == clock.now + timedelta(seconds=7200)

        asyncio.run(go())
