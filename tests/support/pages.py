"""A loopback site that serves a feed, article pages and robots.txt, and a harness that
runs polls and the page fetcher through the real path, for full-text tests."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor import FetchLimits
from monitor.fetch import make_client
from monitor.pages import PageConfig, PageFetcher
from net.guard import Guard
from net.politeness import Politeness
from store import session_scope
from store.feeds import add_feed
from store.pages import page_queue_depth
from store.rules import create_rule, rules_changed_since
from store.tables import Article, Hit
from store.users import create_user
from tests.support.polling import make_ingest, poll_now
from tests.support.servers import LoopbackServer, Reply, Request

Route = Reply | Callable[[Request], Reply]


def page_html(title: str, paragraphs: list[str], *, lang: str = "en") -> bytes:
    """An article page with navigation and footer boilerplate around the body."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>'
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
        "<footer><p>Copyright 2026 Example Media. All rights reserved.</p></footer>"
        "</body></html>"
    ).encode()


class Site(LoopbackServer):
    """Answers each path from `routes` (404 otherwise) and records when each came."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.times: list[tuple[float, str]] = []
        super().__init__(self._answer)

    def _answer(self, request: Request) -> Reply:
        self.times.append((time.monotonic(), request.path))
        route = self.routes.get(request.path)
        if route is None:
            return Reply(404, b"not found")
        return route(request) if callable(route) else route

    def page(self, path: str, body: bytes, **headers: str) -> str:
        self.routes[path] = Reply(
            200, body, {"content-type": "text/html; charset=utf-8", **headers}
        )
        return self.url(path)

    def hits_on(self, path: str) -> list[float]:
        return [t for t, p in self.times if p == path]


@dataclass
class World:
    """One feed on `site` with rules, polled and page-fetched through the real code."""

    engine: Engine
    site: Site
    queries: list[str]
    mode: str = "auto"
    config: PageConfig = field(default_factory=PageConfig)
    rule_ids: list[int] = field(default_factory=list)
    feed_id: int = 0
    allow_ports: tuple[int, ...] = ()  # other loopback servers the guard lets through
    parse_pool: Executor | None = None

    def limits(self) -> FetchLimits:
        ports = (self.site.port, *self.allow_ports)
        return FetchLimits(
            timeout_seconds=5, guard=Guard(allowlist=tuple(f"127.0.0.1:{p}" for p in ports))
        )

    def setup(self, feed_path: str = "/feed.xml") -> World:
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            user = create_user(session=session, name="newsroom", now=now)
            assert user.id is not None
            for n, query in enumerate(self.queries):
                rule = create_rule(
                    session=session, user_id=user.id, name=f"r{n}", query=query, now=now
                )
                assert rule.id is not None
                self.rule_ids.append(rule.id)
            feed, _ = add_feed(
                session=session, url=self.site.url(feed_path), now=now, full_text=self.mode
            )
            assert feed.id is not None
            self.feed_id = feed.id
        return self

    async def poll_and_fetch(
        self, *, timeout: float = 30.0, until: Callable[[], bool] | None = None
    ) -> None:
        """One poll, then the page fetcher until the queue is empty (or `until`)."""
        limits = self.limits()
        async with make_client(limits) as client:
            ingest = make_ingest(self.engine, client, limits, parse_pool=self.parse_pool)
            ingest = dataclasses.replace(ingest, full_text_min_words=120)
            with session_scope(self.engine, readonly=True) as session:
                ingest.matcher.apply(rules_changed_since(session=session, since=None))
            await poll_now(self.engine, ingest, self.feed_id)
            fetcher = PageFetcher(ingest, self.config, owner="test-pages")
            await fetcher.start()
            try:
                await wait_for(lambda: (until or self.queue_empty)(), timeout)
            finally:
                await fetcher.stop(timeout=5)

    def queue_empty(self) -> bool:
        with session_scope(self.engine, readonly=True) as session:
            return page_queue_depth(session=session) == 0

    def articles(self) -> list[Article]:
        with session_scope(self.engine, readonly=True) as session:
            return list(session.exec(select(Article).order_by(col(Article.id))))

    def hits(self) -> list[Hit]:
        with session_scope(self.engine, readonly=True) as session:
            return list(session.exec(select(Hit).order_by(col(Hit.id))))


async def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    """Poll `predicate` (in a thread: it may query the database) until true, or fail."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        await asyncio.sleep(0.05)


def fast_config(**changes: object) -> PageConfig:
    """Page fetching with test-sized gaps and retries."""
    politeness = changes.pop("politeness", Politeness(per_host=4, min_gap_seconds=0.0))
    return PageConfig(
        politeness=politeness,  # type: ignore[arg-type]
        poll_seconds=0.1,
        retry_seconds=0.05,
        **changes,  # type: ignore[arg-type]
    )


class DripServer:
    """A server that sends headers, then one byte every `interval` seconds, forever."""

    def __init__(self, interval: float = 0.2) -> None:
        import socket

        self.interval = interval
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn) -> None:  # type: ignore[no-untyped-def]
        try:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n"
            )
            while not self._stop.wait(self.interval):
                conn.sendall(b"<")
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> DripServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
