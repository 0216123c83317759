"""Apprise channels against a loopback receiver: json:// and ntfy:// alerts and digests
arrive, a 503 is retried, the SSRF guard refuses private hosts, and the secret in the URL
never shows in an API answer or a log line."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import structlog
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from net.guard import Guard
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy
from notifiers.apprise_channel import AppriseLimits, AppriseSender, make_sender
from notifiers.outcome import SendOutcome
from store import session_scope
from store.tables import ChannelSetting, Delivery
from store.values import DeliveryJob
from tests.conftest import auth, make_user
from tests.notifiers.test_digests import Clock, record
from tests.support.servers import LoopbackServer, Reply, Request

SECRET = "s3cr3t-Pa55-w0rd"


class Flaky:
    """Answers 503 to the first `failures` requests, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[Request] = []

    def __call__(self, request: Request) -> Reply:
        self.received.append(request)
        if len(self.received) <= self.failures:
            return Reply(503, b"busy")
        return Reply(200, b"{}", {"content-type": "application/json"})


def drain(engine: Engine, timeout: float = 20.0) -> None:
    """Run the real dispatcher with the Apprise sender until nothing is pending."""

    async def main() -> None:
        sender = make_sender(AppriseLimits(timeout_seconds=5, workers=1), Guard(allow_private=True))
        try:
            await dispatch_all(sender)
        finally:
            await sender.aclose()

    async def dispatch_all(sender: AppriseSender) -> None:
        dispatcher = Dispatcher(
            engine,
            {"apprise": sender},
            owner="apprise-test",
            config=DispatcherConfig(digest_poll_seconds=0.01),
            retry=RetryPolicy(scale=0.001),
            clock=lambda: datetime.now(UTC),
        )
        deadline = time.monotonic() + timeout
        while True:
            await dispatcher.dispatch_once()
            with session_scope(engine, readonly=True) as s:
                left = s.scalar(sa.select(sa.func.count()).where(Delivery.status.in_(["pending"])))
            if not left:
                return
            assert time.monotonic() < deadline, "deliveries still pending"
            await asyncio.sleep(0.05)

    asyncio.run(main())


@pytest.mark.parametrize("scheme", ["json", "ntfy"])
def test_alerts_and_digests_arrive_and_503_is_retried(
    scheme: str, client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """An alert arrives after a 503 (retried), a digest arrives too; the API shows the
    URL redacted and no log line holds the secret."""
    _, token = make_user(engine, "u")
    rule = client.post("/v1/rules", json={"name": "bd", "query": "x"}, headers=auth(token)).json()
    receiver = Flaky(failures=1)
    caplog.set_level(logging.DEBUG)
    with LoopbackServer(receiver) as server, structlog.testing.capture_logs() as logs:
        path = "/hook" if scheme == "json" else "/newsroom"
        url = f"{scheme}://bot:{SECRET}@127.0.0.1:{server.port}{path}"
        answer = client.post(
            "/v1/channels", json={"kind": "apprise", "target": url}, headers=auth(token)
        )
        assert answer.status_code == 201, answer.text
        channel = answer.json()
        assert SECRET not in answer.text and channel["target"].startswith(f"{scheme}://")
        for listed in (
            client.get("/v1/channels", headers=auth(token)).text,
            client.get(f"/v1/channels/{channel['id']}", headers=auth(token)).text,
        ):
            assert SECRET not in listed

        clock = Clock(datetime.now(UTC))
        record(engine, clock, [rule["id"]], "a")
        drain(engine)
        assert len(receiver.received) == 2  # the 503, then the retry that succeeded
        assert b"Story a 0" in receiver.received[-1].body

        patched = client.patch(
            f"/v1/channels/{channel['id']}", json={"mode": "hourly"}, headers=auth(token)
        )
        assert patched.status_code == 200 and patched.json()["mode"] == "hourly"
        clock.now = datetime.now(UTC)
        record(engine, clock, [rule["id"]], "b", 3)
        with session_scope(engine) as s:  # the hour is over
            s.execute(sa.update(ChannelSetting).values(next_digest_at=datetime.now(UTC)))
        drain(engine)
        digest = receiver.received[-1].body
        assert b"digest: 3 alerts" in digest and b"Story b 2" in digest
    with session_scope(engine, readonly=True) as s:
        statuses = s.execute(sa.select(Delivery.event_type, Delivery.status)).all()
    assert sorted(statuses) == sorted(
        [("hit.created", "sent"), ("digest.created", "sent")] + [("hit.created", "digested")] * 3
    )
    lines = [str(e) for e in logs] + [r.getMessage() for r in caplog.records]
    assert lines and not [line for line in lines if SECRET in line]


def test_private_hosts_and_bad_urls_are_refused(engine: Engine) -> None:
    """Without private networks allowed, an Apprise URL naming a loopback host is a 422,
    and so is a URL Apprise cannot use; neither answer echoes the URL."""
    from api import ApiConfig, create_app

    _, token = make_user(engine, "u")
    with TestClient(create_app(engine=engine, config=ApiConfig())) as strict:
        for target in (f"json://u:{SECRET}@127.0.0.1:9/x", f"nope://{SECRET}", "plain text"):
            answer = strict.post(
                "/v1/channels", json={"kind": "apprise", "target": target}, headers=auth(token)
            )
            assert answer.status_code == 422 and SECRET not in answer.text, target


def test_dns_rebinding_cannot_reach_a_loopback_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that answers a public address to the check and loopback next: Apprise goes
    through the egress proxy, which checks the name again and dials only what it checked,
    so the loopback receiver is never reached, even though the process's own resolver
    (the attacker's DNS) would answer loopback."""
    answers = ["93.184.216.34", "127.0.0.1"]

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "rebind.test"
        return [answers.pop(0) if len(answers) > 1 else answers[0]]

    real = socket.getaddrinfo

    def attacker_dns(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in ("rebind.test", b"rebind.test"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", attacker_dns)
    with LoopbackServer(lambda request: Reply(200, b"{}")) as server:
        job = DeliveryJob(
            id=1,
            event_type="hit.created",
            channel_kind="apprise",
            channel_id=1,
            attempts=0,
            created_at=datetime.now(UTC),
            target_active=True,
            channel_target=f"json://bot:{SECRET}@rebind.test:{server.port}/hook",
            hit_id=1,
            article_title="t",
        )

        async def main() -> tuple[SendOutcome, int]:
            sender = make_sender(
                AppriseLimits(timeout_seconds=10, workers=1), Guard(resolver=resolver)
            )
            try:
                outcome = await sender(job)
                assert sender.proxy is not None
                return outcome, sender.proxy.refused
            finally:
                await sender.aclose()

        outcome, refused = asyncio.run(main())
        assert server.requests == []
    assert answers == ["127.0.0.1"]  # the check took the public answer
    assert not outcome.ok and refused == 1 and SECRET not in outcome.error
