"""Streamed Content-Encoding decoding under a budget, and the JSON Feed parser. Pure."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib

import brotli
import pytest

from monitor.errors import FetchError, ParseError, TooLargeError
from monitor.parse import parse_feed
from net.decode import decode_all

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
