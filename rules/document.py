"""Documents to match, analysed once: each field tokenised and folded, positions lazily."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from rules.text import BOUNDARY, spans, words

_NONE: list[int] = []
HEAD = "\x01"  # before a prefix's first letters where prefixes are filed with words
_LAZY_LOOKUPS = 8  # words found one by one before all positions are filed in one pass


@dataclass(frozen=True, slots=True)
class Document:
    """An article as the matcher sees it. `text` is the body; the title is searched too.
    `feed_id` and `feed_ids` (every other feed that carries the article) are only used for
    rules scoped to feeds; `feed` holds the titles and URLs of all those feeds."""

    title: str = ""
    text: str = ""
    url: str = ""
    feed: str = ""
    lang: str = ""
    feed_id: int | None = None
    feed_ids: frozenset[int] = frozenset()


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
    article: ArticleFields,
    *,
    feed_id: int | None,
    feed_title: str,
    feed_url: str = "",
    also: Sequence[tuple[int, str, str]] = (),
) -> Document:
    """A stored article as the matcher sees it: ingest, previews and /test all use this.
    `also` lists the other feeds that carry it, as (id, title, url): feed scopes and
    `feed:` terms see every one of them."""
    feeds = [(feed_title, feed_url), *((title, url) for i, title, url in also if i != feed_id)]
    return Document(
        feed_id=feed_id,
        feed_ids=frozenset(i for i, _, _ in also),
        title=article.title,
        text=f"{article.summary}\n{article.content}" if article.content else article.summary,
        url=article.url,
        feed=" ".join(f"{title} {url}".strip() for title, url in feeds).strip(),
        lang=article.language,
    )


class Analysed:
    """A document's fields as folded tokens. The text field is the title, a boundary, then
    the body; a token's position is its index there (in unspaced scripts, each character is
    a token). Positions, prefixes and character offsets are computed once, when a phrase,
    NEAR, prefix or snippet first needs them, and then shared by every rule."""

    __slots__ = (
        "_body_spans",
        "_display",
        "_heads",
        "_lookups",
        "_lowered",
        "_positions",
        "_prefixes",
        "_sorted",
        "_span_iter",
        "_table",
        "_title_spans",
        "doc",
        "explained",
        "feed",
        "feed_set",
        "feeds",
        "lang_keys",
        "snippets",
        "text",
        "text_set",
        "title_len",
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
        self.url = words(doc.url)
        self.feed = words(doc.feed)
        self.url_set = set(self.url)
        self.feed_set = set(self.feed)
        self.feeds = doc.feed_ids | {doc.feed_id} if doc.feed_id is not None else doc.feed_ids
        lang = doc.lang.strip().lower().replace("_", "-")
        parts = lang.split("-")
        self.lang_keys = {"-".join(parts[: i + 1]) for i in range(len(parts))} if lang else set()
        self._positions: dict[str, list[int]] = {}
        self._table = False
        self._lookups = 0
        self._prefixes: dict[str, list[str]] = {}
        self._sorted: list[str] | None = None
        self._heads: set[str] | None = None
        self._display: str | None = None
        self._lowered: str | None = None
        self._title_spans: list[tuple[int, int]] = []
        self._body_spans: list[tuple[int, int]] | None = None
        self._span_iter: Iterator[tuple[int, int]] = iter(())
        # Per leaf of a rule: (present?, its character spans); shared by the rules that hit.
        self.explained: dict[Any, Any] = {}  # by explainer
        self.snippets: dict[tuple[Any, ...], str] = {}  # by the explainers present

    def in_scope(self, scope: frozenset[int] | None) -> bool:
        """Is the document carried by one of the feeds of `scope` (None: any feed)?"""
        return scope is None or not scope.isdisjoint(self.feeds)

    def positions(self, word: str) -> list[int]:
        """Where `word` occurs in the text field, ascending. The first few words are found
        with `list.index` (a scan in C); once many are asked for, one pass files them all."""
        found = self._positions.get(word)
        if found is not None or self._table:
            return found if found is not None else _NONE
        if word not in self.text_set:
            return _NONE
        self._lookups += 1
        if self._lookups > _LAZY_LOOKUPS:
            table: dict[str, list[int]] = {}
            for at, token in enumerate(self.text):
                entry = table.get(token)
                if entry is None:
                    table[token] = [at]
                else:
                    entry.append(at)
            self._positions, self._table = table, True
            return table[word]
        found = self._positions[word] = []
        text, at = self.text, -1
        with suppress(ValueError):
            while True:
                at = text.index(word, at + 1)
                found.append(at)
        return found

    def prefixed(self, prefix: str) -> list[str]:
        """The distinct text words that start with `prefix`. Remembered: rules share them."""
        found = self._prefixes.get(prefix)
        if found is None:
            if self._sorted is None:
                self._sorted = sorted(self.text_set)
            ordered = self._sorted
            at = bisect_left(ordered, prefix)
            found = []
            while at < len(ordered) and ordered[at].startswith(prefix):
                found.append(ordered[at])
                at += 1
            self._prefixes[prefix] = found
        return found

    def heads(self) -> set[str]:
        """`HEAD` and the first 3 letters of each text word, as prefixes are filed."""
        if self._heads is None:
            self._heads = {HEAD + w[:3] for w in self.text_set if len(w) >= 3}
        return self._heads

    def has_prefix(self, prefix: str) -> bool:
        """Does a text word start with `prefix`?"""
        return bool(self.prefixed(prefix))

    def prefix_positions(self, prefix: str) -> list[int]:
        """Where the words starting with `prefix` occur in the text field, ascending."""
        found = self.prefixed(prefix)
        if len(found) == 1:
            return self.positions(found[0])
        return sorted(p for word in found for p in self.positions(word))

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
