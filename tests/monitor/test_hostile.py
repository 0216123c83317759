"""Hostile servers on loopback, with the guard ON and its allowlist opened only for the
test server. Each case ends with a recorded error on the feed, the process alive, and a
tracemalloc peak under twice the byte limit."""

from __future__ import annotations

import asyncio
import functools
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from monitor import FetchLimits
from monitor.fetch import make_client
from net.guard import Guard
from tests.support.hostile import RawServer, reply, self_signed, send_head
from tests.support.polling import feed_row, make_ingest, new_feed, poll_now
from tests.support.servers import LoopbackServer, Reply

LIMIT = 1024 * 1024
DEADLINE = 1.5


@functools.cache
def gzip_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """`size` zero bytes, gzipped (about 200 KB on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def _bomb(conn: socket.socket, path: str) -> None:
    reply(conn, gzip_bomb(), Content_Encoding="gzip", Content_Type="application/rss+xml")


def _drip(conn: socket.socket, path: str) -> None:
    send_head(conn, "200 OK", {"Content-Length": "100000", "Content-Type": "text/xml"})
    for _ in range(40):  # 20 s at most, far past the deadline
        conn.sendall(b"<")
        time.sleep(0.5)


def _chunked_50mb(conn: socket.socket, path: str) -> None:
    send_head(conn, "200 OK", {"Transfer-Encoding": "chunked", "Content-Type": "text/xml"})
    chunk = b"x" * 65536
    for _ in range(50 * 16):
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.sendall(b"0\r\n\r\n")


def _claims_more_than_it_sends(conn: socket.socket, path: str) -> None:
    send_head(conn, "200 OK", {"Content-Length": "5000", "Content-Type": "text/xml"})
    conn.sendall(b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut')


def _claims_less_than_it_sends(conn: socket.socket, path: str) -> None:
    send_head(conn, "200 OK", {"Content-Length": "12", "Content-Type": "text/xml"})
    for _ in range(48):  # 3 MiB behind a 12-byte promise
        conn.sendall(b"no feed here" * 5462)


def _redirect_loop(conn: socket.socket, path: str) -> None:
    reply(conn, b"", "302 Found", Location=path)


def _redirect_chain(conn: socket.socket, path: str) -> None:
    step = int(path.strip("/r") or 0)
    if step < 6:
        reply(conn, b"", "301 Moved Permanently", Location=f"/r{step + 1}")
    else:
        reply(conn, b"<rss version='2.0'><channel><title>t</title></channel></rss>")


def _not_xml(conn: socket.socket, path: str) -> None:
    reply(conn, bytes(range(256)) * 64, Content_Type="application/octet-stream")


def _payload(body: bytes) -> Callable[[socket.socket, str], None]:
    return lambda conn, path: reply(conn, body, Content_Type="application/rss+xml")


SECRET = "top-secret-sentinel-7731"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><title>&lol9;</title></item></channel></rss>"
)


def _xxe(secret_file: Path, spy_port: int) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        f'<!ENTITY file SYSTEM "file://{secret_file}">\n'
        f'<!ENTITY net SYSTEM "http://127.0.0.1:{spy_port}/xxe">\n]>\n'
        f'<rss version="2.0"><channel><title>&file;</title>'
        f"<item><title>&net;</title><description>&file;</description></item>"
        f"</channel></rss>"
    ).encode()


def _run_poll(engine: Engine, server: RawServer, path: str = "/feed") -> tuple[str, float, int]:
    """One poll of the server's feed: (recorded error, seconds, tracemalloc peak)."""
    limits = FetchLimits(
        max_bytes=LIMIT,
        timeout_seconds=DEADLINE,
        read_timeout_seconds=1.0,
        connect_timeout_seconds=1.0,
        guard=Guard(allowlist=(f"127.0.0.1:{server.port}",)),
    )

    async def go() -> tuple[str, float]:
        async with make_client(limits) as client:
            feed_id = new_feed(engine, server.url(path))
            ingest = make_ingest(engine, client, limits)
            started = time.monotonic()
            tracemalloc.start()
            try:
                result = await poll_now(engine, ingest, feed_id)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            elapsed = time.monotonic() - started
            assert result.status == "error"
            row = feed_row(engine, feed_id)
            assert row.status == "error" and row.error_count == 1
            return row.last_error, elapsed, peak

    error, elapsed, peak = asyncio.run(go())
    return error, elapsed, peak


CASES = [
    ("gzip bomb", _bomb, "limit"),
    ("chunked 50 MB", _chunked_50mb, "limit"),
    ("content-length above the body", _claims_more_than_it_sends, "RemoteProtocolError"),
    ("content-length below the body", _claims_less_than_it_sends, "not a feed"),
    ("non-XML", _not_xml, "not a feed"),
    ("billion laughs", _payload(BILLION_LAUGHS), "entity expansion"),
]


@pytest.mark.parametrize(("handler", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_body_is_a_recorded_error(
    sqlite_engine: Engine, handler: Callable[[socket.socket, str], None], expected: str
) -> None:
    """A hostile body becomes the feed's error, within the deadline and the memory bound."""
    gzip_bomb()  # built before tracemalloc starts, so only the poll is measured
    with RawServer(handler) as server:
        error, elapsed, peak = _run_poll(sqlite_engine, server)
    assert expected in error
    assert elapsed < DEADLINE + 1
    assert peak < 2 * LIMIT


def test_slow_drip_is_cut_at_the_deadline(sqlite_engine: Engine) -> None:
    """One byte every 0.5 s never trips the read timeout, so the overall deadline cuts it."""
    with RawServer(_drip) as server:
        error, elapsed, peak = _run_poll(sqlite_engine, server)
    assert "timed out" in error or "no complete answer" in error
    assert DEADLINE - 0.1 < elapsed < DEADLINE + 1
    assert peak < 2 * LIMIT


@pytest.mark.parametrize(("handler", "hops"), [(_redirect_loop, 6), (_redirect_chain, 6)])
def test_redirect_loop_and_chain_of_six_are_refused(
    sqlite_engine: Engine, handler: Callable[[socket.socket, str], None], hops: int
) -> None:
    """More than 5 redirects is an error, after exactly 6 requests."""
    with RawServer(handler) as server:
        error, _, _ = _run_poll(
            sqlite_engine, server, "/r0" if handler is _redirect_chain else "/a"
        )
        assert "more than 5 redirects" in error
        assert len(server.hits) == hops


def test_five_redirects_are_followed(sqlite_engine: Engine) -> None:
    """The positive control: a chain of 5 redirects reaches the feed."""
    limits = FetchLimits(max_bytes=LIMIT, timeout_seconds=DEADLINE)
    with RawServer(_redirect_chain) as server:
        guarded = FetchLimits(
            max_bytes=LIMIT,
            timeout_seconds=DEADLINE,
            guard=Guard(allowlist=(f"127.0.0.1:{server.port}",)),
        )

        async def go() -> str:
            async with make_client(guarded) as client:
                feed_id = new_feed(sqlite_engine, server.url("/r1"))
                result = await poll_now(
                    sqlite_engine, make_ingest(sqlite_engine, client, limits), feed_id
                )
                return result.status

        assert asyncio.run(go()) == "ok"
        assert server.hits == ["/r1", "/r2", "/r3", "/r4", "/r5", "/r6"]


def test_xxe_reads_no_file_and_reaches_no_network(sqlite_engine: Engine, tmp_path: Path) -> None:
    """An XXE feed is refused; neither the file nor the network entity is ever read."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    with LoopbackServer(lambda request: Reply(200, SECRET.encode())) as spy:
        body = _xxe(secret, spy.port)
        with RawServer(_payload(body)) as server:
            error, _, peak = _run_poll(sqlite_engine, server)
        assert "external entity" in error
        assert spy.requests == []
    assert peak < 2 * LIMIT


def test_feedparser_alone_neither_reads_nor_fetches_entities(tmp_path: Path) -> None:
    """Below our refusal, feedparser's own parse resolves no external or nested entity."""
    import io

    import feedparser

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    with LoopbackServer(lambda request: Reply(200, SECRET.encode())) as spy:
        for body in (_xxe(secret, spy.port), BILLION_LAUGHS):
            started = time.monotonic()
            result = feedparser.parse(io.BytesIO(body))
            assert SECRET not in repr(result)
            assert "lollollol" not in repr(result)
            assert time.monotonic() - started < 2
        assert spy.requests == []


def test_https_to_http_redirect_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A redirect from https down to http is an error; the http target is never asked."""
    contexts = self_signed(tmp_path)
    if contexts is None:
        pytest.skip("the openssl command is needed for a throwaway certificate")
    server_tls, client_tls = contexts
    with RawServer(_payload(b"<rss version='2.0'><channel/></rss>")) as plain:

        def downgrade(conn: socket.socket, path: str) -> None:
            reply(conn, b"", "302 Found", Location=plain.url("/feed"))

        with RawServer(downgrade, tls=server_tls) as secure:
            limits = FetchLimits(
                max_bytes=LIMIT,
                timeout_seconds=DEADLINE,
                guard=Guard(allowlist=(f"127.0.0.1:{secure.port}", f"127.0.0.1:{plain.port}")),
            )

            async def go() -> str:
                async with make_client(limits, verify=client_tls) as client:
                    feed_id = new_feed(sqlite_engine, secure.url("/feed"))
                    await poll_now(
                        sqlite_engine, make_ingest(sqlite_engine, client, limits), feed_id
                    )
                    return feed_row(sqlite_engine, feed_id).last_error

            error = asyncio.run(go())
            assert "https to http" in error
            assert secure.hits == ["/feed"]
        assert plain.hits == []


def test_gzip_bomb_bytes_without_content_encoding_are_refused_by_parse() -> None:
    """A gzip body saved without Content-Encoding is decoded under the parse cap, or refused."""
    from monitor.errors import ParseError
    from monitor.parse import ParseLimits, parse_feed

    with pytest.raises(ParseError, match="limit"):
        parse_feed(gzip_bomb(), limits=ParseLimits(max_body_bytes=LIMIT))
    feed = gzip.compress(
        b"<rss version='2.0'><channel><item><title>a</title></item></channel></rss>"
    )
    assert len(parse_feed(feed).entries) == 1
