"""Delivery bench: hits committed to the database -> the real dispatcher -> signed POST ->
a loopback receiver. Hits are committed at a steady `--rate` by another process (as a
poller replica would), the dispatcher finds them by polling (`--poll-seconds`, the
NEWSWATCH_DISPATCH_POLL_SECONDS setting), and latency runs from each hit's commit to its
first receipt.

    python -m bench.deliver --hits 10000

Last stdout line: {"hits","deliveries_per_s","p50_ms","p99_ms","lost","duplicates"}.
`--digest` runs the digest bench instead (see `bench.digest`).
`lost` counts hits never received with a valid signature; `duplicates` counts repeats."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import logging
import multiprocessing
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine

from bench import digest
from monitor.normalise import Article
from notifiers import Dispatcher, DispatcherConfig, RetryPolicy, WebhookLimits
from notifiers.webhook import make_sender, make_transport, new_secret, secret_bytes
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.deliveries import list_deliveries, outbox_stats
from store.feeds import add_feed
from store.hits import WEBHOOK, record_hits_and_enqueue
from store.migrate import upgrade
from store.rules import create_rule
from store.users import create_user
from store.values import NewHit
from store.webhooks import create_webhook


def utcnow() -> datetime:
    return datetime.now(UTC)


# The receiver: a minimal HTTP/1.1 keep-alive server, in its own process -------------------


def _receiver(secret: str, conn: Any) -> None:
    asyncio.run(_serve(secret, conn))


async def _serve(secret: str, conn: Any) -> None:
    key = secret_bytes(secret)
    records: list[tuple[str, float, list[int]]] = []
    bad = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal bad
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if lines[0].startswith("GET /__records"):
                    data = json.dumps({"records": records, "bad": bad}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(data))
                    writer.write(data)
                else:
                    received = time.time()
                    msg_id = headers.get("webhook-id", "")
                    signed = f"{msg_id}.{headers.get('webhook-timestamp', '')}.".encode() + body
                    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
                    if "v1," + expected.decode() in headers.get("webhook-signature", ""):
                        records.append((msg_id, received, _digest_hits(body)))
                    else:
                        bad += 1
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    conn.send(server.sockets[0].getsockname()[1])
    async with server:
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop


def _digest_hits(body: bytes) -> list[int]:
    """The hit ids of a digest.created body (none for other events); cheap to skip."""
    if b'"digest.created"' not in body[:40]:
        return []
    return [h["hit_id"] for h in json.loads(body)["data"]["hits"]]


# Set-up and the paced producer --------------------------------------------------------------


def _setup(engine: Engine, hits: int, url: str, secret: str) -> tuple[int, int, list[int]]:
    """A user, a rule, a webhook and `hits` stored articles: (rule, webhook, article ids)."""
    now = utcnow()
    with session_scope(engine) as s:
        user = create_user(session=s, name="bench", now=now)
        rule = create_rule(session=s, user_id=user.id or 0, name="bench", query="x", now=now)
        hook = create_webhook(session=s, user_id=user.id or 0, url=url, secret=secret, now=now)
        feed, _ = add_feed(session=s, url="https://bench.example/rss", now=now)
        stored = insert_new_articles(
            session=s,
            feed_id=feed.id or 0,
            articles=[
                Article(
                    item_key=f"b{i}",
                    url=f"https://bench.example/{i}",
                    canonical_url=f"https://bench.example/{i}",
                    title=f"ByteDance and Huawei {i}",
                    summary="A bench article about ByteDance and Huawei.",
                    content="",
                    language="en",
                    author="",
                    published_at=now,
                )
                for i in range(hits)
            ],
            now=now,
        )
    return rule.id or 0, hook.id or 0, [a.id for a in stored]


def _producer(url: str, rule_id: int, article_ids: list[int], rate: float, conn: Any) -> None:
    """In its own process, as a poller replica would be: commit the hits, report when."""
    engine = create_engine(url)
    conn.recv()  # go
    conn.send(_produce(engine, rule_id, article_ids, rate))
    engine.dispose()


def _produce(engine: Engine, rule_id: int, article_ids: list[int], rate: float) -> dict[int, float]:
    """Commit hits (with their deliveries) in small transactions at `rate` per second."""
    tick = 0.02
    per_tick = max(1, round(rate * tick))
    committed: dict[int, float] = {}
    started = time.monotonic()
    for n, start in enumerate(range(0, len(article_ids), per_tick)):
        delay = started + n * tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        batch = [NewHit(rule_id, a, "**x**", ("x",)) for a in article_ids[start : start + per_tick]]
        with session_scope(engine) as s:
            ids = record_hits_and_enqueue(session=s, hits=batch, now=utcnow())
        at = time.time()
        committed.update((i, at) for i in ids)
    return committed


# The dispatcher, on its own event loop as in the service ---------------------------------


class _Dispatching:
    def __init__(self, engine: Engine, concurrency: int, poll_seconds: float) -> None:
        self.engine = engine
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.ready = threading.Event()
        self.dispatcher: Dispatcher | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        # The service's transport: the SSRF guard at connect time, opened for the receiver.
        limits = WebhookLimits(timeout_seconds=15, allow_private_networks=True)
        async with make_transport(limits) as transport:
            self.dispatcher = Dispatcher(
                self.engine,
                {WEBHOOK: make_sender(transport, limits, utcnow)},
                owner="bench",
                config=DispatcherConfig(
                    per_endpoint_concurrency=self.concurrency, poll_seconds=self.poll_seconds
                ),
                retry=RetryPolicy(scale=0.001),
                clock=utcnow,
            )
            asyncio.get_running_loop().call_soon(self.ready.set)
            await self.dispatcher.run()

    def __enter__(self) -> Dispatcher:
        self.thread.start()
        self.ready.wait(30)
        assert self.dispatcher is not None
        return self.dispatcher

    def __exit__(self, *exc: object) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.thread.join(30)


def _pending(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return outbox_stats(session=s).pending


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(
    hits: int, *, rate: float, concurrency: int, poll_seconds: float, database_url: str | None
) -> dict[str, Any]:
    secret = new_secret()
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    receiver = ctx.Process(target=_receiver, args=(secret, theirs), daemon=True)
    receiver.start()
    port = ours.recv()
    url = f"http://127.0.0.1:{port}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(db_url)
        try:
            upgrade(engine)
            rule_id, hook_id, article_ids = _setup(engine, hits, url, secret)
            to_producer, producer_end = ctx.Pipe()
            producer = ctx.Process(
                target=_producer, args=(db_url, rule_id, article_ids, rate, producer_end)
            )
            producer.start()
            print(f"set up {len(article_ids)} articles; sending", file=sys.stderr)
            cpu_started = time.process_time()
            with _Dispatching(engine, concurrency, poll_seconds):
                to_producer.send("go")
                committed: dict[int, float] = to_producer.recv()
                producer.join(30)
                deadline = time.monotonic() + 60 + hits / 100
                while _pending(engine) and time.monotonic() < deadline:
                    time.sleep(0.1)
            cpu = time.process_time() - cpu_started
            with session_scope(engine, readonly=True) as s:
                rows = list_deliveries(
                    session=s, kind=WEBHOOK, channel_id=hook_id, limit=len(committed) + 10
                )
                hit_of = {f"msg_nw{d.id}": d.hit_id for d in rows}
        finally:
            engine.dispose()
    got = httpx.get(f"http://127.0.0.1:{port}/__records", timeout=30).json()
    ours.send("stop")
    receiver.join(10)

    first: dict[int, float] = {}
    for msg_id, at, _ in got["records"]:
        hit_id = hit_of.get(msg_id)
        if hit_id is not None and hit_id not in first:
            first[hit_id] = at
    # The machine may be shared: CPU per delivery (the dispatcher's process: its event
    # loop and database threads) tells more than the rate when the cores are busy.
    print(f"dispatcher CPU: {cpu * 1e6 / max(1, len(first)):.0f} us per delivery", file=sys.stderr)
    latencies = [(first[h] - committed[h]) * 1000 for h in committed if h in first]
    span = max(first.values(), default=0) - min(committed.values(), default=0)
    return {
        "hits": len(committed),
        "deliveries_per_s": round(len(first) / span, 1) if span > 0 else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "lost": len(committed) - len(first),
        "duplicates": len(got["records"]) - len({m for m, _, _ in got["records"]}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.deliver", description=__doc__)
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=600, help="hits committed per second")
    parser.add_argument(
        "--poll-seconds", type=float, default=0.05, help="the dispatcher's poll interval"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight per endpoint")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--digest", action="store_true", help="hourly digests instead (see bench.digest)"
    )
    parser.add_argument("--channels", type=int, default=100, help="--digest: webhooks")
    parser.add_argument(
        "--digest-poll-seconds",
        type=float,
        default=1.0,
        help="--digest: how often the dispatcher looks for due digests",
    )
    args = parser.parse_args(argv)
    # Warnings only, on stderr: stdout ends with the result line.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    if args.digest:
        print(
            json.dumps(
                digest.run(
                    args.hits,
                    channels=args.channels,
                    digest_poll=args.digest_poll_seconds,
                    database_url=args.database_url,
                )
            )
        )
        return
    result = run(
        args.hits,
        rate=args.rate,
        concurrency=args.concurrency,
        poll_seconds=args.poll_seconds,
        database_url=args.database_url,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
