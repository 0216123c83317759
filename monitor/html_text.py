"""Plain text out of feed HTML, for matching and snippets."""

from __future__ import annotations

import html
from html.parser import HTMLParser

_SKIP = {"script", "style", "noscript", "template", "head"}
_BLOCK = {
    "p",
    "br",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "ul",
    "ol",
    "table",
    "figcaption",
    "hr",
}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(markup: str, *, limit: int = 100_000) -> str:
    """Visible text of an HTML fragment, whitespace collapsed, at most `limit` characters."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())[:limit]
    parser = _TextParser()
    try:
        parser.feed(markup[: limit * 4])
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser on pathological markup
        return " ".join(html.unescape(markup).split())[:limit]
    lines = ("".join(parser.parts)).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())[:limit]
