"""One webhook try against real loopback servers: what each answer comes to."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest

from net.guard import Guard
from notifiers.webhook import WebhookLimits, new_secret, send
from store.values import DeliveryJob
from tests.support.servers import LoopbackServer, Reply

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _job(url: str) -> DeliveryJob:
    return DeliveryJob(
        id=1,
        event_type="ping",
        channel_kind="webhook",
        channel_id=1,
        attempts=0,
        created_at=NOW,
        target_active=True,
        webhook_url=url,
        webhook_secret=new_secret(),
    )


async def _send(  # type: ignore[no-untyped-def]
    url: str, *, allow_private: bool = True, timeout: float = 2.0, guard: Guard | None = None
):
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        limits = WebhookLimits(
            timeout_seconds=timeout, allow_private_networks=allow_private, guard=guard
        )
        return await send(client, _job(url), limits=limits, now=NOW)


@pytest.mark.parametrize(
    ("reply", "ok", "permanent", "disable", "retry_after", "error"),
    [
        (Reply(200), True, False, False, None, ""),
        (Reply(204), True, False, False, None, ""),
        (
            Reply(302, headers={"location": "http://127.0.0.1:1/"}),
            False,
            False,
            False,
            None,
            "redirect",
        ),
        (Reply(410), False, True, True, None, "410"),
        (Reply(503, headers={"retry-after": "120"}), False, False, False, 120.0, "HTTP 503"),
        (Reply(500, b"x" * 300_000), False, False, False, None, "HTTP 500"),
    ],
)
def test_outcome_of_an_answer(  # type: ignore[no-untyped-def]
    reply, ok, permanent, disable, retry_after, error
) -> None:
    """2xx is success, a redirect is a failure (not followed), 410 disables the endpoint,
    Retry-After is passed on, and a large error body is not read in full."""
    with LoopbackServer(lambda request: reply) as server:
        outcome = asyncio.run(_send(server.url("/hook")))
        assert len(server.requests) == 1
    assert (outcome.ok, outcome.permanent, outcome.disable_target) == (ok, permanent, disable)
    assert outcome.status_code == reply.status
    assert outcome.retry_after == retry_after
    assert error in outcome.error


def test_private_address_is_refused_at_send_time() -> None:
    """The SSRF guard runs on every try: a loopback URL is never contacted when private
    networks are not allowed, and the failure is permanent."""
    with LoopbackServer(lambda request: Reply(200)) as server:
        outcome = asyncio.run(_send(server.url("/hook"), allow_private=False))
        assert server.requests == []
    assert not outcome.ok and outcome.permanent and "blocked" in outcome.error


def test_allowlist_lets_a_send_reach_a_listed_service() -> None:
    """With the guard on, a webhook on an allowlisted ip:port is sent to; others are not."""
    with LoopbackServer(lambda request: Reply(200)) as server:
        listed = Guard(allowlist=(f"127.0.0.1:{server.port}",))
        other = Guard(allowlist=(f"127.0.0.1:{server.port + 1}",))
        outcomes = [asyncio.run(_send(server.url("/hook"), guard=g)) for g in (listed, other)]
        assert len(server.requests) == 1
    assert outcomes[0].ok and not outcomes[1].ok and "ALLOWLIST" in outcomes[1].error


async def _drip_server() -> tuple[asyncio.Server, int]:
    """Answers headers at once, then one body byte every 0.1 s: no single read is slow."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        try:
            for _ in range(1000):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_one_deadline_covers_the_whole_try() -> None:
    """A receiver that drips its answer is cut off at the try's deadline."""

    async def scenario() -> tuple[float, object]:
        server, port = await _drip_server()
        started = time.monotonic()
        try:
            outcome = await _send(f"http://127.0.0.1:{port}/hook", timeout=0.5)
        finally:
            server.close()
        return time.monotonic() - started, outcome

    elapsed, outcome = asyncio.run(scenario())
    assert elapsed < 2.0
    assert not outcome.ok and "timed out" in outcome.error  # type: ignore[attr-defined]
