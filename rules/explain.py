"""Explain a match: the rule's positive terms found in the document, and where."""

from __future__ import annotations

from rules.ast import Phrase, Term
from rules.document import Analysed
from rules.query import Query
from rules.snippet import SNIPPET_CHARS, make_snippet
from rules.text import find_word, fold

_Mark = tuple[int, int, str]  # token position, width in tokens, unspaced word or ""
_Span = tuple[int, int]


def _inside(display: str, start: int, end: int, word: str) -> list[_Span]:
    """The occurrences of `word` inside one run; the whole run when folding moved them."""
    raw = display[start:end]
    if fold(raw) != raw:
        return [(start, end)]
    out, at = [], raw.find(word)
    while at != -1:
        out.append((start + at, start + at + len(word)))
        at = raw.find(word, at + len(word))
    return out or [(start, end)]


def _token_spans(marks: list[_Mark], doc: Analysed, first: int) -> list[_Span]:
    """Character spans of the marks that can fall in the snippet around the first match."""
    out: list[_Span] = []
    limit = first + SNIPPET_CHARS
    for position, width, word in sorted(marks):
        start, end = doc.span(position)
        if start > limit:
            break
        limit = min(limit, start + SNIPPET_CHARS)
        if word:
            out.extend(_inside(doc.display(), start, end, word))
        else:
            out.append((start, doc.span(position + width - 1)[1] if width > 1 else end))
    return out


def explain(query: Query, doc: Analysed) -> tuple[tuple[str, ...], str]:
    """The matched terms, in rule order, and a snippet with every match marked."""
    terms: list[str] = []
    marks: list[_Mark] = []
    spans: list[_Span] = []
    lowered = doc.lowered()
    for explainer in query.explainers:
        if not explainer.present(doc):
            continue
        if explainer.label not in terms:
            terms.append(explainer.label)
        leaf = explainer.leaf
        if explainer.where is None:
            continue
        if lowered is not None and isinstance(leaf, Term) and not leaf.prefix:
            # Whole ASCII words: found in the text directly, without tokenising it again.
            limit = len(doc.doc.title) if leaf.field == "title" else len(lowered)
            spans.extend(find_word(lowered, leaf.word, limit))
            continue
        width = len(leaf.words) if isinstance(leaf, Phrase) else 1
        word = leaf.word if isinstance(leaf, Term) and leaf.unspaced else ""
        marks.extend((p, width, word) for p in explainer.where(doc))
    if marks:
        first = min(s for s, _ in spans) if spans else len(doc.display())
        spans.extend(_token_spans(marks, doc, first))
    return tuple(terms), make_snippet(doc.display(), spans)
