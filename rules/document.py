"""Documents to match, analysed once: each field tokenised and folded, positions lazily."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from rules.text import BOUNDARY, spans, unspaced_runs, words


@dataclass(frozen=True, slots=True)
class Document:
    """An article as the matcher sees it. `text` is the body; the title is searched too.
    `feed_id` is only used for rules scoped to feeds."""

    title: str = ""
    text: str = ""
    url: str = ""
    feed: str = ""
    lang: str = ""
    feed_id: int | None = None


class ArticleFields(Protocol):
    """What `article_document` reads of a stored article (any object with these fields)."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def language(self) -> str: ...


def article_document(
    article: ArticleFields, *, feed_id: int | None, feed_title: str, feed_url: str = ""
) -> Document:
    """A stored article as the matcher sees it: ingest, previews and /test all use this."""
    return Document(
        feed_id=feed_id,
        title=article.title,
        text=f"{article.summary}\n{article.content}" if article.content else article.summary,
        url=article.url,
        feed=f"{feed_title} {feed_url}".strip(),
        lang=article.language,
    )


class Analysed:
    """A document's fields as folded tokens. The text field is the title, a boundary, then
    the body; a token's position is its index there. Positions, prefixes and character
    offsets are computed only when a phrase, NEAR, prefix or snippet needs them."""

    __slots__ = (
        "_body_spans",
        "_display",
        "_lowered",
        "_positions",
        "_prefixes",
        "_sorted",
        "_span_iter",
        "_title_spans",
        "doc",
        "feed",
        "feed_set",
        "lang_keys",
        "runs",
        "text",
        "text_set",
        "title_len",
        "title_runs",
        "title_set",
        "url",
        "url_set",
    )

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        title = words(doc.title)
        self.title_len = len(title)
        self.text = [*title, BOUNDARY, *words(doc.text)] if title else words(doc.text)
        self.text_set = set(self.text)
        self.title_set = set(title)
        self.runs = unspaced_runs(self.text_set)
        self.title_runs = unspaced_runs(self.title_set) if self.runs else ""
        self.url = words(doc.url)
        self.feed = words(doc.feed)
        self.url_set = set(self.url)
        self.feed_set = set(self.feed)
        lang = doc.lang.strip().lower().replace("_", "-")
        parts = lang.split("-")
        self.lang_keys = {"-".join(parts[: i + 1]) for i in range(len(parts))} if lang else set()
        self._positions: dict[str, list[int]] = {}
        self._prefixes: dict[str, bool] = {}
        self._sorted: list[str] | None = None
        self._display: str | None = None
        self._lowered: str | None = None
        self._title_spans: list[tuple[int, int]] = []
        self._body_spans: list[tuple[int, int]] | None = None
        self._span_iter: Iterator[tuple[int, int]] = iter(())

    def positions(self, word: str) -> list[int]:
        """Where `word` occurs in the text field, ascending."""
        found = self._positions.get(word)
        if found is None:
            found = self._positions[word] = []
            if word in self.text_set:
                text, at = self.text, -1
                with suppress(ValueError):  # list.index scans in C; no table of every word
                    while True:
                        at = text.index(word, at + 1)
                        found.append(at)
        return found

    def has_prefix(self, prefix: str) -> bool:
        """Does a text word start with `prefix`? Remembered: many rules share prefixes."""
        found = self._prefixes.get(prefix)
        if found is None:
            if self._sorted is None:
                self._sorted = sorted(self.text_set)
            at = bisect_left(self._sorted, prefix)
            found = at < len(self._sorted) and self._sorted[at].startswith(prefix)
            self._prefixes[prefix] = found
        return found

    def display(self) -> str:
        """The text snippets are cut from: the title, a space, then the body, on one line."""
        if self._display is None:
            text = f"{self.doc.title} {self.doc.text}" if self.doc.title else self.doc.text
            self._display = text.replace("\n", " ")
        return self._display

    def lowered(self) -> str | None:
        """`display()` lower-cased when it is ASCII (so offsets stay put), else None."""
        if self._lowered is None:
            display = self.display()
            self._lowered = display.lower() if display.isascii() else ""
        return self._lowered or None

    def span(self, position: int) -> tuple[int, int]:
        """The character span in `display()` of the text token at `position`. Body spans
        are found lazily, up to the furthest position asked for."""
        if self._body_spans is None:
            self._title_spans = list(spans(self.doc.title))
            self._body_spans = []
            self._span_iter = spans(self.doc.text)
        if position < self.title_len:
            return self._title_spans[position]
        at = position - self.title_len - (1 if self.title_len else 0)
        if at < 0:
            return (0, 0)  # the boundary between title and body
        if at >= len(self._body_spans):
            self._body_spans.extend(islice(self._span_iter, at + 64 - len(self._body_spans)))
        start, end = self._body_spans[at]
        offset = len(self.doc.title) + 1 if self.doc.title else 0
        return start + offset, end + offset


def analyse(doc: Document | Analysed) -> Analysed:
    """Tokenise a document once, for any number of rules."""
    return doc if isinstance(doc, Analysed) else Analysed(doc)
