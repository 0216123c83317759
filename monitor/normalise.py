"""From parsed entries to `Article` values. Pure: `fetched_at` is passed in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from monitor.dedupe import canonical_url, item_key
from monitor.parse import ParsedFeed, ParseLimits, parse_feed
from stories import PackedPrint, fingerprints, pack, story_text

# A date this far in the future is a feed's mistake; treat the item as undated.
_MAX_FUTURE = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised news item, ready to store and match."""

    item_key: str
    url: str
    canonical_url: str
    title: str
    summary: str
    content: str
    language: str
    author: str
    published_at: datetime | None


def normalise(parsed: ParsedFeed, *, feed_url: str, fetched_at: datetime) -> list[Article]:
    """Articles of a parsed feed, with absolute links and sane dates."""
    out = []
    for entry in parsed.entries:
        link = urljoin(feed_url, entry.link) if entry.link else ""
        published = entry.published_at
        if published is not None and published > fetched_at + _MAX_FUTURE:
            published = None
        out.append(
            Article(
                item_key=item_key(
                    guid=entry.guid, link=link, title=entry.title, summary=entry.summary
                ),
                url=link,
                canonical_url=canonical_url(link),
                title=entry.title,
                summary=entry.summary,
                content=entry.content,
                language=entry.language or parsed.language,
                author=entry.author,
                published_at=published,
            )
        )
    return out


def parse_and_normalise(
    body: bytes,
    headers: dict[str, str],
    *,
    feed_url: str,
    fetched_at: datetime,
    limits: ParseLimits,
) -> tuple[ParsedFeed, list[Article], dict[str, PackedPrint]]:
    """Parse, normalise and fingerprint in one call, so a process pool can run all three.
    The feed comes back without its entries: the articles carry them, and pickling twice
    costs. The story fingerprints (by item key, the first article of a key) cost as much
    as matching an article: made here, they stay off the poller's one busy core, at the
    price of also fingerprinting the items a changed feed has shown before."""
    parsed = parse_feed(body, headers, limits=limits)
    articles = normalise(parsed, feed_url=feed_url, fetched_at=fetched_at)
    first = list({a.item_key: a for a in reversed(articles)}.values())  # of each key
    made = fingerprints([(a.title, story_text(a.summary, a.content)) for a in first])
    prints = {a.item_key: pack(fp) for a, fp in zip(first, made, strict=True)}
    return dataclasses.replace(parsed, entries=()), articles, prints
