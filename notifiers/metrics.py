"""Delivery metrics, counted where deliveries are finished. They live on the default
registry, created once per process at import, so that many dispatchers (or test apps)
never register a series twice."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "newswatch_deliveries",
    "Delivery tries finished by this process, by channel and outcome (sent, retry, dead).",
    ["channel", "status"],
)
ATTEMPTS = Histogram(
    "newswatch_delivery_attempts",
    "Tries a delivery took until it was sent or declared dead.",
    ["channel"],
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
)
SEND_SECONDS = Histogram(
    "newswatch_delivery_send_seconds",
    "Duration of one send try, by channel.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Series that exist from the start read 0 rather than "no data".
for _status in ("sent", "retry", "dead"):
    DELIVERIES.labels("webhook", _status)


def record(channel: str, status: str, attempts: int) -> None:
    """Count one finished try; a delivery that is done (sent or dead) adds its attempts."""
    DELIVERIES.labels(channel, status).inc()
    if status != "retry":
        ATTEMPTS.labels(channel).observe(attempts)
