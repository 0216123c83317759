"""The poll loop: one APScheduler job claims due feeds and refreshes them concurrently."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.refresh import Ingest, refresh_feed
from store import is_transient, session_scope
from store.feeds import claim_due_feeds, next_due_at, release_feed_leases
from store.rules import rules_changed_since
from store.stories import prune_story_keys
from store.values import FeedClaim

log = structlog.get_logger(__name__)
_PRUNE_BATCH, _PRUNE_ROUNDS = 20_000, 500
_MIN_WAIT_SECONDS = 0.1  # between claims that find too little due: bounds the claim rate


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 5.0
    rules_sync_seconds: float = 2.0
    batch_size: int = 100
    concurrency: int = 20
    lease_seconds: float = 300.0
    story_prune_seconds: float = 600.0  # how often band keys past the story window go


def _log_crash(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("poll.cycle_crashed", error=repr(task.exception()))


class Poller:
    """Claims due feeds (shared fairly between replicas) and polls them.

    The poll work runs in the poller's own task, not in APScheduler's: the scheduler's
    shutdown cancels the jobs it runs, which would abandon polls in flight with their
    leases held. `stop` instead lets them finish, and gives back what it cannot finish."""

    def __init__(self, ingest: Ingest, config: SchedulerConfig, *, owner: str) -> None:
        self.ingest = ingest
        self.config = config
        self.owner = owner
        self._scheduler = AsyncIOScheduler()
        self._semaphore = asyncio.Semaphore(config.concurrency)
        self._min_batch = max(1, config.concurrency // 2)
        self._cycle: asyncio.Task[int] | None = None
        # Claimed feeds waiting for a concurrency slot, and polls under way.
        self._queued: dict[int, asyncio.Task[None]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._wake = asyncio.Event()  # set by `stop`, to end an idle wait

    def sync_rules(self) -> int:
        """Pull rule changes into this process's index."""
        with session_scope(self.ingest.engine, readonly=True) as session:
            rows = rules_changed_since(
                session=session,
                since=self.ingest.matcher.watermark,
                applied=self.ingest.matcher.applied_at,
            )
        return self.ingest.matcher.apply(rows)

    async def _sync_rules_job(self) -> None:
        try:
            changed = await asyncio.to_thread(self.sync_rules)
        except Exception:
            log.exception("rules.sync_failed")
            return
        if changed:
            log.info("rules.synced", changed=changed, rules=len(self.ingest.matcher))

    async def _prune_stories_job(self) -> None:
        """Drop band keys older than the story window (each replica may; any one suffices)."""

        def prune() -> int:
            before = self.ingest.clock() - self.ingest.policy.story_window
            total = 0
            for _ in range(_PRUNE_ROUNDS):  # short transactions, each a bounded batch
                with session_scope(self.ingest.engine) as session:
                    pruned = prune_story_keys(session=session, before=before, limit=_PRUNE_BATCH)
                total += pruned
                if pruned < _PRUNE_BATCH:
                    break
            return total

        try:
            pruned = await asyncio.to_thread(prune)
        except Exception:
            log.exception("stories.prune_failed")
            return
        if pruned:
            log.info("stories.pruned", keys=pruned)

    async def _tick_job(self) -> None:
        # One poll cycle at a time; a tick that finds one running does nothing.
        if not self._stopping and (self._cycle is None or self._cycle.done()):
            self._cycle = asyncio.create_task(self.tick(), name="poll-cycle")
            self._cycle.add_done_callback(_log_crash)

    async def tick(self) -> int:
        """Claim due feeds as slots free up and poll them, until none is in flight and none
        falls due within a tick; return how many were polled. Claiming no more than the
        free slots means a lease starts when its poll can start, not while it waits behind
        others. Idle or busy, a replica claims again when the next feed falls due, so that
        replicas share the feeds as they fall due (one that slept a whole tick would find
        them taken by the busy ones)."""
        loop = asyncio.get_running_loop()
        active: set[asyncio.Task[None]] = set()
        polled, retry_at, soon = 0, 0.0, False
        while not self._stopping:
            free = self.config.concurrency - len(active)
            # Claim in batches (half the slots at least) rather than one feed per free slot.
            if free > 0 and loop.time() >= retry_at and (not active or free >= self._min_batch):
                limit = min(free, self.config.batch_size)
                claims, wait = await self._claim_batch(limit)
                if self._stopping:  # stopped while claiming: give the claims back
                    await self._release([c.id for c in claims])
                    break
                for claim in claims:
                    task = asyncio.create_task(self._poll(claim))
                    self._queued[claim.id] = task
                    active.add(task)
                if len(claims) < limit:  # nothing more is due: look again when one is
                    soon = wait is not None
                    retry_at = loop.time() + (self.config.tick_seconds if wait is None else wait)
            if not active:
                if not soon:
                    break  # nothing due within a tick: the next tick looks again
                await self._pause(retry_at - loop.time())
                continue
            timeout = retry_at - loop.time() if retry_at > loop.time() else None
            done, active = await asyncio.wait(
                active, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            polled += len(done)
        # Stopping: the polls in flight finish, or `stop` cancels them.
        await asyncio.gather(*active, return_exceptions=True)
        return polled + len(active)

    async def _claim_batch(self, limit: int) -> tuple[list[FeedClaim], float | None]:
        """Claims, and how long to wait before claiming again if they are fewer than
        `limit`: until the next feed falls due, or None when none does within a tick."""
        try:
            return await asyncio.to_thread(self._sync_and_claim, limit)
        except Exception as exc:
            # A database that is down or restarting: the next tick tries again.
            if not is_transient(exc):
                log.exception("poll.claim_failed")
            else:
                log.warning("poll.claim_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return [], None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when `stop` is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, seconds))

    async def _poll(self, claim: FeedClaim) -> None:
        async with self._semaphore:
            if self._queued.pop(claim.id, None) is None:
                return  # released by `stop` while waiting for a slot
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await refresh_feed(claim, self.ingest)
            except Exception:
                # The lease stays until it expires: a back-off for a feed that crashes us.
                log.exception("poll.crashed", feed_id=claim.id)
            finally:
                self._in_flight.discard(task)

    def _sync_and_claim(self, limit: int) -> tuple[list[FeedClaim], float | None]:
        # Rules committed before this claim must take part in it.
        self.sync_rules()
        now = self.ingest.clock()
        with session_scope(self.ingest.engine) as session:
            claims = claim_due_feeds(
                session=session,
                owner=self.owner,
                now=now,
                lease_seconds=self.config.lease_seconds,
                limit=limit,
            )
            wait = None
            if len(claims) < limit:
                due = next_due_at(session=session, now=now)
                until = (due - now).total_seconds() if due is not None else None
                if until is not None and until < self.config.tick_seconds:
                    # Jitter, so that which of the waiting replicas claims first is random.
                    wait = max(_MIN_WAIT_SECONDS, until) + random.uniform(0, _MIN_WAIT_SECONDS)
        return claims, wait

    async def _release(self, feed_ids: list[int] | None) -> int:
        """Give leases back (all of this poller's when `feed_ids` is None); best effort."""
        if feed_ids == []:
            return 0

        def release() -> int:
            with session_scope(self.ingest.engine) as session:
                return release_feed_leases(session=session, owner=self.owner, feed_ids=feed_ids)

        try:
            return await asyncio.to_thread(release)
        except Exception:
            log.exception("poll.release_failed")  # the leases expire by themselves
            return 0

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
            self._prune_stories_job,
            "interval",
            seconds=self.config.story_prune_seconds,
            max_instances=1,
            coalesce=True,
            id="stories-prune",
        )
        self._scheduler.add_job(
            self._tick_job,
            "interval",
            seconds=self.config.tick_seconds,
            max_instances=1,
            coalesce=True,
            id="poll-tick",
            next_run_time=datetime.now(UTC),  # the first cycle at once, not a tick later
        )
        self._scheduler.start()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, give back claimed feeds not yet started, let polls in flight
        finish within `timeout`, then cancel the rest and give their leases back."""
        self._stopping = True
        self._wake.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        queued = list(self._queued)
        for feed_id in queued:
            self._queued.pop(feed_id).cancel()
        released = await self._release(queued)
        cycle = self._cycle
        if cycle is not None and not cycle.done():
            await asyncio.wait([cycle], timeout=timeout)
            if not cycle.done():
                for task in list(self._in_flight):
                    task.cancel()
                await asyncio.wait([cycle], timeout=1.0)
                released += await self._release(None)
        log.info("poll.stopped", released=released)
