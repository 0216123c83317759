"""Parsing feed bytes (never a URL or a path) into plain values. Pure."""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.html_text import html_to_text


@dataclass(frozen=True)
class ParseLimits:
    max_entries: int = 1000
    max_title_chars: int = 1000
    max_summary_chars: int = 20_000
    max_content_chars: int = 100_000


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    guid: str
    link: str
    title: str
    summary: str  # plain text
    content: str  # plain text
    author: str
    language: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str
    language: str
    ttl_minutes: int | None
    entries: tuple[ParsedEntry, ...]


def _utc(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text(value: Any, limit: int) -> str:
    return html_to_text(str(value or ""), limit=limit)


def parse_feed(
    body: bytes, headers: dict[str, str] | None = None, *, limits: ParseLimits = ParseLimits()
) -> ParsedFeed:
    """Parse RSS, Atom or RDF bytes. Raises `ParseError` when nothing feed-like is found."""
    # A BytesIO, never bytes or str: feedparser opens a str or bytes that names a file.
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers={k.lower(): v for k, v in (headers or {}).items()},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = result.get("feed", {})
    if not result.get("version") and not result.entries:
        reason = result.get("bozo_exception")
        raise ParseError(f"not a feed: {reason}" if reason else "not a feed")
    language = str(feed.get("language") or "")[:35]
    ttl = str(feed.get("ttl") or "").strip()
    entries = []
    for raw in result.entries[: limits.max_entries]:
        content = ""
        if raw.get("content"):
            content = " ".join(str(c.get("value", "")) for c in raw["content"][:5])
        entries.append(
            ParsedEntry(
                guid=str(raw.get("id") or "")[:2048],
                link=str(raw.get("link") or "")[:4096],
                title=_text(raw.get("title"), limits.max_title_chars),
                summary=_text(raw.get("summary"), limits.max_summary_chars),
                content=_text(content, limits.max_content_chars),
                author=str(raw.get("author") or "")[:500],
                language=str((raw.get("title_detail") or {}).get("language") or language)[:35],
                published_at=_utc(raw.get("published_parsed") or raw.get("updated_parsed")),
            )
        )
    return ParsedFeed(
        title=_text(feed.get("title"), limits.max_title_chars),
        link=str(feed.get("link") or "")[:2048],
        language=language,
        ttl_minutes=int(ttl) if ttl.isdigit() else None,
        entries=tuple(entries),
    )
