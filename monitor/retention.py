"""Retention runs: old hits (with their finished deliveries), articles no hit refers to,
and page texts, pruned in small batches by one replica at a time (a lease row)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from monitor import metrics
from store import session_scope
from store.retention import (
    count_due,
    prune_articles,
    prune_hits,
    prune_texts,
    release_lease,
    take_lease,
)

log = structlog.get_logger(__name__)
LEASE = "prune"


@dataclass(frozen=True)
class RetentionPolicy:
    article_days: float = 90.0  # articles that no hit refers to
    full_text_days: float = 30.0  # page text (the summary stays)
    hit_days: float = 365.0  # hits and their finished deliveries
    batch_size: int = 1000
    lease_seconds: float = 600.0


@dataclass
class PruneReport:
    counts: dict[str, int] = field(
        default_factory=lambda: {"hits": 0, "deliveries": 0, "articles": 0, "texts": 0}
    )
    batches: int = 0
    dry_run: bool = False
    skipped: bool = False  # another replica holds the lease


def _cutoffs(policy: RetentionPolicy, now: datetime) -> tuple[datetime, datetime, datetime]:
    return (
        now - timedelta(days=policy.article_days),
        now - timedelta(days=policy.full_text_days),
        now - timedelta(days=policy.hit_days),
    )


def prune(
    engine: Engine,
    policy: RetentionPolicy,
    *,
    now: datetime,
    owner: str,
    dry_run: bool = False,
    on_batch: Callable[[PruneReport], None] | None = None,
) -> PruneReport:
    """Prune what is due at `now` (hits first, so that their articles follow in the same
    run), or, with `dry_run`, count it. Skips when another replica is pruning."""
    article_cutoff, text_cutoff, hit_cutoff = _cutoffs(policy, now)
    report = PruneReport(dry_run=dry_run)
    if dry_run:
        with session_scope(engine, readonly=True) as session:
            report.counts = count_due(
                session=session,
                article_cutoff=article_cutoff,
                text_cutoff=text_cutoff,
                hit_cutoff=hit_cutoff,
            )
        return report
    with session_scope(engine) as session:
        if not take_lease(
            session=session, name=LEASE, owner=owner, now=now, lease_seconds=policy.lease_seconds
        ):
            report.skipped = True
            log.info("prune.skipped", reason="another replica is pruning")
            return report
    try:
        _run(
            engine, policy, report, now, owner, (article_cutoff, text_cutoff, hit_cutoff), on_batch
        )
    finally:
        with session_scope(engine) as session:
            release_lease(session=session, name=LEASE, owner=owner)
    for kind, n in report.counts.items():
        metrics.PRUNED.labels(kind).inc(n)
    log.info("prune.done", batches=report.batches, **report.counts)
    return report


def _run(
    engine: Engine,
    policy: RetentionPolicy,
    report: PruneReport,
    now: datetime,
    owner: str,
    cutoffs: tuple[datetime, datetime, datetime],
    on_batch: Callable[[PruneReport], None] | None,
) -> None:
    article_cutoff, text_cutoff, hit_cutoff = cutoffs
    limit = policy.batch_size
    started = time.monotonic()
    for kind in ("hits", "articles", "texts"):
        after: int | None = 0
        while after is not None:
            with session_scope(engine) as session:  # one short transaction per batch
                if not take_lease(  # renewed; lost means another replica took over
                    session=session,
                    name=LEASE,
                    owner=owner,
                    now=now + timedelta(seconds=time.monotonic() - started),
                    lease_seconds=policy.lease_seconds,
                ):
                    log.warning("prune.lease_lost")
                    return
                if kind == "hits":
                    hits, deliveries, after = prune_hits(
                        session=session, cutoff=hit_cutoff, after=after, limit=limit
                    )
                    report.counts["hits"] += hits
                    report.counts["deliveries"] += deliveries
                elif kind == "articles":
                    n, after = prune_articles(
                        session=session, cutoff=article_cutoff, after=after, limit=limit
                    )
                    report.counts["articles"] += n
                else:
                    n, after = prune_texts(
                        session=session, cutoff=text_cutoff, after=after, limit=limit
                    )
                    report.counts["texts"] += n
            if after is not None:
                report.batches += 1
                log.debug("prune.batch", kind=kind, after=after)
                if on_batch is not None:
                    on_batch(report)


async def prune_periodically(
    engine: Engine,
    policy: RetentionPolicy,
    *,
    owner: str,
    clock: Callable[[], datetime],
    interval_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Prune every `interval_seconds` until `stop` is set; a failed run is logged and
    the next one tries again."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(prune, engine, policy, now=clock(), owner=owner)
        except Exception as exc:
            log.warning("prune.failed", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
