"""The outbox dispatcher against real databases and real loopback receivers: every
delivery signed and verifiable, outages ridden out on the scaled schedule, a 410 that
disables, leases of a dead process that expire, and secrets that never reach a log."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
import structlog
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook, WebhookVerificationError

from notifiers import Dispatcher, DispatcherConfig, RetryPolicy
from notifiers.dispatcher import _Done
from notifiers.outcome import SendOutcome
from notifiers.retry import STANDARD_SCHEDULE
from store import session_scope
from store.deliveries import claim_due_deliveries, mark_sent
from store.values import DeliveryJob
from store.webhooks import get_webhook
from tests.conftest import make_user
from tests.support.outbox import (
    add_hits,
    add_rules,
    add_webhook,
    deliveries,
    running_dispatcher,
    settle,
    utcnow,
)
from tests.support.servers import LoopbackServer, Reply, Request, WebhookReceiver

SCALE = 0.001
# The send timeout: long enough that a CPU-starved test machine still gets every try to
# the receiver (the test counts each try's arrival), short of the receiver's slow answers.
TIMEOUT = 1.0


def test_every_delivery_verifies_and_tamper_fails(engine: Engine) -> None:
    """Each hit arrives once, signed; the reference library verifies every one, and
    refuses it once the body is changed."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    with WebhookReceiver() as receiver:
        _, secret = add_webhook(engine, user_id, receiver.url("/hook"))
        hit_ids = add_hits(engine, rules, 12)
        with running_dispatcher(engine):
            rows = settle(engine)
        assert {r.status for r in rows} == {"sent"}
        seen = []
        for request in receiver.deliveries:
            payload = Webhook(secret).verify(request.body, request.headers)
            assert request.headers["webhook-id"] == f"msg_nw{payload_delivery(rows, payload)}"
            seen.append(payload["data"]["hit_id"])
            tampered = request.body.replace(b'"Story', b'"Storx')
            with pytest.raises(WebhookVerificationError):
                Webhook(secret).verify(tampered, request.headers)
        assert sorted(seen) == sorted(hit_ids)


def payload_delivery(rows, payload) -> int:  # type: ignore[no-untyped-def]
    [row] = [r for r in rows if r.hit_id == payload["data"]["hit_id"]]
    return row.id  # type: ignore[no-any-return]


class Flaky:
    """A receiver that is down (503, or too slow to answer) until `recover_at`, answers
    410 on /gone, and records when each webhook-id arrived."""

    def __init__(self, outage_seconds: float) -> None:
        self.outage_seconds = outage_seconds
        self.started: float | None = None
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.gone = 0
        self.lock = threading.Lock()
        self.count = 0

    def __call__(self, request: Request) -> Reply:
        now = time.monotonic()
        with self.lock:
            if request.path == "/gone":
                self.gone += 1
                return Reply(410, b"gone")
            self.started = self.started or now
            self.arrivals[request.headers["webhook-id"]].append(now)
            self.count += 1
            count = self.count
        if now - self.started < self.outage_seconds:
            if count % 4 == 0:
                time.sleep(TIMEOUT * 2)  # the sender gives up first
                return Reply(503, b"late")
            return Reply(503, b"down")
        return Reply(204)


def test_outage_is_ridden_out_on_the_scaled_schedule(engine: Engine) -> None:
    """A receiver down for a while gets every delivery once it recovers; the gaps between
    tries follow the scaled schedule (with jitter); the DB counts every try; a 410
    disables that webhook, kills its pending deliveries and stops new ones."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    flaky = Flaky(outage_seconds=1.0)
    with LoopbackServer(flaky) as server:
        hook_id, _ = add_webhook(engine, user_id, server.url("/hook"))
        gone_id, _ = add_webhook(engine, user_id, server.url("/gone"))
        hit_ids = add_hits(engine, rules, 6)
        with running_dispatcher(engine, retry=RetryPolicy(scale=SCALE), timeout=TIMEOUT):
            rows = settle(engine, timeout=30)

        to_hook = [r for r in rows if r.channel_id == hook_id]
        assert sorted(r.hit_id for r in to_hook) == sorted(hit_ids)
        assert all(r.status == "sent" and r.last_status_code == 204 for r in to_hook)
        assert max(r.attempts for r in to_hook) >= 3, "the outage should have cost retries"
        for row in to_hook:
            times = flaky.arrivals[f"msg_nw{row.id}"]
            assert len(times) == row.attempts
            for attempt, gap in enumerate(_gaps(times), start=1):
                base = STANDARD_SCHEDULE[attempt - 1] * SCALE
                assert base * 0.9 <= gap <= base * 1.1 + TIMEOUT + 1.0, (attempt, gap)

        to_gone = [r for r in rows if r.channel_id == gone_id]
        assert {r.status for r in to_gone} == {"dead"}
        assert 1 <= flaky.gone <= len(to_gone)
        with session_scope(engine, readonly=True) as s:
            gone = get_webhook(session=s, webhook_id=gone_id)
            assert gone is not None and not gone.active and "410" in gone.disabled_reason
        add_hits(engine, rules, 1, tag="later")
        assert {r.channel_id for r in deliveries(engine) if r.hit_id not in hit_ids} == {hook_id}


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def _clocked_dispatcher(
    engine: Engine, clock: list[datetime], config: DispatcherConfig
) -> Dispatcher:
    """A dispatcher with no senders whose clock is `clock[0]`, driven by hand."""
    return Dispatcher(
        engine, {}, owner="me", config=config, retry=RetryPolicy(), clock=lambda: clock[0]
    )


def test_a_retry_due_before_its_outcome_is_forgotten_is_sent(engine: Engine) -> None:
    """A retry claimed again between the commit of its outcome and the recorder forgetting
    the job is handed out to send, not skipped as in flight with its new lease left on."""
    user_id, _ = make_user(engine, "u")
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    add_hits(engine, add_rules(engine, user_id), 1)
    clock = [utcnow()]
    dispatcher = _clocked_dispatcher(engine, clock, DispatcherConfig(digest_poll_seconds=0))
    committed, claimed, forget = threading.Event(), threading.Event(), threading.Event()
    record, claim = dispatcher._record, dispatcher._claim

    def record_then_hold(batch: list[_Done]) -> datetime | None:
        due = record(batch)
        committed.set()
        forget.wait(10)  # the outcome is committed; the recorder has not forgotten the job
        return due

    def noted_claim(room: int, full: list[tuple[str, int]]) -> list[DeliveryJob]:
        jobs = claim(room, full)
        claimed.set()
        return jobs

    dispatcher._record = record_then_hold  # type: ignore[method-assign]
    dispatcher._claim = noted_claim  # type: ignore[method-assign]

    async def scenario() -> tuple[DeliveryJob, list[DeliveryJob]]:
        [job] = await dispatcher._claim_room()
        recorder = asyncio.create_task(dispatcher._record_loop())
        await dispatcher._done.put(_Done(job, SendOutcome(False, status_code=503, error="503")))
        assert await asyncio.to_thread(committed.wait, 10)
        clock[0] += timedelta(minutes=1)  # the retry (5 s on) is due, the first lease is not
        claimed.clear()
        again = asyncio.create_task(dispatcher._claim_room())
        assert await asyncio.to_thread(claimed.wait, 10)  # it leased the job in the database
        forget.set()
        jobs = await again
        recorder.cancel()
        return job, jobs

    first, jobs = asyncio.run(scenario())
    assert [(j.id, j.attempts) for j in jobs] == [(first.id, 1)]
    assert dispatcher._in_flight == {first.id: jobs[0]}


def test_a_send_whose_lease_ran_out_is_not_handed_out_twice(engine: Engine) -> None:
    """A delivery still being sent when its lease runs out is claimed again in the
    database, but not sent a second time by the dispatcher that is sending it."""
    user_id, _ = make_user(engine, "u")
    add_webhook(engine, user_id, "http://127.0.0.1:9/hook")
    add_hits(engine, add_rules(engine, user_id), 1)
    clock = [utcnow()]
    dispatcher = _clocked_dispatcher(
        engine, clock, DispatcherConfig(digest_poll_seconds=0, lease_seconds=10)
    )

    async def scenario() -> tuple[list[DeliveryJob], list[DeliveryJob]]:
        first = await dispatcher._claim_room()
        clock[0] += timedelta(seconds=11)
        return first, await dispatcher._claim_room()

    first, again = asyncio.run(scenario())
    assert len(first) == 1 and again == []
    assert dispatcher._in_flight == {first[0].id: first[0]}


def test_retry_after_is_honoured(engine: Engine) -> None:
    """A 503 with Retry-After holds the next try back at least that long (scaled)."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    arrivals: list[float] = []

    def handler(request: Request) -> Reply:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return Reply(503, b"", {"retry-after": "800"})
        return Reply(200)

    with LoopbackServer(handler) as server:
        add_webhook(engine, user_id, server.url("/hook"))
        add_hits(engine, rules, 1)
        with running_dispatcher(engine, retry=RetryPolicy(scale=SCALE)):
            [row] = settle(engine)
    assert row.status == "sent" and row.attempts == 2
    assert arrivals[1] - arrivals[0] >= 800 * SCALE  # not the 5 s * scale of the schedule


def test_dead_process_lease_expires_then_delivery_is_retried(engine: Engine) -> None:
    """Deliveries claimed by a process that died are left alone until the lease expires,
    then sent by another; the dead owner can no longer finish them."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    with WebhookReceiver() as receiver:
        add_webhook(engine, user_id, receiver.url("/hook"))
        add_hits(engine, rules, 3)
        with session_scope(engine) as s:
            claimed = claim_due_deliveries(
                session=s, owner="dead", now=utcnow(), lease_seconds=2.5, limit=10
            )
        assert len(claimed) == 3
        with running_dispatcher(engine):
            time.sleep(0.3)
            assert receiver.deliveries == [], "a live lease must not be taken over"
            rows = settle(engine, timeout=10)
        assert {r.status for r in rows} == {"sent"} and len(receiver.deliveries) == 3
        with session_scope(engine) as s:
            late = mark_sent(
                session=s, delivery_id=claimed[0].id, owner="dead", now=utcnow(), status_code=200
            )
        assert late is False


def test_claims_cap_each_endpoint(engine: Engine) -> None:
    """One claim gives each endpoint at most `per_channel`, and skips full endpoints."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    a, _ = add_webhook(engine, user_id, "http://127.0.0.1:9/a")
    b, _ = add_webhook(engine, user_id, "http://127.0.0.1:9/b")
    add_hits(engine, rules, 5)
    now = utcnow() + timedelta(seconds=1)
    with session_scope(engine) as s:
        first = claim_due_deliveries(
            session=s, owner="x", now=now, lease_seconds=60, limit=100, per_channel=2
        )
        second = claim_due_deliveries(
            session=s,
            owner="x",
            now=now,
            lease_seconds=60,
            limit=100,
            skip_channels=[("webhook", a)],
        )
    assert sorted(j.channel_id for j in first) == [a, a, b, b]
    assert sorted(j.channel_id for j in second) == [b, b, b]


def test_secrets_never_logged(engine: Engine) -> None:
    """Neither the signing secret nor a header carrying it appears in any log line,
    whatever the outcome of a try."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    answers = iter([500, 302, 410])
    with LoopbackServer(lambda request: Reply(next(answers, 200))) as server:
        _, secret = add_webhook(engine, user_id, server.url("/hook"))
        add_hits(engine, rules, 1)
        with (
            structlog.testing.capture_logs() as logs,
            running_dispatcher(engine, retry=RetryPolicy(scale=SCALE)),
        ):
            settle(engine)
    assert any(e["event"] == "delivery.dead" for e in logs)
    text = json.dumps(logs, default=str)
    assert secret not in text and secret.removeprefix("whsec_") not in text


def test_wake_from_another_thread_sends_at_once(engine: Engine) -> None:
    """Hits committed elsewhere are sent as soon as `wake` is called (from any thread),
    not at the next poll."""
    user_id, _ = make_user(engine, "u")
    rules = add_rules(engine, user_id)
    config = DispatcherConfig(poll_seconds=60, lease_seconds=30)
    with WebhookReceiver() as receiver:
        add_webhook(engine, user_id, receiver.url("/hook"))
        with running_dispatcher(engine, config=config) as dispatcher:
            time.sleep(0.2)  # its first look found nothing: it now sleeps for a minute
            add_hits(engine, rules, 2)
            started = time.monotonic()
            threading.Thread(target=dispatcher.wake).start()
            settle(engine, timeout=10)
            assert time.monotonic() - started < 5
    assert len(receiver.deliveries) == 2
