"""The outbox dispatcher: claim due deliveries under a lease, send them concurrently
(bounded per endpoint), and mark each sent, retried or dead.

Claiming is continuous: whenever there is room in flight, the dispatcher claims more, so
that one slow endpoint never holds up the others' batch. Outcomes are written in batches
by one recorder task, and a delivery stays "in flight" until its outcome is committed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from notifiers import metrics
from notifiers.outcome import SendOutcome
from notifiers.retry import RetryPolicy
from store import is_transient, session_scope
from store.deliveries import (
    claim_due_deliveries,
    mark_dead,
    mark_sent_many,
    release_delivery_leases,
    schedule_retry,
)
from store.digests import build_due_digests, next_digest_due
from store.targets import KINDS, deactivate_channel
from store.values import DeliveryJob
from store.webhooks import disable_webhook

log = structlog.get_logger(__name__)

Sender = Callable[[DeliveryJob], Awaitable[SendOutcome]]
Channel = tuple[str, int]


@dataclass(frozen=True)
class DispatcherConfig:
    poll_seconds: float = 1.0
    batch_size: int = 200  # deliveries in flight at most, across endpoints
    lease_seconds: float = 120.0
    per_endpoint_concurrency: int = 4
    # Claimed but not yet finished, per endpoint: enough to keep its sends busy.
    per_endpoint_queue: int = 64
    # How often to look for digests that fall due (0: never), and the hits one holds at most.
    digest_poll_seconds: float = 1.0
    digest_max_hits: int = 500


@dataclass(frozen=True, slots=True)
class _Done:
    job: DeliveryJob
    outcome: SendOutcome


class Dispatcher:
    """Sends due deliveries through the sender for their channel kind."""

    def __init__(
        self,
        engine: Engine,
        senders: dict[str, Sender],
        *,
        owner: str,
        config: DispatcherConfig,
        retry: RetryPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.senders = senders
        self.owner = owner
        self.config = config
        self.retry = retry
        self.clock = clock
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._endpoint_limits: dict[Channel, asyncio.Semaphore] = {}
        # Claimed and not yet recorded (for room per endpoint), and the tasks: those still
        # waiting for their endpoint's slot, and those sending.
        self._in_flight: dict[int, DeliveryJob] = {}
        self._per_channel: Counter[Channel] = Counter()
        self._queued: dict[int, asyncio.Task[None]] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._done: asyncio.Queue[_Done] = asyncio.Queue()
        # Held by the recorder from writing a batch until it has forgotten it: a claim
        # that meets a job still in flight waits for it (see `_claim_room`).
        self._recording = asyncio.Lock()
        self._next_due: datetime | None = None
        self._digests_at = 0.0  # monotonic time of the next look for due digests

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll. Thread-safe, so that
        the ingest can call it right after its transaction commits."""
        self._call_in_loop(self._wake.set)

    def stop(self) -> None:
        """Stop claiming; `run` returns once sends in flight are recorded. Thread-safe."""
        self._call_in_loop(self._stop_now)

    def _stop_now(self) -> None:
        self._stop.set()
        self._wake.set()

    def _call_in_loop(self, func: Callable[[], None]) -> None:
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            func()
        elif not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(func)

    async def run(self) -> None:
        """Dispatch until `stop` is called; then let the sends started finish and record."""
        self._loop = asyncio.get_running_loop()
        recorder = asyncio.create_task(self._record_loop(), name="dispatch-recorder")
        tasks: set[asyncio.Task[None]] = set()
        failures = 0
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    await self._build_digests()
                    jobs = await self._claim_room()
                    failures = 0
                except Exception as exc:
                    # A database that is down or restarting: back off, then try again.
                    if not is_transient(exc):
                        log.exception("dispatch.failed")
                    else:
                        log.warning("dispatch.failed", error=f"{type(exc).__name__}: {exc}"[:300])
                    jobs, failures = [], failures + 1
                if self._stop.is_set():  # stopped while claiming: give the claims back
                    await self._release([job.id for job in jobs])
                    for job in jobs:
                        self._forget_job(job)
                    break
                for job in jobs:
                    task = asyncio.create_task(self._deliver(job))
                    self._queued[job.id] = task
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await self._sleep(failures)
            if tasks:
                await asyncio.wait(tasks)
            await self._done.join()
        finally:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder

    async def shutdown(self, timeout: float) -> None:
        """Stop claiming, give back claimed deliveries not yet sending, let sends in flight
        finish within `timeout` and record them, then cancel the rest and give their
        leases back."""
        self.stop()
        queued = list(self._queued)
        for delivery_id in queued:
            self._queued.pop(delivery_id).cancel()
        released = await self._release(queued)
        sending = set(self._sending)
        if sending:
            _, late = await asyncio.wait(sending, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        with contextlib.suppress(TimeoutError):  # outcomes of finished sends first
            await asyncio.wait_for(self._done.join(), timeout=2.0)
        released += await self._release(None)
        log.info("dispatch.stopped", released=released)

    async def _release(self, delivery_ids: list[int] | None) -> int:
        """Give leases back (all of this dispatcher's when None); best effort."""
        if delivery_ids == []:
            return 0

        def release() -> int:
            with session_scope(self.engine) as session:
                return release_delivery_leases(
                    session=session, owner=self.owner, delivery_ids=delivery_ids
                )

        try:
            return await asyncio.to_thread(release)
        except Exception:
            log.exception("dispatch.release_failed")  # the leases expire by themselves
            return 0

    async def dispatch_once(self) -> int:
        """Claim what there is room for, send it and record every outcome; return how many
        were handled. For tests and one-shot tools; `run` is the long-lived loop."""
        self._loop = asyncio.get_running_loop()
        await self._build_digests(force=True)
        jobs = await self._claim_room()
        if not jobs:
            return 0
        tasks = []
        for job in jobs:
            self._queued[job.id] = task = asyncio.create_task(self._deliver(job))
            tasks.append(task)
        await asyncio.gather(*tasks)
        batch = []
        while not self._done.empty():
            batch.append(self._done.get_nowait())
            self._done.task_done()
        await self._record_retrying(batch)
        self._forget(batch)
        return len(jobs)

    async def _build_digests(self, force: bool = False) -> None:
        """Turn the held hits of channels whose digest time has come into digest
        deliveries (see `store.digests`), at most once per `digest_poll_seconds`."""
        every = self.config.digest_poll_seconds
        if every <= 0 or (not force and time.monotonic() < self._digests_at):
            return
        self._digests_at = time.monotonic() + every

        def build() -> list[int]:
            now = self.clock()
            # A read first: building takes SQLite's write lock, which the ingest and the
            # outcome recorder need, and most looks find nothing due.
            with session_scope(self.engine, readonly=True) as session:
                due = next_digest_due(session=session)
            if due is None or due > now:
                return []
            with session_scope(self.engine) as session:
                return build_due_digests(
                    session=session, now=now, max_hits=self.config.digest_max_hits
                )

        built = await asyncio.to_thread(build)
        if built:
            log.info("digest.built", digests=len(built), first_id=built[0])

    async def _claim_room(self) -> list[DeliveryJob]:
        room = self.config.batch_size - len(self._in_flight)
        if room <= 0:
            return []
        queue = self.config.per_endpoint_queue
        full = [c for c, n in self._per_channel.items() if n > queue // 2]
        jobs = await asyncio.to_thread(self._claim, room, full)
        if any(job.id in self._in_flight for job in jobs):
            # A retry recorded as due at once can be claimed again between the commit of
            # its outcome and the recorder forgetting it. Once the record in progress has
            # forgotten what it committed, a job still in flight is one whose lease ran
            # out mid-send: its own outcome will settle the row.
            async with self._recording:
                pass
        fresh = []
        for job in jobs:
            if job.id in self._in_flight:
                continue  # our own lease ran out mid-send: that send is still going
            self._in_flight[job.id] = job
            self._per_channel[(job.channel_kind, job.channel_id)] += 1
            fresh.append(job)
        return fresh

    def _claim(self, room: int, full: list[Channel]) -> list[DeliveryJob]:
        with session_scope(self.engine) as session:
            return claim_due_deliveries(
                session=session,
                owner=self.owner,
                now=self.clock(),
                lease_seconds=self.config.lease_seconds,
                limit=room,
                per_channel=self.config.per_endpoint_queue,
                skip_channels=full,
            )

    async def _sleep(self, failures: int = 0) -> None:
        # Until the next poll (backing off while the database fails), or sooner when a
        # retry we scheduled falls due.
        timeout = self.config.poll_seconds
        if failures:
            timeout = min(timeout * 2**failures, max(5.0, timeout))
        elif self._next_due is not None:
            until = (self._next_due - self.clock()).total_seconds()
            if until <= 0:
                self._next_due = None
                return
            timeout = min(timeout, until)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _deliver(self, job: DeliveryJob) -> None:
        key = (job.channel_kind, job.channel_id)
        limit = self._endpoint_limits.setdefault(
            key, asyncio.Semaphore(self.config.per_endpoint_concurrency)
        )
        task = asyncio.current_task()
        assert task is not None
        outcome = None
        try:
            async with limit:
                if self._queued.pop(job.id, None) is None:
                    return  # given back by `shutdown` while waiting for a slot
                self._sending.add(task)
                try:
                    started = time.perf_counter()
                    outcome = await self._send(job)
                    metrics.SEND_SECONDS.labels(job.channel_kind).observe(
                        time.perf_counter() - started
                    )
                finally:
                    self._sending.discard(task)
            await self._done.put(_Done(job, outcome))
        finally:
            if outcome is None:  # cancelled: its lease is given back or runs out
                self._forget_job(job)

    async def _send(self, job: DeliveryJob) -> SendOutcome:
        if not job.target_active:
            return SendOutcome(
                False, error=f"{job.channel_kind} {job.channel_id} is inactive", permanent=True
            )
        sender = self.senders.get(job.channel_kind)
        if sender is None:
            return SendOutcome(False, error=f"no sender for {job.channel_kind} in this process")
        try:
            return await sender(job)
        except Exception as exc:  # a sender bug must not lose the delivery
            log.exception("delivery.sender_crashed", delivery_id=job.id)
            return SendOutcome(False, error=f"{type(exc).__name__}: {exc}"[:500])

    async def _record_loop(self) -> None:
        """Write outcomes in batches: one transaction for all that finished meanwhile."""
        while True:
            batch = [await self._done.get()]
            await asyncio.sleep(0.005)  # let the sends finishing with it join one commit
            while not self._done.empty() and len(batch) < 500:
                batch.append(self._done.get_nowait())
            try:
                await self._record_retrying(batch)
            finally:
                self._forget(batch)
                for _ in batch:
                    self._done.task_done()

    async def _record_retrying(self, batch: list[_Done]) -> None:
        # The sends have happened: recording them through a database blip avoids sending
        # them again once the leases expire. Retries stop before the leases would.
        delay, waited = 0.25, 0.0
        while True:
            try:
                async with self._recording:
                    due = await asyncio.to_thread(self._record, batch)
                    self._forget(batch)  # before a claim can see the retries it made due
                self._note_due(due)
                return
            except Exception as exc:
                if not is_transient(exc) or waited + delay > self.config.lease_seconds / 2:
                    log.exception("dispatch.record_failed", deliveries=len(batch))
                    return
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

    def _forget(self, batch: list[_Done]) -> None:
        for done in batch:
            self._forget_job(done.job)

    def _forget_job(self, job: DeliveryJob) -> None:
        """Free the job's room; wake the loop when its endpoint (or the whole) has room."""
        if self._in_flight.get(job.id) is not job:
            return  # forgotten already, or claimed again since (a newer job holds the id)
        del self._in_flight[job.id]
        key = (job.channel_kind, job.channel_id)
        self._per_channel[key] -= 1
        left = self._per_channel[key]
        if left <= 0:
            del self._per_channel[key]
        roomy = left <= 0 or left == self.config.per_endpoint_queue // 2
        if roomy or len(self._in_flight) <= self.config.batch_size // 2:
            self._wake.set()

    def _note_due(self, due: datetime | None) -> None:
        if due is not None:
            self._next_due = due if self._next_due is None else min(self._next_due, due)

    def _record(self, batch: list[_Done]) -> datetime | None:
        """Commit a batch of outcomes; return the earliest retry it scheduled."""
        now = self.clock()
        sent: dict[int | None, list[DeliveryJob]] = defaultdict(list)
        failed = []
        for done in batch:
            if done.outcome.ok:
                sent[done.outcome.status_code].append(done.job)
            else:
                failed.append(done)
        with session_scope(self.engine) as session:
            for status_code, jobs in sent.items():
                marked = mark_sent_many(
                    session=session,
                    delivery_ids=[j.id for j in jobs],
                    owner=self.owner,
                    now=now,
                    status_code=status_code,
                )
                for job in jobs:
                    if job.id in marked:
                        metrics.record(job.channel_kind, "sent", job.attempts + 1)
                        log.info(
                            "delivery.sent",
                            delivery_id=job.id,
                            kind=job.channel_kind,
                            channel_id=job.channel_id,
                            attempts=job.attempts + 1,
                            status_code=status_code,
                            ms=round((now - job.created_at).total_seconds() * 1000),
                        )
            dues = [self._record_failure_apart(session, d.job, d.outcome, now) for d in failed]
        return min((d for d in dues if d is not None), default=None)

    def _record_failure_apart(
        self, session: Session, job: DeliveryJob, outcome: SendOutcome, now: datetime
    ) -> datetime | None:
        """Record one failure in a savepoint of its own, so that whatever goes wrong with it
        undoes it alone, never the rest of its batch; its lease runs out and it is tried
        again. A lost database connection still fails the whole batch, to be retried."""
        try:
            with session.begin_nested():
                return self._record_failure(session, job, outcome, now)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("delivery.record_failed", delivery_id=job.id)
            return None

    def _record_failure(
        self, session: Session, job: DeliveryJob, outcome: SendOutcome, now: datetime
    ) -> datetime | None:
        attempts = job.attempts + 1
        bound = log.bind(
            delivery_id=job.id,
            kind=job.channel_kind,
            channel_id=job.channel_id,
            attempts=attempts,
            status_code=outcome.status_code,
            ms=round((now - job.created_at).total_seconds() * 1000),
        )
        common: dict[str, Any] = {
            "session": session,
            "delivery_id": job.id,
            "owner": self.owner,
            "now": now,
            "status_code": outcome.status_code,
        }
        due = None
        if outcome.deferred:  # never tried (a rate limit): not an attempt
            delay: float | None = self.retry.bounded(outcome.retry_after)
        elif outcome.permanent:
            delay = None
        else:
            delay = self.retry.delay(attempts, outcome.retry_after)
        if delay is None:
            if mark_dead(**common, error=outcome.error):
                metrics.record(job.channel_kind, "dead", attempts)
                bound.warning("delivery.dead", error=outcome.error)
        else:
            due = now + timedelta(seconds=delay)
            if (
                schedule_retry(
                    **common,
                    next_attempt_at=due,
                    error=outcome.error,
                    count_attempt=not outcome.deferred,
                )
                and not outcome.deferred
            ):
                metrics.record(job.channel_kind, "retry", attempts)
                bound.info("delivery.retry", error=outcome.error, delay_s=round(delay, 3))
        if outcome.disable_target and job.channel_kind == "webhook":
            disable_webhook(
                session=session, webhook_id=job.channel_id, reason=outcome.error, now=now
            )
        elif outcome.disable_target and job.channel_kind in KINDS:  # e-mail, Apprise
            deactivate_channel(
                session=session, channel_id=job.channel_id, reason=outcome.error, now=now
            )
        return due
