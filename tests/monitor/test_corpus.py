"""Every real-world and feedparser test file goes through parse and normalise cleanly."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from monitor.errors import ParseError
from monitor.normalise import parse_and_normalise
from monitor.parse import ParseLimits

REPO = Path(__file__).resolve().parents[2]
LIMITS = ParseLimits()
FETCHED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.*)$", re.MULTILINE)


def corpus_dir() -> Path:
    """`<repo>/../shared/corpus`, else /work/shared/corpus; skip when neither exists."""
    for candidate in (REPO.parent / "shared" / "corpus", Path("/work/shared/corpus")):
        if (candidate / "real").is_dir():
            return candidate
    pytest.skip("no feed corpus at <repo>/../shared/corpus or /work/shared/corpus")


def _manifest(corpus: Path) -> dict[str, str]:
    with (corpus / "real" / "MANIFEST.tsv").open(newline="", encoding="utf-8") as f:
        return {row["file"]: row["notes"] for row in csv.DictReader(f, delimiter="\t")}


def _files(corpus: Path) -> list[tuple[Path, bool]]:
    """(file, well-formed?) for every feed file of both corpora."""
    notes = _manifest(corpus)
    real = [
        (path, "bozo=0" in notes.get(path.name, ""))
        for path in sorted((corpus / "real").iterdir())
        if path.is_file() and path.name in notes
    ]
    tests = corpus / "feedparser_tests" / "tests"
    others = [
        (path, "wellformed" in path.parts)
        for path in sorted(tests.rglob("*"))
        if path.is_file() and path.suffix in (".xml", ".json", ".rss", ".atom", ".rdf")
    ]
    return real + others


def _headers(body: bytes) -> dict[str, str]:
    """The HTTP headers a feedparser test file declares in its leading comment."""
    return {k.decode().strip().lower(): v.decode().strip() for k, v in _HEADER.findall(body[:2000])}


def _feedparser_count(body: bytes, headers: dict[str, str]) -> int:
    result = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    return min(len(result.entries), LIMITS.max_entries)


def test_corpus_parses_and_normalises() -> None:
    """No exception but a clean ParseError, under 2 s each; well-formed files give
    feedparser's own entry count; JSON Feeds yield their items."""
    files = _files(corpus_dir())
    assert len(files) > 2000
    problems: list[str] = []
    refused: list[str] = []
    for path, well_formed in files:
        body = path.read_bytes()
        headers = _headers(body)
        started = time.perf_counter()
        try:
            _, articles, _ = parse_and_normalise(
                body,
                headers,
                feed_url="https://example.com/feed",
                fetched_at=FETCHED_AT,
                limits=LIMITS,
            )
        except ParseError:
            refused.append(path.name)
            if well_formed:
                problems.append(f"{path.name}: well-formed but refused")
            continue
        except Exception as exc:
            problems.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        if time.perf_counter() - started > 2:
            problems.append(f"{path.name}: took over 2 s")
        if path.suffix == ".json":
            expected = len(json.loads(body)["items"]) if b'"items"' in body else len(articles)
            if len(articles) != expected or not articles:
                problems.append(f"{path.name}: {len(articles)} items, expected {expected}")
        elif well_formed and len(articles) != _feedparser_count(body, headers):
            problems.append(f"{path.name}: {len(articles)} entries, feedparser has more or fewer")
        for article in articles:
            if article.published_at is not None and article.published_at.tzinfo is not UTC:
                problems.append(f"{path.name}: a date not in UTC")
                break
    assert problems == []
    # The refusals are the non-feeds, and they are few.
    assert "nodefp__notafeed.html" in refused
    assert len(refused) < len(files) // 20


def test_gzip_files_are_decoded_or_refused() -> None:
    """The gzip-byte files of the corpus are decoded into their feed (or refused cleanly)."""
    corpus = corpus_dir() / "real"
    for name in ("nodefp__compressed.xml", "nodefp__invalid-characters-gzipped.xml"):
        body = (corpus / name).read_bytes()
        assert body[:2] == b"\x1f\x8b"
        try:
            _, articles, _ = parse_and_normalise(
                body, {}, feed_url="https://example.com/", fetched_at=FETCHED_AT, limits=LIMITS
            )
        except ParseError:
            continue
        assert articles
