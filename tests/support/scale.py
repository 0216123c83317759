"""Helpers for scale-out and shutdown tests: feeds that grow on every fetch, a receiver that
can be slowed down, seeding a database directly, and reading leases back."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from notifiers.webhook import new_secret
from store import session_scope
from store.feeds import add_feed
from store.rules import create_rule
from store.users import create_user
from store.webhooks import create_webhook
from tests.support.feeds import Item, rss
from tests.support.servers import LoopbackServer, Reply, Request
from tests.support.service import ServiceProcess, wait_until

QUERY = "ByteDance AND Huawei"


class _Gated:
    """Answers that can be held: `hold()` makes requests wait until `release()`."""

    gate: threading.Event
    busy: int
    _lock: threading.Lock

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()


def _wait_at_gate(server: _Gated) -> None:
    if server.gate.is_set():
        return
    with server._lock:
        server.busy += 1
    try:
        server.gate.wait(timeout=60)
    finally:
        with server._lock:
            server.busy -= 1


class GrowingFeedServer(_Gated, LoopbackServer):
    """Feeds by path. A growing feed gains one matching item on every fetch, like a busy
    news site, and keeps the earlier ones; a static feed never changes and answers 304 to
    a conditional GET. Fetch times (epoch seconds) are recorded per path; `hold()` makes
    answers wait until `release()`, and `frozen` stops the growing (feeds keep what they have)."""

    def __init__(self, *, growing: list[str], static: list[str]) -> None:
        self.growing = set(growing)
        self.static = set(static)
        self.gate = threading.Event()
        self.gate.set()
        self.busy = 0  # requests held at the gate right now
        self.frozen = False
        self.fetch_times: dict[str, list[float]] = defaultdict(list)
        self._items: dict[str, int] = defaultdict(int)
        self._count_lock = threading.Lock()
        super().__init__(self._answer)

    def fetches(self, path: str) -> list[float]:
        with self._count_lock:
            return list(self.fetch_times[path])

    def items_served(self, path: str) -> int:
        """How many distinct items this growing feed has shown so far."""
        with self._count_lock:
            return self._items[path]

    def _answer(self, request: Request) -> Reply:
        with self._count_lock:
            self.fetch_times[request.path].append(time.time())
            if request.path in self.growing and not (self.frozen and self._items[request.path]):
                self._items[request.path] += 1
            count = self._items[request.path]
        _wait_at_gate(self)
        if request.path in self.growing:
            slug = request.path.strip("/").replace("/", "-")
            items = [
                Item(
                    guid=f"{slug}-{n}",
                    title=f"ByteDance dan Huawei, laporan {n} dari {slug}",
                    description=_distinct_text(slug, n),
                    link=f"https://berita.example.id/{slug}/{n}",
                )
                for n in range(1, count + 1)
            ]
            return Reply(200, rss(items), {"content-type": "application/rss+xml"})
        if request.path in self.static:
            etag = '"static-v1"'
            if request.headers.get("if-none-match") == etag:
                return Reply(304, b"", {"etag": etag})
            body = rss([Item(guid="calm", title="Cuaca cerah", description="Tidak ada berita.")])
            return Reply(200, body, {"content-type": "application/rss+xml", "etag": etag})
        return Reply(404, b"not found")


class SlowReceiver(_Gated, LoopbackServer):
    """A webhook receiver answering 200 (once released, when held); records every POST."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.busy = 0
        super().__init__(self._answer)

    def _answer(self, request: Request) -> Reply:
        _wait_at_gate(self)
        return Reply(200, b"ok")

    def webhook_ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in list(self.requests) if r.method == "POST"]


@dataclass(frozen=True)
class Seeded:
    rule_id: int
    webhook_id: int
    secret: str


def seed(engine: Engine, *, webhook_url: str) -> Seeded:
    """One user with a rule matching the growing feeds, and a webhook for all its rules."""
    now = datetime.now(UTC)
    secret = new_secret()
    with session_scope(engine) as session:
        user = create_user(session=session, name="newsroom", now=now)
        rule = create_rule(
            session=session, user_id=user.id or 0, name="bd-hw", query=QUERY, now=now
        )
        hook = create_webhook(
            session=session, user_id=user.id or 0, url=webhook_url, secret=secret, now=now
        )
    return Seeded(rule.id or 0, hook.id or 0, secret)


def add_feeds(engine: Engine, urls: list[str], *, spread: float = 0.0) -> list[float]:
    """Add the feeds in one transaction, first due now and the others spread evenly over
    the next `spread` seconds; return when each is due (epoch seconds)."""
    now = datetime.now(UTC)
    dues = [now + timedelta(seconds=spread * n / len(urls)) for n in range(len(urls))]
    with session_scope(engine) as session:
        for url, due in zip(urls, dues, strict=True):
            add_feed(session=session, url=url, now=due)
    return [due.timestamp() for due in dues]


def wait_started(*services: ServiceProcess, timeout: float = 30.0) -> None:
    """Wait until each service has logged that its roles run."""
    for service in services:
        wait_until(
            lambda s=service: '"service.started"' in s.log(),  # type: ignore[misc]
            timeout,
            message=f"service on port {service.port} started",
        )


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def leased_by(engine: Engine, table: str, pid: int) -> list[int]:
    """Ids of rows in `table` (feeds or pending deliveries) leased to the process `pid`."""
    pending = " AND status = 'pending'" if table == "deliveries" else ""
    return [
        r[0]
        for r in rows(
            engine,
            f"SELECT id FROM {table} WHERE lease_owner LIKE :p{pending} ORDER BY id",
            p=f"%:{pid}:%",
        )
    ]


def settled(engine: Engine, feeds: GrowingFeedServer, paths: list[str]) -> bool:
    """Every item the growing `paths` showed is a hit, and every delivery is sent."""
    expected = sum(feeds.items_served(p) for p in paths)
    hits = scalar(engine, "SELECT count(*) FROM hits")
    pending = scalar(engine, "SELECT count(*) FROM deliveries WHERE status <> 'sent'")
    return hits == expected and pending == 0


def live_leases(engine: Engine) -> int:
    """Feeds and pending deliveries whose lease has not expired yet."""
    now = datetime.now(UTC)
    feeds = scalar(engine, "SELECT count(*) FROM feeds WHERE lease_expires_at > :now", now=now)
    deliveries = scalar(
        engine,
        "SELECT count(*) FROM deliveries WHERE status = 'pending' AND lease_expires_at > :now",
        now=now,
    )
    return int(feeds) + int(deliveries)  # type: ignore[call-overload]


def _distinct_text(slug: str, n: int) -> str:
    """A body of words of this item's own, so that each item is a story of its own (items
    that differ only in a number are copies of one story, and alert once per rule)."""
    words = [hashlib.sha256(f"{slug}/{n}/{i}".encode()).hexdigest()[:8] for i in range(16)]
    return f"Kerja sama pusat data di Jakarta: {' '.join(words)}."
