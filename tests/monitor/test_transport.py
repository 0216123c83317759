"""The fetch client's connection pool, against a raw HTTP/1.1 server on 127.0.0.1 that
counts its connections: keep-alive through 304s and redirects, no reuse of a connection
the server closed, queueing under a connection cap, and room made for another host."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from monitor import FetchLimits
from monitor.fetch import fetch, make_client
from net.guard import Guard

ETAG = '"v1"'
BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


class CountingServer:
    """Answers /feed (200 or 304 by ETag) and /moved (a redirect to /feed). With
    `close_after_reply`, closes each connection right after its first answer, without
    saying so in a header: the client learns it only from the socket."""

    def __init__(self, *, close_after_reply: bool = False, delay: float = 0.0) -> None:
        self.close_after_reply = close_after_reply
        self.delay = delay
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests = 0
        self.heads: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                self.requests += 1
                await asyncio.sleep(self.delay)
                self.heads.append(head)
                if head.startswith("get /moved"):
                    writer.write(
                        b"HTTP/1.1 301 Moved\r\nlocation: /feed\r\ncontent-length: 5\r\n\r\nmoved"
                    )
                elif f"if-none-match: {ETAG}".lower() in head:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\netag: {ETAG}\r\n\r\n".encode())
                else:
                    writer.write(
                        f"HTTP/1.1 200 OK\r\netag: {ETAG}\r\nset-cookie: session=s3cret; Path=/\r\n"
                        f"content-length: {len(BODY)}\r\n\r\n".encode()
                        + BODY
                    )
                await writer.drain()
                if self.close_after_reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


@asynccontextmanager
async def serving(server: CountingServer) -> AsyncIterator[int]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    async with listener:
        yield listener.sockets[0].getsockname()[1]
        await until(lambda: server.open == 0)  # the client has closed its connections


async def until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {seconds} s")


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def limits_for(*ports: int, connections: int = 10, per_host: int = 4) -> FetchLimits:
    return FetchLimits(
        timeout_seconds=10,
        max_connections=connections,
        max_per_host=per_host,
        guard=Guard(allowlist=tuple(f"127.0.0.1:{port}" for port in ports)),
    )


@in_loop
async def test_304s_and_redirects_keep_their_connection() -> None:
    server = CountingServer()
    async with serving(server) as port:
        limits = limits_for(port)
        async with make_client(limits) as client:
            first = await fetch(client, f"http://127.0.0.1:{port}/feed", limits=limits)
            assert first.status_code == 200 and first.body == BODY
            for _ in range(5):
                again = await fetch(
                    client, f"http://127.0.0.1:{port}/feed", limits=limits, etag=ETAG
                )
                assert again.not_modified
            moved = await fetch(client, f"http://127.0.0.1:{port}/moved", limits=limits)
            assert moved.url.endswith("/feed") and moved.body == BODY
    assert server.requests == 8
    assert server.connections == 1
    # A poll is stateless: the cookie the feed set is not sent back.
    assert not [head for head in server.heads if "cookie" in head]


@in_loop
async def test_a_connection_the_server_closed_is_not_reused() -> None:
    server = CountingServer(close_after_reply=True)
    async with serving(server) as port:
        limits = limits_for(port)
        async with make_client(limits) as client:
            for _ in range(4):
                result = await fetch(client, f"http://127.0.0.1:{port}/feed", limits=limits)
                assert result.body == BODY
                await asyncio.sleep(0.05)  # the server's FIN arrives while the connection idles
    assert server.connections == 4


@in_loop
async def test_requests_queue_for_a_connection_under_the_cap() -> None:
    server = CountingServer(delay=0.005)
    async with serving(server) as port:
        limits = limits_for(port, connections=3, per_host=8)
        async with make_client(limits) as client:
            results = await asyncio.gather(
                *(
                    fetch(client, f"http://127.0.0.1:{port}/feed", limits=limits, etag=ETAG)
                    for _ in range(120)
                )
            )
    assert all(r.not_modified for r in results)
    assert server.requests == 120
    assert server.most_open <= 3
    assert server.connections == 3  # each one carried many requests


@in_loop
async def test_a_full_pool_closes_an_idle_connection_for_another_host() -> None:
    a, b = CountingServer(), CountingServer()
    async with serving(a) as port_a, serving(b) as port_b:
        limits = limits_for(port_a, port_b, connections=2, per_host=2)
        async with make_client(limits) as client:
            await asyncio.gather(
                *(fetch(client, f"http://127.0.0.1:{port_a}/feed", limits=limits) for _ in range(2))
            )
            assert a.open == 2
            result = await fetch(client, f"http://127.0.0.1:{port_b}/feed", limits=limits)
            assert result.body == BODY
            await until(lambda: a.open == 1)
    assert (a.connections, b.connections) == (2, 1)
