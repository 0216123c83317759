"""Parsing feed bytes (never a URL or a path) into plain values. Pure.

XML entity attacks, in two layers. `refuse_entity_attacks` rejects external general
entities (XXE) and entities built from other entities (billion laughs), so the feed's
error says what happened. Below that, feedparser strips the DOCTYPE before parsing, keeps
only `<!ENTITY name "&#123;">`-style declarations and turns off external entities in its
SAX parser: what passes the first layer still reads no file and reaches no network.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import FetchError, ParseError
from monitor.jsonfeed import looks_like_json, parse_json_feed
from monitor.parsed import ParsedEntry, ParsedFeed, ParseLimits, clip, text
from net.decode import GZIP_MAGIC, decode_all

__all__ = ["ParseLimits", "ParsedEntry", "ParsedFeed", "parse_feed"]

_DEFAULT_LIMITS = ParseLimits()


def _utc(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


_ENTITY = re.compile(rb"<!ENTITY\s+(%\s*)?[^\s>]+\s*(SYSTEM|PUBLIC)?([^>]*)>", re.IGNORECASE)


def refuse_entity_attacks(body: bytes) -> None:
    """Raise `ParseError` for an external general entity or a nested entity definition."""
    head = body[:65536]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:4].count(b"\x00") >= 2:
        head = head.replace(b"\x00", b"")  # UTF-16/32: look at the ASCII it spells
    if b"<!ENTITY" not in head.upper():
        return
    for match in _ENTITY.finditer(head):
        parameter, external, rest = match.groups()
        if external and not parameter:
            raise ParseError("refused: the DOCTYPE declares an external entity (XXE)")
        if not external and re.search(rb"[&%][^\s;#]+;", rest):
            raise ParseError("refused: the DOCTYPE nests entities (an entity expansion bomb)")


def parse_feed(
    body: bytes, headers: dict[str, str] | None = None, *, limits: ParseLimits = _DEFAULT_LIMITS
) -> ParsedFeed:
    """Parse RSS, Atom, RDF or JSON Feed bytes. Raises `ParseError` when nothing
    feed-like is found."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if body.startswith(GZIP_MAGIC):
        # Saved or served gzip bytes without a Content-Encoding: decode under the cap.
        try:
            body = decode_all([body], "gzip", limits.max_body_bytes)
        except FetchError as exc:
            raise ParseError(f"not a feed: bad gzip body ({exc})") from None
    if looks_like_json(body, headers.get("content-type", "")):
        return parse_json_feed(body, limits=limits)
    refuse_entity_attacks(body)
    return _parse_xml(body, headers, limits)


def _parse_xml(body: bytes, headers: dict[str, str], limits: ParseLimits) -> ParsedFeed:
    # A BytesIO, never bytes or str: feedparser opens a str or bytes that names a file.
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = result.get("feed", {})
    if not result.get("version") and not result.entries and not (feed and not result.bozo):
        reason = result.get("bozo_exception")
        raise ParseError(f"not a feed: {reason}" if reason else "not a feed")
    language = clip(feed.get("language"), 35)
    ttl = str(feed.get("ttl") or "").strip()
    return ParsedFeed(
        title=text(feed.get("title"), limits.max_title_chars),
        link=clip(feed.get("link"), 2048),
        language=language,
        ttl_minutes=int(ttl) if ttl.isdigit() and len(ttl) < 8 else None,
        entries=tuple(
            _entry(raw, language, limits) for raw in result.entries[: limits.max_entries]
        ),
    )


def _entry(raw: dict[str, Any], language: str, limits: ParseLimits) -> ParsedEntry:
    content = ""
    if raw.get("content"):
        content = " ".join(str(c.get("value", "")) for c in raw["content"][:5])
    return ParsedEntry(
        guid=clip(raw.get("id"), 2048),
        link=clip(raw.get("link"), 4096),
        title=text(raw.get("title"), limits.max_title_chars),
        summary=text(raw.get("summary"), limits.max_summary_chars),
        content=text(content, limits.max_content_chars),
        author=clip(raw.get("author"), 500),
        language=clip((raw.get("title_detail") or {}).get("language") or language, 35),
        # dict.get: FeedParserDict.get would fall back between the two with a warning.
        published_at=_utc(dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")),
    )
