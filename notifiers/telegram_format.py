"""Telegram alerts as HTML (parse_mode "HTML"): pure, every text field escaped, only
http(s) links, and never more than Telegram's 4,096 characters."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from rules import MARK_CLOSE, MARK_OPEN
from store.values import DeliveryJob

MAX_MESSAGE = 4096
MAX_URL = 2048
# Output budgets per field, in UTF-16 units as Telegram counts; with the glue they add up
# to less than MAX_MESSAGE.
RULE_BUDGET, TITLE_BUDGET, FEED_BUDGET, SNIPPET_BUDGET, HREF_BUDGET = 300, 1000, 300, 1100, 1024
ALSO_BUDGET = 200  # "also in: …": the other outlets of the story known at send time


def size(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text for Telegram HTML: only <, > and & need escaping outside attributes."""
    return html.escape(text, quote=False)


def safe_url(url: str) -> str | None:
    """The URL when it is an absolute http(s) one that fits; None for anything else
    (javascript:, data:, relative, or control characters)."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(ord(c) < 33 or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def marked(snippet: str) -> str:
    """A snippet with its `**marks**` as <b>; the rest escaped. An unpaired mark (from a cut)
    stays plain text."""
    assert MARK_OPEN == MARK_CLOSE  # one separator splits both
    parts = snippet.split(MARK_OPEN)
    paired = len(parts) if len(parts) % 2 else len(parts) - 1
    out = []
    for i, part in enumerate(parts[:paired]):
        out.append(f"<b>{escape(part)}</b>" if i % 2 else escape(part))
    if paired < len(parts):
        out.append(escape(MARK_OPEN + parts[-1]))
    return "".join(out)


def fit(text: str, budget: int, render: Callable[[str], str] = escape) -> str:
    """`render(text)`, cut (with an ellipsis) so that the result is at most `budget` long."""
    rendered = render(text)
    if size(rendered) <= budget:
        return rendered
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose rendering fits
        mid = (lo + hi + 1) // 2
        if size(render(text[:mid].rstrip() + "…")) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return render(text[:lo].rstrip() + "…")


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def title_line(title: str, url: str) -> str:
    """The title, linked when the URL is safe to link."""
    text = fit(title.strip() or url or "(untitled)", TITLE_BUDGET)
    link = safe_url(url)
    href = html.escape(link, quote=True) if link else ""
    return f'<a href="{href}">{text}</a>' if href and size(href) <= HREF_BUDGET else text


def also_in(job: DeliveryJob) -> str:
    """The other outlets that ran the story, as many as fit the budget, then "+n more"."""
    others = [s for s in job.story_sources if s and s != job.feed_title]
    return outlets(others) if others else ""


def outlets(others: list[str]) -> str:
    """An "also in: …" line naming `others`, as many as fit the budget, then "+n more"."""
    shown: list[str] = []
    for n, name in enumerate(others):
        candidate = ", ".join([*shown, escape(name)])
        more = len(others) - n - 1
        tail = f" +{more} more" if more else ""
        if size(f"<i>also in: {candidate}{tail}</i>") > ALSO_BUDGET:
            break
        shown.append(escape(name))
    if not shown:
        return f"<i>also in {len(others)} other outlets</i>"
    more = len(others) - len(shown)
    return f"<i>also in: {', '.join(shown)}{f' +{more} more' if more else ''}</i>"


def format(job: DeliveryJob) -> str:
    """The alert for one hit: rule name, linked title, feed and time, marked snippet."""
    lines = [f"🔔 <b>{fit(job.rule_name, RULE_BUDGET)}</b>"]
    lines.append(title_line(job.article_title, job.article_url))
    source = " · ".join(
        x for x in (fit(job.feed_title, FEED_BUDGET), when(job.article_published_at)) if x
    )
    if source:
        lines.append(f"<i>{source}</i>")
    also = also_in(job)
    if also:
        lines.append(also)
    if job.snippet:
        lines.append("")
        lines.append(fit(job.snippet, SNIPPET_BUDGET, marked))
    text = "\n".join(lines)
    assert size(text) <= MAX_MESSAGE, "the budgets keep every message in bounds"
    return text
