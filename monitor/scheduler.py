"""The poll loop: one APScheduler job claims due feeds and refreshes them concurrently."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.refresh import Ingest, refresh_feed
from store import session_scope
from store.feeds import claim_due_feeds
from store.rules import rules_changed_since

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 5.0
    rules_sync_seconds: float = 2.0
    batch_size: int = 100
    concurrency: int = 20
    lease_seconds: float = 300.0


class Poller:
    """Claims due feeds (shared fairly between replicas) and polls them."""

    def __init__(self, ingest: Ingest, config: SchedulerConfig, *, owner: str) -> None:
        self.ingest = ingest
        self.config = config
        self.owner = owner
        self._scheduler = AsyncIOScheduler()
        self._semaphore = asyncio.Semaphore(config.concurrency)
        self._in_flight: set[asyncio.Task[object]] = set()
        self._stopping = False

    def sync_rules(self) -> int:
        """Pull rule changes into this process's index."""
        with session_scope(self.ingest.engine, readonly=True) as session:
            rows = rules_changed_since(session=session, since=self.ingest.matcher.watermark)
        return self.ingest.matcher.apply(rows)

    async def _sync_rules_job(self) -> None:
        try:
            changed = await asyncio.to_thread(self.sync_rules)
        except Exception:
            log.exception("rules.sync_failed")
            return
        if changed:
            log.info("rules.synced", changed=changed, rules=len(self.ingest.matcher))

    async def tick(self) -> int:
        """Claim due feeds and poll them; return how many were polled."""
        if self._stopping:
            return 0
        try:
            # Rules committed before this claim must take part in it.
            await asyncio.to_thread(self.sync_rules)
            claims = await asyncio.to_thread(self._claim, self.ingest.clock())
        except Exception:
            log.exception("poll.claim_failed")
            return 0
        if not claims:
            return 0

        async def one(claim):  # type: ignore[no-untyped-def]
            async with self._semaphore:
                try:
                    await refresh_feed(claim, self.ingest)
                except Exception:
                    log.exception("poll.crashed", feed_id=claim.id)

        tasks = [asyncio.create_task(one(c)) for c in claims]
        self._in_flight.update(tasks)
        try:
            await asyncio.gather(*tasks)
        finally:
            self._in_flight.difference_update(tasks)
        return len(claims)

    def _claim(self, now):  # type: ignore[no-untyped-def]
        with session_scope(self.ingest.engine) as session:
            return claim_due_feeds(
                session=session,
                owner=self.owner,
                now=now,
                lease_seconds=self.config.lease_seconds,
                limit=self.config.batch_size,
            )

    async def start(self) -> None:
        await self._sync_rules_job()
        self._scheduler.add_job(
            self._sync_rules_job,
            "interval",
            seconds=self.config.rules_sync_seconds,
            max_instances=1,
            coalesce=True,
            id="rules-sync",
        )
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.config.tick_seconds,
            max_instances=1,
            coalesce=True,
            id="poll-tick",
        )
        self._scheduler.start()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let polls in flight finish within `timeout`."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=timeout)
