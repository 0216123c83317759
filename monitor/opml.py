"""OPML subscription lists in (listparser) and out. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import listparser

from monitor.errors import ParseError


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    title: str = ""
    site_url: str = ""


def read_opml(document: bytes, *, max_feeds: int = 10_000) -> list[Subscription]:
    """The feeds an OPML document lists, nested outlines included, first occurrence kept.
    Always bytes: listparser fetches a str that looks like a URL."""
    result = listparser.parse(bytes(document))
    if result.bozo and not result.feeds:
        raise ParseError(f"not an OPML document: {result.bozo_exception}")
    if not result.version and not result.feeds:
        raise ParseError("not an OPML document")
    seen: dict[str, Subscription] = {}
    for feed in result.feeds[:max_feeds]:
        url = str(feed.get("url") or "").strip()
        if url and url not in seen:
            seen[url] = Subscription(url, str(feed.get("title") or "").strip()[:1000])
    return list(seen.values())


def write_opml(subscriptions: list[Subscription], *, title: str = "newswatch feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for sub in subscriptions:
        name = quoteattr(sub.title or sub.url)
        site = f" htmlUrl={quoteattr(sub.site_url)}" if sub.site_url else ""
        lines.append(
            f'    <outline type="rss" text={name} title={name} xmlUrl={quoteattr(sub.url)}{site}/>'
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
