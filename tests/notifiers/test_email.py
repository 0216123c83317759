"""E-mail channels against a real SMTP server on loopback (aiosmtpd): confirmation
first, then alerts; escaped HTML and a text part; one-click unsubscribe; a 4xx retried and
a 5xx for the address deactivating the channel."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy
from notifiers.email import EmailConfig, EmailSender, build
from store import session_scope
from store.rules import create_rule
from store.tables import Channel, Delivery
from store.targets import create_channel
from store.values import DeliveryJob
from tests.conftest import auth, make_user
from tests.notifiers.test_digests import Clock, record
from tests.support.service import free_port

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


class Mailbox:
    """An aiosmtpd handler: keeps every message; RCPT answers come from `answers`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.answers: dict[str, list[str]] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        queued = self.answers.get(address)
        if queued:
            return queued.pop(0) if len(queued) > 1 else queued[0]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


@pytest.fixture
def mailbox() -> Any:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def drain(engine: Engine, config: EmailConfig, timeout: float = 20.0) -> None:
    """The real dispatcher with the e-mail sender, until nothing is pending."""

    async def main() -> None:
        clock = lambda: datetime.now(UTC)  # noqa: E731
        dispatcher = Dispatcher(
            engine,
            {"email": EmailSender(config, engine, clock)},
            owner="email-test",
            config=DispatcherConfig(),
            retry=RetryPolicy(scale=0.001),
            clock=clock,
        )
        deadline = time.monotonic() + timeout
        while True:
            await dispatcher.dispatch_once()
            with session_scope(engine, readonly=True) as s:
                left = s.scalar(sa.select(sa.func.count()).where(Delivery.status == "pending"))
            if not left:
                return
            assert time.monotonic() < deadline, "deliveries still pending"
            await asyncio.sleep(0.05)

    asyncio.run(main())


def smtp(port: int) -> EmailConfig:
    return EmailConfig(
        host="127.0.0.1",
        port=port,
        starttls=False,
        sender="alerts@newswatch.test",
        public_url="http://testserver",
    )


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_confirm_first_then_escaped_alerts_then_one_click_unsubscribe(
    engine: Engine, mailbox: Any
) -> None:
    """Nothing but the confirmation goes out until the link is followed; then an alert
    with a hostile title arrives escaped, in text and HTML, with List-Unsubscribe; one
    POST to that link stops everything."""
    box, port = mailbox
    config = smtp(port)
    _, token = make_user(engine, "u")
    app = create_app(engine=engine, config=ApiConfig(email_enabled=True))
    with TestClient(app) as client:
        rule = client.post(
            "/v1/rules", json={"name": "bd", "query": "x"}, headers=auth(token)
        ).json()
        answer = client.post(
            "/v1/channels",
            json={"kind": "email", "target": "desk@example.org"},
            headers=auth(token),
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["confirmed"] is False
        clock = Clock(datetime.now(UTC))
        record(engine, clock, [rule["id"]], "early")  # before confirming: not for this address
        drain(engine, config)
        [confirm] = box.messages
        assert confirm["To"] == "desk@example.org" and "Confirm" in confirm["Subject"]
        link = next(
            line
            for line in confirm.get_body(("plain",)).get_content().splitlines()
            if "/email/confirm/" in line
        )
        forged = path_of(link)[:-4] + "0000"
        assert client.get(forged).status_code == 404
        assert client.get(path_of(link)).status_code == 200

        article = record(engine, clock, [rule["id"]], "late")
        with session_scope(engine) as s:
            s.execute(sa.text("UPDATE articles SET title = :t"), {"t": HOSTILE})
        drain(engine, config)
        assert len(box.messages) == 2 and article
        alert = box.messages[1]
        html = alert.get_body(("html",)).get_content()
        text = alert.get_body(("plain",)).get_content()
        assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;bold" in html
        assert HOSTILE in text
        assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = alert["List-Unsubscribe"].strip("<>")
        assert client.get(path_of(unsubscribe)).status_code == 200  # a page; GET changes nothing
        answer = client.post(
            path_of(unsubscribe),
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200
        record(engine, clock, [rule["id"]], "after")
        drain(engine, config)
        assert len(box.messages) == 2
        channel = client.get("/v1/channels", headers=auth(token)).json()[0]
        assert channel["active"] is False and channel["disabled_reason"] == "unsubscribed"


def test_4xx_is_retried_and_5xx_deactivates(engine: Engine, mailbox: Any) -> None:
    """A 451 for an address is retried until it is accepted; a 550 turns the channel off."""
    box, port = mailbox
    box.answers = {
        "busy@example.org": ["451 4.7.1 try again later"],
        "gone@example.org": ["550 5.1.1 no such user"],
    }
    user_id, _ = make_user(engine, "u")
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for address in ("busy@example.org", "gone@example.org"):
            create_channel(
                session=s, user_id=user_id, kind="email", target=address, display=address, now=now
            )
        rule = create_rule(session=s, user_id=user_id, name="r", query="x", now=now).id or 0

    record(engine, Clock(now), [rule], "a")
    config = smtp(port)
    # The first try fails with 451; the address is accepted once the server recovers.
    drain_with_recovery(engine, config, box)
    assert [m["To"] for m in box.messages] == ["busy@example.org"]
    with session_scope(engine, readonly=True) as s:
        rows = {c.target: c for c in s.scalars(sa.select(Channel))}
        statuses = dict(
            s.execute(
                sa.select(
                    Channel.target,
                    Delivery.status,
                ).join(Channel, Channel.id == Delivery.channel_id)
            ).all()
        )
        attempts = s.scalar(
            sa.select(Delivery.attempts)
            .join(Channel, Channel.id == Delivery.channel_id)
            .where(Channel.target == "busy@example.org")
        )
    assert rows["gone@example.org"].active is False
    assert "550" in rows["gone@example.org"].disabled_reason
    assert rows["busy@example.org"].active is True
    assert statuses == {"busy@example.org": "sent", "gone@example.org": "dead"}
    assert attempts is not None and attempts >= 2


def drain_with_recovery(engine: Engine, config: EmailConfig, box: Mailbox) -> None:
    """Drain while the busy address starts being accepted after its first refusal."""

    def recover() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_scope(engine, readonly=True) as s:
                tried = s.scalar(
                    sa.select(sa.func.max(Delivery.attempts)).where(Delivery.status == "pending")
                )
            if tried:
                box.answers.pop("busy@example.org", None)
                return
            time.sleep(0.02)

    helper = threading.Thread(target=recover, daemon=True)
    helper.start()
    drain(engine, config)
    helper.join(10)


def _hit(n: int) -> DeliveryJob:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    return DeliveryJob(
        id=n,
        event_type="hit.created",
        channel_kind="email",
        channel_id=1,
        attempts=0,
        created_at=at,
        target_active=True,
        hit_id=n,
        hit_created_at=at,
        rule_id=1,
        rule_name="bd",
        article_title=f"Story {n} " + "t" * 400,
        article_url=f"https://news.example/{n}",
        snippet="**x** " + "s" * 500,
    )


def test_a_digest_over_the_size_bound_shows_fewer_entries() -> None:
    """A digest too large for EMAIL_MAX_BYTES keeps its newest entries and says how many
    more there are; a small one shows them all."""
    config = EmailConfig(host="127.0.0.1", max_bytes=32 * 1024)
    hits = tuple(_hit(n) for n in range(200))
    job = DeliveryJob(
        id=9,
        event_type="digest.created",
        channel_kind="email",
        channel_id=1,
        attempts=0,
        created_at=hits[0].created_at,
        target_active=True,
        channel_target="a@example.org",
        channel_secret="k",
        digest_id=3,
        digest_hits=hits,
    )
    message = build(job, config, datetime.now(UTC))
    assert len(message.as_bytes()) < 2 * config.max_bytes
    text = message.get_body(("plain",)).get_content()
    assert "Story 199 " in text and "Story 0 " not in text and "more." in text
    small = build(replace(job, digest_hits=hits[:3]), config, datetime.now(UTC))
    assert "more." not in small.get_body(("plain",)).get_content()


def test_messages_per_hour_are_bounded(engine: Engine, mailbox: Any) -> None:
    """Past EMAIL_PER_HOUR an address's messages wait (deferred, no try used up)."""
    box, port = mailbox
    user_id, _ = make_user(engine, "u")
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        create_channel(
            session=s,
            user_id=user_id,
            kind="email",
            target="a@example.org",
            display="a@example.org",
            now=now,
        )
        rule = create_rule(session=s, user_id=user_id, name="r", query="x", now=now).id or 0
    record(engine, Clock(now), [rule], "a", 5)
    config = replace(smtp(port), per_hour=3)

    async def main() -> None:
        dispatcher = Dispatcher(
            engine,
            {"email": EmailSender(config, engine, lambda: datetime.now(UTC))},
            owner="t",
            config=DispatcherConfig(per_endpoint_concurrency=1),
            retry=RetryPolicy(scale=0.001),
            clock=lambda: datetime.now(UTC),
        )
        for _ in range(3):
            await dispatcher.dispatch_once()

    asyncio.run(main())
    assert len(box.messages) == 3
    with session_scope(engine, readonly=True) as s:
        waiting = s.execute(
            sa.select(Delivery.attempts, Delivery.last_error).where(Delivery.status == "pending")
        ).all()
    assert len(waiting) == 2 and all(a == 0 and "an hour" in e for a, e in waiting)
