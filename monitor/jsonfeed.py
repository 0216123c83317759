"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser lacks. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from feedparser.datetimes import _parse_date

from monitor.errors import ParseError
from monitor.parsed import ParsedEntry, ParsedFeed, ParseLimits, clip, text


def looks_like_json(body: bytes, content_type: str = "") -> bool:
    """A JSON Feed is JSON: sniff the first byte, or trust a JSON content type."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") or "json" in content_type.lower()


def parse_date(value: Any) -> datetime | None:
    """RFC 3339 in UTC, with feedparser's lenient parsers as the fallback."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        pass
    parsed = _parse_date(value)
    if parsed is None:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _author(obj: dict[str, Any]) -> str:
    authors = obj.get("authors")
    if isinstance(authors, list):
        names = [str(a.get("name") or "") for a in authors if isinstance(a, dict)]
        if any(names):
            return ", ".join(n for n in names if n)
    author = obj.get("author")
    return str(author.get("name") or "") if isinstance(author, dict) else ""


def _entry(item: dict[str, Any], language: str, limits: ParseLimits) -> ParsedEntry:
    body = item.get("content_html") or item.get("content_text") or ""
    summary = item.get("summary") or ""
    return ParsedEntry(
        guid=clip(item.get("id"), 2048),
        link=clip(item.get("url") or item.get("external_url"), 4096),
        title=text(item.get("title"), limits.max_title_chars),
        summary=text(summary, limits.max_summary_chars),
        content=text(body, limits.max_content_chars),
        author=clip(_author(item), 500),
        language=clip(item.get("language") or language, 35),
        published_at=parse_date(item.get("date_published") or item.get("date_modified")),
    )


def _from_rss_in_json(rss: dict[str, Any]) -> dict[str, Any]:
    """Dave Winer's RSS-in-JSON (an RSS 2.0 channel as JSON), mapped to JSON Feed fields."""
    found = rss.get("channel")
    channel: dict[str, Any] = found if isinstance(found, dict) else {}
    items = channel.get("item") or []
    items = items if isinstance(items, list) else [items]
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": channel.get("title"),
        "home_page_url": channel.get("link"),
        "language": channel.get("language"),
        "items": [
            {
                "id": i.get("guid") if isinstance(i.get("guid"), str) else None,
                "url": i.get("link"),
                "title": i.get("title"),
                "content_html": i.get("description"),
                "date_published": i.get("pubDate"),
            }
            for i in items
            if isinstance(i, dict)
        ],
    }


def parse_json_feed(body: bytes, *, limits: ParseLimits) -> ParsedFeed:
    """Parse JSON Feed bytes. Raises `ParseError` for invalid JSON or a non-feed object."""
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from None
    if isinstance(doc, dict) and isinstance(doc.get("rss"), dict):
        doc = _from_rss_in_json(doc["rss"])
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not a feed: JSON without an items list")
    if "jsonfeed.org/version/" not in str(doc.get("version", "")) and "title" not in doc:
        raise ParseError("not a feed: JSON that is not a JSON Feed")
    language = clip(doc.get("language"), 35)
    items = [i for i in doc["items"][: limits.max_entries] if isinstance(i, dict)]
    return ParsedFeed(
        title=text(doc.get("title"), limits.max_title_chars),
        link=clip(doc.get("home_page_url"), 2048),
        language=language,
        ttl_minutes=None,
        entries=tuple(_entry(item, language, limits) for item in items),
    )
