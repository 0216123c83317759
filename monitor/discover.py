"""Feed autodiscovery: from a web page to the feed it advertises with
`<link rel="alternate" type="application/rss+xml" href="…">`."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from monitor.errors import BlockedURLError, FetchError, MonitorError, ParseError
from monitor.fetch import FetchLimits, fetch, make_client
from monitor.parse import parse_feed
from net.guard import Guard

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "a"):
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.links.append((kind, values["href"].strip()))


def feed_links(html: bytes, base_url: str) -> list[str]:
    """Absolute URLs of the feeds a page advertises, in page order, RSS/Atom first. Pure."""
    finder = _LinkFinder()
    try:
        finder.feed(html[:1_000_000].decode("utf-8", errors="replace"))
        finder.close()
    except (AssertionError, ValueError):
        pass
    ranked = sorted(finder.links, key=lambda link: FEED_TYPES.index(link[0]))
    urls = [urljoin(base_url, href) for _, href in ranked]
    return [u for u in dict.fromkeys(urls) if u.startswith(("http://", "https://"))]


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:2048].lower()
    return "html" in content_type.lower() or b"<html" in head or b"<!doctype html" in head


async def discover(client: httpx.AsyncClient, url: str, *, limits: FetchLimits) -> str:
    """The feed URL for `url`: itself when it serves a feed (or cannot be fetched now, so
    that the poller reports why), else the first feed its page advertises.
    Raises `ParseError` for a page that is neither a feed nor links to one."""
    try:
        fetched = await fetch(client, url, limits=limits)
    except BlockedURLError:
        raise
    except FetchError:
        return url
    content_type = fetched.headers.get("content-type", "")
    if looks_like_html(fetched.body, content_type):
        links = feed_links(fetched.body, fetched.url)
        if links:
            return links[0]
    try:
        parse_feed(fetched.body, fetched.headers)
    except MonitorError:
        raise ParseError(f"{url} is not a feed and advertises none") from None
    return url


async def resolve_feed_url(url: str, guard: Guard, *, timeout_seconds: float = 10.0) -> str:
    """Check `url` with the guard and discover the feed behind it; the URL to store.
    Raises `BlockedURLError` or `ParseError`."""
    await guard.check_url(url)
    limits = FetchLimits(
        max_bytes=2 * 1024 * 1024,
        timeout_seconds=timeout_seconds,
        connect_timeout_seconds=min(5.0, timeout_seconds),
        guard=guard,
    )
    async with make_client(limits) as client:
        found = await discover(client, url, limits=limits)
    if found != url:
        await guard.check_url(found)
    return found
