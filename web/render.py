"""Templates and the small pieces they show: marked snippets, safe links, times, charts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from rules import MARK_CLOSE, MARK_OPEN

MAX_SNIPPET = 600  # characters shown of a stored snippet, whatever a feed sent
MAX_TITLE = 300

env = Environment(
    loader=PackageLoader("web", "templates"),
    autoescape=select_autoescape(["html", "svg"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def marked(snippet: str | None) -> Markup:
    """A snippet with its matches in <mark>, everything else escaped. An unpaired mark
    (from a cut) stays plain text."""
    text = (snippet or "")[:MAX_SNIPPET]
    assert MARK_OPEN == MARK_CLOSE  # one separator splits both
    parts = text.split(MARK_OPEN)
    paired = len(parts) if len(parts) % 2 else len(parts) - 1
    out = [
        Markup("<mark>%s</mark>") % part if i % 2 else escape(part)
        for i, part in enumerate(parts[:paired])
    ]
    if paired < len(parts):
        out.append(escape(MARK_OPEN + parts[-1]))
    return Markup("").join(out)


def safe_url(url: str | None) -> str:
    """http(s) links only; anything else (javascript:, data:) becomes no link at all."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def short(text: str | None, limit: int = MAX_TITLE) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_HTTP_WORDS = {
    401: "the server wants a login",
    403: "the server refuses access",
    404: "the server says the feed is not there",
    410: "the server says the feed is gone for good",
    429: "the server asks us to poll less often",
}


def error_words(error: str | None) -> str:
    """A feed's last error as a person would say it, with the technical detail after."""
    if not error:
        return ""
    detail = error.removeprefix("fetch: ").removeprefix("parse: ")
    if error.startswith("parse: "):
        return f"Not a feed we can read ({detail})"
    found = re.match(r"HTTP (\d{3})", detail)
    if found:
        code = int(found[1])
        words = _HTTP_WORDS.get(code, "the server has a problem" if code >= 500 else "")
        return f"{words.capitalize()} ({detail})" if words else detail
    if "ConnectError" in detail or "connection attempts failed" in detail:
        return f"Could not connect to the server ({detail})"
    if "timed out" in detail or "no complete answer" in detail:
        return f"The server did not answer in time ({detail})"
    return detail


def when(moment: datetime | None) -> Markup:
    if moment is None:
        return Markup("—")
    moment = moment.astimezone(UTC)
    return Markup('<time datetime="%s">%s</time>') % (
        moment.isoformat(timespec="seconds"),
        moment.strftime("%Y-%m-%d %H:%M UTC"),
    )


def day_chart(per_day: Mapping[date, int], *, today: date, days: int = 30) -> Markup:
    """Matches per day over the last `days` days, as a small inline SVG bar chart."""
    width, height, gap = 300, 60, 1
    counts = [per_day.get(today - timedelta(days=days - 1 - i), 0) for i in range(days)]
    top = max(counts) or 1
    bar = width / days
    bars = []
    for i, n in enumerate(counts):
        h = round((height - 12) * n / top) if n else 0
        day = today - timedelta(days=days - 1 - i)
        bars.append(
            Markup('<rect x="%.1f" y="%d" width="%.1f" height="%d"><title>%s: %d</title></rect>')
            % (i * bar, height - h, bar - gap, h, day.isoformat(), n)
        )
    label = f"Matches per day, last {days} days: {sum(counts)} in all, at most {max(counts)} a day"
    axis = Markup(
        '<text x="0" y="%d" class="axis">%s</text>'
        '<text x="%d" y="%d" class="axis" text-anchor="end">today</text>'
        '<text x="0" y="9" class="axis">max %d</text>'
    ) % (height + 11, (today - timedelta(days=days - 1)).isoformat(), width, height + 11, top)
    svg = Markup('<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">%s%s</svg>')
    return svg % (width, height + 14, label, Markup("").join(bars), axis)


def qr_svg(data: str) -> Markup:
    """A QR code as inline SVG (segno draws it without Pillow)."""
    svg = segno.make(data, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return Markup(svg)  # segno's own markup: the data is encoded in its modules


@pass_context
def csrf(context: Any) -> Markup:
    """The hidden CSRF field of every form that changes something."""
    return Markup('<input type="hidden" name="csrf" value="%s">') % context["viewer"].csrf


env.filters.update(
    marked=marked, safe_url=safe_url, short=short, when=when, error_words=error_words
)
env.globals["csrf"] = csrf


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(template).render(request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)
