"""What parsing yields: plain values, the same for RSS, Atom, RDF and JSON Feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.html_text import html_to_text


@dataclass(frozen=True)
class ParseLimits:
    """Caps that keep one hostile feed from costing much."""

    max_entries: int = 1000
    max_title_chars: int = 1000
    max_summary_chars: int = 20_000
    max_content_chars: int = 100_000
    max_body_bytes: int = 10 * 1024 * 1024  # for bodies that arrive still gzipped


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


def text(value: Any, limit: int) -> str:
    """Plain text of an HTML or text field, capped."""
    return html_to_text(str(value or ""), limit=limit)


def clip(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]
