"""OPML subscription lists in (listparser) and out. Pure."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import listparser

from monitor.errors import ParseError


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    title: str = ""
    site_url: str = ""
    full_text: str = "auto"  # the outline's `newswatch:fullText` attribute, when valid


NAMESPACE = "https://github.com/newswatch/newswatch/opml"
FULL_TEXT_MODES = frozenset({"auto", "always", "never"})


def read_opml(document: bytes, *, max_feeds: int = 10_000) -> list[Subscription]:
    """The feeds an OPML document lists, nested outlines included, first occurrence kept.
    Always bytes: listparser fetches a str that looks like a URL."""
    result = listparser.parse(bytes(document))
    if result.bozo and not result.feeds:
        raise ParseError(f"not an OPML document: {result.bozo_exception}")
    if not result.version and not result.feeds:
        raise ParseError("not an OPML document")
    modes = _full_text_modes(document)
    seen: dict[str, Subscription] = {}
    for feed in result.feeds[:max_feeds]:
        url = str(feed.get("url") or "").strip()
        if url and url not in seen:
            title = str(feed.get("title") or "").strip()[:1000]
            seen[url] = Subscription(url, title, full_text=modes.get(url, "auto"))
    return list(seen.values())


def _full_text_modes(document: bytes) -> dict[str, str]:
    """xmlUrl -> the `fullText` attribute (in any namespace) of outlines that carry a valid
    one. listparser keeps no unknown attributes. expat expands no external entity and
    bounds entity amplification; a document it cannot read has no modes."""
    modes: dict[str, str] = {}
    try:
        for _, element in ElementTree.iterparse(io.BytesIO(document)):
            if element.tag.rsplit("}", 1)[-1] != "outline":
                continue
            url = (element.get("xmlUrl") or "").strip()
            for name, value in element.attrib.items():
                if name.rsplit("}", 1)[-1] == "fullText" and value.strip() in FULL_TEXT_MODES:
                    modes.setdefault(url, value.strip())
    except ElementTree.ParseError:
        return {}
    return modes


def write_opml(subscriptions: list[Subscription], *, title: str = "newswatch feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:newswatch="{NAMESPACE}">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for sub in subscriptions:
        name = quoteattr(sub.title or sub.url)
        site = f" htmlUrl={quoteattr(sub.site_url)}" if sub.site_url else ""
        mode = f' newswatch:fullText="{sub.full_text}"' if sub.full_text != "auto" else ""
        lines.append(
            f'    <outline type="rss" text={name} title={name} '
            f"xmlUrl={quoteattr(sub.url)}{site}{mode}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
