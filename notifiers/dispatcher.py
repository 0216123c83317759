"""The outbox dispatcher: claim due deliveries under a lease, send them concurrently
(bounded per endpoint), and mark each sent, retried or dead."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from notifiers.outcome import SendOutcome
from notifiers.retry import RetryPolicy
from store import is_transient, session_scope
from store.deliveries import (
    claim_due_deliveries,
    mark_dead,
    mark_sent,
    release_delivery_leases,
    schedule_retry,
)
from store.values import DeliveryJob
from store.webhooks import disable_webhook

log = structlog.get_logger(__name__)

Sender = Callable[[DeliveryJob], Awaitable[SendOutcome]]


@dataclass(frozen=True)
class DispatcherConfig:
    poll_seconds: float = 1.0
    batch_size: int = 200
    lease_seconds: float = 120.0
    per_endpoint_concurrency: int = 4


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
        self._endpoint_limits: dict[tuple[str, int], asyncio.Semaphore] = {}
        # Claimed deliveries waiting for their endpoint's slot, and sends under way.
        self._queued: dict[int, asyncio.Task[None]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._batch: asyncio.Task[int] | None = None

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until `stop` is called."""
        failures = 0
        while not self._stop.is_set():
            self._batch = asyncio.create_task(self.dispatch_once(), name="dispatch-batch")
            try:
                sent = await self._batch
                failures = 0
            except Exception as exc:
                # A database that is down or restarting: back off, then try again.
                if not is_transient(exc):
                    log.exception("dispatch.failed")
                else:
                    log.warning("dispatch.failed", error=f"{type(exc).__name__}: {exc}"[:300])
                sent, failures = 0, failures + 1
            if sent:
                continue
            wait = min(self.config.poll_seconds * 2**failures, max(5.0, self.config.poll_seconds))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    def stop(self) -> None:
        """Stop claiming; `shutdown` also waits for the deliveries in flight."""
        self._stop.set()
        self._wake.set()

    async def shutdown(self, timeout: float) -> None:
        """Stop claiming, give back claimed deliveries not yet sent, let sends in flight
        finish within `timeout`, then cancel the rest and give their leases back."""
        self.stop()
        queued = list(self._queued)
        for delivery_id in queued:
            self._queued.pop(delivery_id).cancel()
        released = await self._release(queued)
        batch = self._batch
        if batch is not None and not batch.done():
            await asyncio.wait([batch], timeout=timeout)
            if not batch.done():
                for task in list(self._in_flight):
                    task.cancel()
                await asyncio.wait([batch], timeout=1.0)
                released += await self._release(None)
        log.info("dispatch.stopped", released=released)

    async def dispatch_once(self) -> int:
        """Claim one batch and send it; return how many deliveries were handled."""
        jobs = await asyncio.to_thread(self._claim)
        if self._stop.is_set():  # stopped while claiming: give the claims back
            await self._release([job.id for job in jobs])
            return 0
        tasks = []
        for job in jobs:
            task = asyncio.create_task(self._deliver(job))
            self._queued[job.id] = task
            tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(jobs)

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

    def _claim(self) -> list[DeliveryJob]:
        with session_scope(self.engine) as session:
            return claim_due_deliveries(
                session=session,
                owner=self.owner,
                now=self.clock(),
                lease_seconds=self.config.lease_seconds,
                limit=self.config.batch_size,
            )

    async def _deliver(self, job: DeliveryJob) -> None:
        key = (job.channel_kind, job.channel_id)
        limit = self._endpoint_limits.setdefault(
            key, asyncio.Semaphore(self.config.per_endpoint_concurrency)
        )
        async with limit:
            if self._queued.pop(job.id, None) is None:
                return  # released by `shutdown` while waiting for a slot
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                outcome = await self._send(job)
            finally:
                self._in_flight.discard(task)
        await self._record_retrying(job, outcome)

    async def _record_retrying(self, job: DeliveryJob, outcome: SendOutcome) -> None:
        # The send has happened: recording it through a database blip avoids sending it
        # again once the lease expires. Retries stop before the lease would.
        delay, waited = 0.25, 0.0
        while True:
            try:
                await asyncio.to_thread(self._record, job, outcome)
                return
            except Exception as exc:
                if not is_transient(exc) or waited + delay > self.config.lease_seconds / 2:
                    log.exception("delivery.record_failed", delivery_id=job.id)
                    return
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

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

    def _record(self, job: DeliveryJob, outcome: SendOutcome) -> None:
        now = self.clock()
        attempts = job.attempts + 1
        bound = log.bind(
            delivery_id=job.id,
            kind=job.channel_kind,
            channel_id=job.channel_id,
            attempts=attempts,
            status_code=outcome.status_code,
        )
        with session_scope(self.engine) as session:
            if outcome.ok:
                mark_sent(
                    session=session,
                    delivery_id=job.id,
                    owner=self.owner,
                    now=now,
                    status_code=outcome.status_code,
                )
                bound.info("delivery.sent", ms=round((now - job.created_at).total_seconds() * 1000))
                return
            if outcome.deferred:
                delay: float | None = outcome.retry_after or 0.0
            elif outcome.permanent:
                delay = None
            else:
                delay = self.retry.delay(attempts, outcome.retry_after)
            if delay is None:
                mark_dead(
                    session=session,
                    delivery_id=job.id,
                    owner=self.owner,
                    now=now,
                    error=outcome.error,
                    status_code=outcome.status_code,
                )
                bound.warning("delivery.dead", error=outcome.error)
            else:
                schedule_retry(
                    session=session,
                    delivery_id=job.id,
                    owner=self.owner,
                    now=now,
                    next_attempt_at=now + timedelta(seconds=delay),
                    error=outcome.error,
                    status_code=outcome.status_code,
                    count_attempt=not outcome.deferred,
                )
                bound.info("delivery.retry", error=outcome.error, delay_s=round(delay, 3))
            if outcome.disable_target and job.channel_kind == "webhook":
                disable_webhook(
                    session=session, webhook_id=job.channel_id, reason=outcome.error, now=now
                )
