"""Streamed Content-Encoding decoding under a budget, and the JSON Feed parser."""

from __future__ import annotations

import asyncio
import gzip
import json
import tracemalloc
import zlib

import brotli
import pytest

from monitor import FetchLimits
from monitor.errors import FetchError, ParseError, TooLargeError
from monitor.fetch import fetch, make_client
from monitor.parse import parse_feed
from net.decode import decode_all
from net.guard import Guard
from tests.support.servers import LoopbackServer, Reply

TEXT = b"<rss version='2.0'><channel><title>x</title></channel></rss>" * 200
BUDGET = 1024 * 1024


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


ENCODINGS = [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", _raw_deflate),
    ("br", lambda d: brotli.compress(d, quality=1)),
    ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),
    ("identity", lambda d: d),
]


@pytest.mark.parametrize(("encoding", "pack"), ENCODINGS)
def test_round_trip_in_small_chunks(encoding: str, pack) -> None:  # type: ignore[no-untyped-def]
    """Every supported encoding decodes correctly when fed 7 bytes at a time."""
    data = pack(TEXT)
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    assert decode_all(chunks, encoding, BUDGET) == TEXT


@pytest.mark.parametrize(("encoding", "pack"), ENCODINGS[:4])
def test_bombs_stop_at_the_budget(encoding: str, pack) -> None:  # type: ignore[no-untyped-def]
    """A 32 MB bomb of each kind is refused with memory near the budget, not the bomb."""
    bomb = pack(bytes(32 * 1024 * 1024))
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError):
            decode_all([bomb], encoding, BUDGET)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * BUDGET + len(bomb)


ITEMS = [f"<item><guid>g{n}</guid><title>Item {n}</title></item>".encode() for n in range(40)]
RSS = b"<rss version='2.0'><channel><title>x</title>" + b"".join(ITEMS) + b"</channel></rss>"


@pytest.mark.parametrize("step", [7, 4096, len(RSS) * 2])
def test_a_multi_member_gzip_feed_yields_every_item(step: int) -> None:
    """A gzip body of two members (RFC 1952 allows several, as `cat a.gz b.gz` makes) is
    decoded whole, whatever the chunk boundaries, so the feed yields every item."""
    half = len(RSS) // 2
    body = gzip.compress(RSS[:half]) + gzip.compress(RSS[half:])
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    decoded = decode_all(chunks, "gzip", BUDGET)
    assert decoded == RSS
    assert [e.guid for e in parse_feed(decoded).entries] == [f"g{n}" for n in range(40)]


def test_a_multi_member_gzip_feed_is_fetched_whole() -> None:
    """Served over HTTP with Content-Encoding: gzip, both members reach the parser."""
    half = len(RSS) // 2
    body = gzip.compress(RSS[:half]) + gzip.compress(RSS[half:])
    reply = Reply(200, body, {"content-type": "application/rss+xml", "content-encoding": "gzip"})
    limits = FetchLimits(guard=Guard(allow_private=True), timeout_seconds=5)

    async def get() -> bytes:
        async with make_client(limits) as client:
            return (await fetch(client, server.url("/feed"), limits=limits)).body

    with LoopbackServer(lambda request: reply) as server:
        fetched = asyncio.run(get())
    assert len(parse_feed(fetched).entries) == 40


def test_members_share_one_budget_and_padding_is_ignored() -> None:
    """The byte cap counts every member together; zero padding after the last is ignored."""
    member = gzip.compress(bytes(600 * 1024))
    with pytest.raises(TooLargeError):
        decode_all([member, member], "gzip", BUDGET)
    assert decode_all([gzip.compress(TEXT) + bytes(16)], "gzip", BUDGET) == TEXT


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd-from-the-future"])
def test_garbage_is_a_fetch_error(encoding: str) -> None:
    """Corrupt or unknown encodings are clean errors."""
    with pytest.raises(FetchError):
        decode_all([b"\x00not compressed at all" * 10], encoding, BUDGET)


def test_json_feed_items_dates_and_authors() -> None:
    """JSON Feed 1.1: items in order, HTML to text, dates in UTC, authors joined."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Blog",
        "language": "de-DE",
        "items": [
            {
                "id": "1",
                "url": "https://e.com/1",
                "title": "Eins",
                "content_html": "<p>Hallo <b>Welt</b></p>",
                "date_published": "2026-11-27T13:00:00+01:00",
                "authors": [{"name": "A"}, {"name": "B"}],
            },
            {"id": "2", "content_text": "nur Text", "date_modified": "garbage"},
            "not an item",
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), {"content-type": "application/feed+json"})
    assert feed.title == "Blog" and feed.language == "de-DE"
    first, second = feed.entries
    assert (first.guid, first.content, first.author) == ("1", "Hallo Welt", "A, B")
    assert (
        first.published_at is not None
        and first.published_at.isoformat() == "2026-11-27T12:00:00+00:00"
    )
    assert (second.content, second.published_at, second.language) == ("nur Text", None, "de-DE")


@pytest.mark.parametrize(
    "body", [b"{", b"[1, 2]", b'{"items": 3}', b'{"a": {"b": 1}}', b"[" * 100_000]
)
def test_json_that_is_not_a_feed_is_refused(body: bytes) -> None:
    """Invalid or non-feed JSON is a ParseError, never a crash."""
    with pytest.raises(ParseError):
        parse_feed(body, {"content-type": "application/json"})
