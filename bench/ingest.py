"""Ingest bench: N feeds of K items from a loopback server, R rules, the real refresh path.

    python -m bench.ingest --feeds 1000 --items 50 --rules 1000
    python -m bench.ingest --feeds 200 --items 20 --full-text

Three passes over every feed, each through `Poller.tick` (claim, fetch, parse, store,
match, record hits and enqueue, reschedule) on a temporary SQLite database:
first (all new), not-modified (the server answers 304), and unchanged (the same bodies
again, without validators). The last stdout line is the contract JSON.

`parse_share` is the parse pool's busy fraction during the first pass: parse seconds
summed over the workers / (first_pass_s x workers). Near 1, everything around feedparser
is cheap enough to keep both cores parsing. `rss_mb` is the peak RSS of this process plus
that of its largest child.

With `--full-text`, each item carries only its title and one sentence and links to an
article page on the same loopback server. The first pass queues those pages (`auto`);
then the real `PageFetcher` fetches, extracts (in the parse pool) and matches them again,
and is timed until the queue is empty: `pages_per_s`, `extract_share` (the pool's busy
fraction while it runs) and `page_p99_ms` (claim to stored, per page) join the JSON. One
loopback host stands for many sites, so the per-host gap is 0 and its concurrency is the
fetcher's.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import multiprocessing
import os
import random
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import structlog

from monitor import FetchLimits, Ingest, ParseLimits, Poller, PollPolicy, RuleMatcher
from monitor.fetch import make_client
from monitor.pages import PageConfig, PageFetcher
from monitor.pool import make_parse_pool
from monitor.recorder import StateRecorder
from monitor.scheduler import SchedulerConfig
from net.children import exit_with_parent
from net.guard import Guard
from net.politeness import Politeness
from store import create_engine, session_scope
from store.feeds import add_feed, request_poll
from store.migrate import upgrade
from store.pages import PageClaim, page_queue_depth
from store.rules import create_rule
from store.users import create_user
from store.webhooks import create_webhook

VOCABULARY = [f"w{n:04d}" for n in range(4000)]


# The feed server: a separate process, so that serving costs this process nothing. ----


def feed_body(feed: int, items: int, now: datetime, pages_port: int = 0) -> bytes:
    """Feed `feed`'s RSS document: deterministic, about 1.2 KB per item; with `pages_port`,
    each item is a title and a sentence linking to its page there."""
    rng = random.Random(feed)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>Bench feed {feed}</title><link>https://bench.example/{feed}/</link>",
        "<language>en</language><description>bench</description>",
    ]
    for item in range(items):
        words = rng.choices(VOCABULARY, k=170)
        published = format_datetime(now - timedelta(minutes=7 * item + feed % 7), usegmt=True)
        link = f"https://bench.example/{feed}/{item}?utm_source=rss"
        text = words[10:]
        if pages_port:
            link, text = f"http://127.0.0.1:{pages_port}/page/{feed}/{item}", words[10:25]
        parts.append(
            f"<item><guid>bench-{feed}-{item}</guid><title>{' '.join(words[:10])}</title>"
            f"<link>{link}</link>"
            f"<description>{escape('<p>' + ' '.join(text) + '.</p>')}</description>"
            f"<pubDate>{published}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def page_body(feed: int, item: int) -> bytes:
    """An article page: navigation, six paragraphs of 60 words, a footer (about 4 KB)."""
    rng = random.Random(feed * 100_003 + item)
    paragraphs = "".join(f"<p>{' '.join(rng.choices(VOCABULARY, k=60))}.</p>" for _ in range(6))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Story {feed}-{item}</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/tech">Tech</a></nav>'
        f"<main><article><h1>Story {feed}-{item}</h1>{paragraphs}</article></main>"
        "<footer><p>Copyright 2026 Bench Media. All rights reserved.</p></footer>"
        "</body></html>"
    ).encode()


async def _serve(port_out: Any, items: int, now: datetime, full_text: bool) -> None:
    bodies: dict[int, tuple[bytes, str]] = {}
    mode = {"validators": True}
    port = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])
                }
                if path.startswith("/__mode/"):
                    mode["validators"] = path.endswith("/validators")
                    writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    continue
                if path == "/robots.txt":
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    continue
                if path.startswith("/page/"):
                    _, _, f, i = path.split("/")
                    page = page_body(int(f), int(i))
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n"
                        + f"content-length: {len(page)}\r\n\r\n".encode()
                        + page
                    )
                    await writer.drain()
                    continue
                feed = int(path.rsplit("/", 1)[-1].split(".")[0])
                if feed not in bodies:
                    body = feed_body(feed, items, now, port if full_text else 0)
                    bodies[feed] = (body, f'"{hash(body) & 0xFFFFFFFF:x}"')
                body, etag = bodies[feed]
                if mode["validators"] and headers.get("if-none-match") == etag:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\netag: {etag}\r\n\r\n".encode())
                else:
                    extra = f"etag: {etag}\r\n" if mode["validators"] else ""
                    writer.write(
                        f"HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\n{extra}"
                        f"content-length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    port_out.send(port)
    async with server:
        await server.serve_forever()


def _server_main(port_out: Any, items: int, now: datetime, parent: int, full_text: bool) -> None:
    exit_with_parent(parent)
    asyncio.run(_serve(port_out, items, now, full_text))


# Timing the parse pool without touching the code under test. --------------------------


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return fn(*args), time.perf_counter() - started


class TimedPool(Executor):
    """A process pool that adds up how long its jobs ran, inside the workers."""

    def __init__(self, workers: int) -> None:
        self._pool = make_parse_pool(workers)
        self.workers = workers
        self.busy_seconds = 0.0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        assert not kwargs
        inner = self._pool.submit(_timed, fn, *args)
        outer: Future[Any] = Future()

        def done(f: Future[Any]) -> None:
            error = f.exception()
            if error is not None:
                outer.set_exception(error)
                return
            result, seconds = f.result()
            with self._lock:
                self.busy_seconds += seconds
            outer.set_result(result)

        inner.add_done_callback(done)
        return outer

    def warm_up(self) -> None:
        list(self._pool.map(_timed, [time.sleep] * self.workers, [0.05] * self.workers))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


# The bench. ---------------------------------------------------------------------------


def make_query(rng: random.Random) -> str:
    """Rules that each match a small fraction of articles."""
    a, b, c, d = rng.sample(VOCABULARY, 4)
    return rng.choice(
        [f"{a} AND {b} AND {c}", f'"{a} {b}"', f"({a} OR {b}) AND {c} AND {d}", f"{a} {b} -{c} {d}"]
    )


def setup(db_url: str, port: int, feeds: int, rules: int, now: datetime) -> None:
    engine = create_engine(db_url)
    upgrade(engine)
    rng = random.Random(7)
    with session_scope(engine) as session:
        user = create_user(session=session, name="bench", now=now)
        create_webhook(
            session=session,
            user_id=user.id or 0,
            url="http://127.0.0.1:9/hook",
            secret="whsec_" + "A" * 32,
            now=now,
        )
        for n in range(rules):
            create_rule(
                session=session, user_id=user.id or 0, name=f"r{n}", query=make_query(rng), now=now
            )
        for n in range(feeds):
            add_feed(session=session, url=f"http://127.0.0.1:{port}/feed/{n}.xml", now=now)
    engine.dispose()


class TimedFetcher(PageFetcher):
    """The real page fetcher, timing each page from claim to stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.durations: list[float] = []

    async def fetch_page(self, claim: PageClaim) -> None:
        started = time.perf_counter()
        await super().fetch_page(claim)
        self.durations.append(time.perf_counter() - started)


async def fetch_pages(ingest: Ingest, limits: FetchLimits, pool: TimedPool) -> dict[str, float]:
    """Run the page fetcher until the queue the first pass filled is empty."""
    with session_scope(ingest.engine, readonly=True) as session:
        queued = page_queue_depth(session=session)
    config = PageConfig(
        limits=dataclasses.replace(limits, max_bytes=5 * 1024 * 1024, timeout_seconds=30),
        politeness=Politeness(per_host=32, min_gap_seconds=0.0),
        concurrency=32,
        poll_seconds=0.05,
    )
    fetcher = TimedFetcher(ingest, config, owner="bench")
    busy = pool.busy_seconds
    started = time.perf_counter()
    await fetcher.start()
    while True:
        await asyncio.sleep(0.05)
        with session_scope(ingest.engine, readonly=True) as session:
            if page_queue_depth(session=session) == 0:
                break
    elapsed = time.perf_counter() - started
    await fetcher.stop(timeout=10)
    durations = sorted(fetcher.durations)
    return {
        "pages": queued,
        "pages_fetched": len(durations),
        "pages_s": elapsed,
        "extract_busy_s": pool.busy_seconds - busy,
        "page_p99_s": durations[int(0.99 * (len(durations) - 1))] if durations else 0.0,
    }


async def run_passes(
    db_url: str, port: int, feeds: int, pool: TimedPool, full_text: bool = False
) -> dict[str, float]:
    engine = create_engine(db_url)
    limits = FetchLimits(
        timeout_seconds=60,
        max_connections=64,
        max_per_host=64,
        guard=Guard(allowlist=(f"127.0.0.1:{port}",)),
    )
    out: dict[str, float] = {}
    async with make_client(limits) as client:
        ingest = Ingest(
            engine=engine,
            client=client,
            matcher=RuleMatcher(),
            fetch_limits=limits,
            parse_limits=ParseLimits(),
            policy=PollPolicy(),
            clock=lambda: datetime.now(UTC),
            parse_pool=pool,
            recorder=StateRecorder(engine),
            full_text_min_words=120,
        )
        poller = Poller(
            ingest,
            SchedulerConfig(batch_size=feeds, concurrency=48, lease_seconds=600),
            owner="bench",
        )
        await asyncio.to_thread(poller.sync_rules)

        async def one_pass() -> float:
            with session_scope(engine) as session:
                for feed_id in range(1, feeds + 1):
                    request_poll(session=session, feed_id=feed_id, now=datetime.now(UTC))
            started = time.perf_counter()
            polled = await poller.tick()
            assert polled == feeds, f"polled {polled} of {feeds}"
            return time.perf_counter() - started

        out["first_pass_s"] = await one_pass()
        out["parse_busy_s"] = pool.busy_seconds
        if full_text:
            out.update(await fetch_pages(ingest, limits, pool))
        else:  # the items are long: `auto` must queue no page
            with session_scope(engine, readonly=True) as session:
                assert page_queue_depth(session=session) == 0, "pages queued for long items"
        out["not_modified_pass_s"] = await one_pass()
        await client.get(f"http://127.0.0.1:{port}/__mode/no-validators")
        out["unchanged_pass_s"] = await one_pass()
    with session_scope(engine, readonly=True) as session:
        from sqlalchemy import text

        out["articles"] = session.execute(text("SELECT count(*) FROM articles")).scalar_one()
        out["hits"] = session.execute(text("SELECT count(*) FROM hits")).scalar_one()
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="parse processes")
    parser.add_argument(
        "--full-text", action="store_true", help="short items: fetch and extract their pages"
    )
    args = parser.parse_args(argv)
    # One log line per poll would cost more than some passes measure.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    now = datetime.now(UTC)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("spawn").Process(
        target=_server_main,
        args=(sender, args.items, now, os.getpid(), args.full_text),
        daemon=True,
    )
    server.start()
    port = receiver.recv()
    pool = TimedPool(args.workers)
    pool.warm_up()
    with tempfile.TemporaryDirectory(prefix="nw-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        setup(db_url, port, args.feeds, args.rules, now)
        measured = asyncio.run(run_passes(db_url, port, args.feeds, pool, args.full_text))
    pool.shutdown()
    server.terminate()
    server.join(5)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    first = measured["first_pass_s"]
    result = {
        "feeds": args.feeds,
        "items": args.items,
        "first_pass_s": round(first, 3),
        "articles_per_s": round(measured["articles"] / first, 1),
        "not_modified_pass_s": round(measured["not_modified_pass_s"], 3),
        "unchanged_pass_s": round(measured["unchanged_pass_s"], 3),
        "parse_share": round(measured["parse_busy_s"] / (first * args.workers), 3),
        "rss_mb": round((own + child) / 1024, 1),
    }
    if args.full_text:
        pages_s = measured["pages_s"]
        result |= {
            "pages": int(measured["pages"]),
            "pages_per_s": round(measured["pages_fetched"] / pages_s, 1),
            "extract_share": round(measured["extract_busy_s"] / (pages_s * args.workers), 3),
            "page_p99_ms": round(measured["page_p99_s"] * 1000, 1),
        }
    print(f"articles={measured['articles']} hits={measured['hits']} rules={args.rules}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
