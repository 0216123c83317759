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
from store import session_scope
from store.deliveries import claim_due_deliveries, mark_dead, mark_sent, schedule_retry
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

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until `stop` is called."""
        while not self._stop.is_set():
            try:
                sent = await self.dispatch_once()
            except Exception:
                log.exception("dispatch.failed")
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def dispatch_once(self) -> int:
        """Claim one batch and send it; return how many deliveries were handled."""
        jobs = await asyncio.to_thread(self._claim)
        if jobs:
            await asyncio.gather(*(self._deliver(job) for job in jobs))
        return len(jobs)

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
            outcome = await self._send(job)
        await asyncio.to_thread(self._record, job, outcome)

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
