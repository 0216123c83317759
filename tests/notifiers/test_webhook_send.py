"""One webhook try against real loopback servers: what each answer comes to."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from datetime import UTC, datetime

import httpcore
import pytest
from sqlalchemy.engine import Engine

from net.guard import Guard
from notifiers import RetryPolicy
from notifiers.outcome import SendOutcome
from notifiers.webhook import WebhookLimits, make_transport, new_secret, send
from store.values import DeliveryJob
from tests.conftest import make_user
from tests.support.outbox import add_hits, add_rules, add_webhook, running_dispatcher, settle
from tests.support.servers import LoopbackServer, Reply, WebhookReceiver

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
    limits = WebhookLimits(
        timeout_seconds=timeout, allow_private_networks=allow_private, guard=guard
    )
    async with make_transport(limits) as transport:
        return await send(transport, _job(url), limits=limits, now=NOW)


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
        (Reply(429, headers={"retry-after": "1e12"}), False, False, False, None, "HTTP 429"),
        (
            Reply(429, headers={"retry-after": "1000000000000"}),
            False,
            False,
            False,
            86_400.0,
            "HTTP 429",
        ),
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


class StubDNS:
    """The operating system's resolver, as an attacker's DNS server would answer: each
    name maps to a list of answers, one per lookup (the last one repeats); a
    `socket.gaierror` in the list is a failed lookup. Other names resolve as usual."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str | socket.gaierror]] = {}
        self.real = asyncio.BaseEventLoop.getaddrinfo

    async def getaddrinfo(self, loop, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return await self.real(loop, host, port, *args, **kwargs)
        queue = self.answers[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, socket.gaierror):
            raise answer
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answer, int(port or 0)))]


class LoopbackOnly:
    """Dials only loopback addresses (and names, which resolve through the stub): no test
    sends a byte anywhere else. Records every literal address it was asked to dial."""

    def __init__(self) -> None:
        self.dialled: list[str] = []
        self.real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(self, backend, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            if not ipaddress.ip_address(host).is_loopback:
                self.dialled.append(host)
                raise httpcore.ConnectError(f"test: not dialling {host}")
        except ValueError:
            pass  # a name: anyio resolves it through the (stubbed) system resolver
        return await self.real(backend, host, port, *args, **kwargs)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> tuple[StubDNS, LoopbackOnly]:
    """The stub resolver, and the dialler that refuses anything but loopback."""
    stub, dialler = StubDNS(), LoopbackOnly()

    async def getaddrinfo(loop, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await stub.getaddrinfo(loop, *args, **kwargs)

    async def connect_tcp(backend, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await dialler.connect_tcp(backend, *args, **kwargs)

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return stub, dialler


def test_dns_rebinding_cannot_reach_a_loopback_receiver(
    dns: tuple[StubDNS, LoopbackOnly],
) -> None:
    """A name that answers a public address first and loopback next: the address that was
    checked is the one dialled, so the loopback server is never reached; the lookup that
    gives loopback is refused for good."""
    stub, dialler = dns
    with LoopbackServer(lambda request: Reply(200)) as server:
        stub.answers["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
        url = f"http://rebind.test:{server.port}/hook"

        async def twice() -> list[SendOutcome]:
            limits = WebhookLimits(timeout_seconds=2.0)
            async with make_transport(limits) as transport:
                return [await send(transport, _job(url), limits=limits, now=NOW) for _ in range(2)]

        first, second = asyncio.run(twice())
        assert server.requests == []
    assert dialler.dialled == ["93.184.216.34"]
    assert not first.ok and not first.permanent  # the public address did not answer
    assert not second.ok and second.permanent and "127.0.0.1" in second.error


def test_a_resolver_failure_is_retried_then_delivered(
    engine: Engine, dns: tuple[StubDNS, LoopbackOnly]
) -> None:
    """A receiver whose DNS fails twice (as in a deploy) is retried on the schedule and
    gets its delivery; only an address that resolves and is not public is permanent."""
    stub, _ = dns
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    failure = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    with WebhookReceiver() as receiver:
        stub.answers["flaky.test"] = [failure, failure, "127.0.0.1"]
        add_webhook(engine, user_id, f"http://flaky.test:{receiver.port}/hook")
        add_hits(engine, rules, 1)
        with running_dispatcher(engine, retry=RetryPolicy(scale=0.001)):
            [row] = settle(engine)
        assert len(receiver.deliveries) == 1
    assert (row.status, row.attempts) == ("sent", 3)
