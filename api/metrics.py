"""The app's Prometheus registry: the process's own metrics (counters kept by the poller
and the dispatcher on the default registry) plus outbox gauges read from the database
at scrape time. Each app gets a fresh registry, so building many apps never registers a
series twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from store import session_scope
from store.deliveries import outbox_stats


class _Forward(Collector):
    """Everything another registry collects (the process-wide default one)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()

    def describe(self) -> list[Metric]:
        return []


class OutboxCollector(Collector):
    """Outbox depth and the age of its oldest pending delivery, shared by all replicas."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with session_scope(self.engine, readonly=True) as session:
            stats = outbox_stats(session=session)
        age = 0.0
        if stats.oldest_pending_at is not None:
            age = max(0.0, (datetime.now(UTC) - stats.oldest_pending_at).total_seconds())
        yield GaugeMetricFamily(
            "newswatch_outbox_pending", "Deliveries waiting to be sent.", value=stats.pending
        )
        yield GaugeMetricFamily(
            "newswatch_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending delivery (0 when none is pending).",
            value=age,
        )

    def describe(self) -> list[Metric]:
        return []


def app_registry(engine: Engine, base: CollectorRegistry | None = None) -> CollectorRegistry:
    """A registry for one app: `base` (the default registry) plus the outbox gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(base or REGISTRY))
    registry.register(OutboxCollector(engine))
    return registry
