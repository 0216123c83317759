"""Explain a match: the rule's positive terms found in the document, and where."""

from __future__ import annotations

from rules.ast import Phrase, Term
from rules.document import Analysed
from rules.query import Query
from rules.snippet import SNIPPET_CHARS, make_snippet
from rules.text import fold

_Mark = tuple[int, int, str]  # position, width in tokens, unspaced word or ""


def _inside(display: str, start: int, end: int, word: str) -> list[tuple[int, int]]:
    """The occurrences of `word` inside one run; the whole run when folding moved them."""
    raw = display[start:end]
    if fold(raw) != raw:
        return [(start, end)]
    out, at = [], raw.find(word)
    while at != -1:
        out.append((start + at, start + at + len(word)))
        at = raw.find(word, at + len(word))
    return out or [(start, end)]


def _spans(marks: list[_Mark], doc: Analysed) -> list[tuple[int, int]]:
    """Character spans of the marks that can fall in the snippet around the first one."""
    out: list[tuple[int, int]] = []
    limit = -1
    for position, width, word in sorted(marks):
        start, end = doc.span(position)
        if limit == -1:
            limit = start + SNIPPET_CHARS
        elif start > limit:
            break
        if word:
            out.extend(_inside(doc.display(), start, end, word))
        else:
            out.append((start, doc.span(position + width - 1)[1] if width > 1 else end))
    return out


def explain(query: Query, doc: Analysed) -> tuple[tuple[str, ...], str]:
    """The matched terms, in rule order, and a snippet with every match marked."""
    terms: list[str] = []
    marks: list[_Mark] = []
    for explainer in query.explainers:
        if not explainer.present(doc):
            continue
        if explainer.label not in terms:
            terms.append(explainer.label)
        if explainer.where is not None:
            leaf = explainer.leaf
            width = len(leaf.words) if isinstance(leaf, Phrase) else 1
            word = leaf.word if isinstance(leaf, Term) and leaf.unspaced else ""
            marks.extend((p, width, word) for p in explainer.where(doc))
    return tuple(terms), make_snippet(doc.display(), _spans(marks, doc))
