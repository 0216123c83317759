"""Documents to match, analysed once: each field tokenised and folded, positions lazily."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import chain, islice

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


class Analysed:
    """A document's fields as folded tokens. The text field is the title, a boundary, then
    the body; a token's position is its index there. Positions, prefixes and character
    offsets are computed only when a phrase, NEAR, prefix or snippet needs them."""

    __slots__ = (
        "_display",
        "_positions",
        "_prefixes",
        "_sorted",
        "_span_iter",
        "_spans",
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
        self._spans: list[tuple[int, int]] = []
        self._span_iter: Iterator[tuple[int, int]] | None = None

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

    def span(self, position: int) -> tuple[int, int]:
        """The character span in `display()` of the text token at `position`. Spans are
        found lazily up to the furthest position asked for: snippets sit near the start."""
        if self._span_iter is None:
            doc = self.doc
            title = spans(doc.title)
            body = spans(doc.text, len(doc.title) + 1 if doc.title else 0)
            self._span_iter = chain(title, [(0, 0)] if self.title_len else [], body)
        if position >= len(self._spans):
            self._spans.extend(islice(self._span_iter, position + 1 - len(self._spans)))
        return self._spans[position]


def analyse(doc: Document | Analysed) -> Analysed:
    """Tokenise a document once, for any number of rules."""
    return doc if isinstance(doc, Analysed) else Analysed(doc)
