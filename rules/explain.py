"""Explain a match: the rule's positive terms found in the document, and where.

What a leaf is found to be (present, and where) is kept on the analysed document, by its
explainer (one per distinct leaf, shared by every rule that names it), so the many rules
that hit one document and share names find each only once."""

from __future__ import annotations

from rules.ast import Term
from rules.document import Analysed
from rules.query import Explainer, Query
from rules.snippet import SNIPPET_CHARS, make_snippet
from rules.text import find_word

_Span = tuple[int, int]
# present?, character spans found directly (ASCII whole words) or None, token positions
_Facts = tuple[bool, list[_Span] | None, list[int]]
_NOTHING: _Facts = (False, None, [])


def _facts(explainer: Explainer, doc: Analysed) -> _Facts:
    facts: _Facts | None = doc.explained.get(explainer)
    if facts is not None:
        return facts
    needed = explainer.needed
    if needed is not None and not needed <= doc.text_set:
        facts = _NOTHING
    elif explainer.direct:
        leaf: Term = explainer.leaf  # type: ignore[assignment]
        lowered = doc.lowered()
        if leaf.word not in (doc.title_set if leaf.field == "title" else doc.text_set):
            facts = _NOTHING
        elif lowered is not None:
            # Whole ASCII words: found in the text directly, without tokenising it again.
            limit = len(doc.doc.title) if leaf.field == "title" else len(lowered)
            facts = (True, find_word(lowered, leaf.word, limit), [])
        else:
            facts = (True, None, explainer.where(doc))
    elif explainer.positional:
        where = explainer.where(doc)
        facts = (True, None, where) if where else _NOTHING
    else:
        facts = (True, None, []) if explainer.present(doc) else _NOTHING
    doc.explained[explainer] = facts
    return facts


def _token_spans(marks: list[tuple[int, int]], doc: Analysed, first: int) -> list[_Span]:
    """Character spans of the marks (position, width in tokens) that can fall in the
    snippet around the first match."""
    out: list[_Span] = []
    limit = first + SNIPPET_CHARS
    for position, width in sorted(marks):
        start, end = doc.span(position)
        if start > limit:
            break
        limit = min(limit, start + SNIPPET_CHARS)
        out.append((start, doc.span(position + width - 1)[1] if width > 1 else end))
    return out


def explain(query: Query, doc: Analysed) -> tuple[tuple[str, ...], str]:
    """The matched terms, in rule order, and a snippet with every match marked. Rules
    whose present leaves are the same share one snippet."""
    terms: list[str] = []
    keys: list[Explainer] = []
    present: list[tuple[Explainer, _Facts]] = []
    explained = doc.explained
    for explainer in query.explainers:
        facts = explained.get(explainer)
        if facts is None:
            facts = _facts(explainer, doc)
        if facts[0]:
            keys.append(explainer)
            present.append((explainer, facts))
            if explainer.label not in terms:
                terms.append(explainer.label)
    key = tuple(keys)
    snippet = doc.snippets.get(key)
    if snippet is None:
        snippet = doc.snippets[key] = _snippet(present, doc)
    return tuple(terms), snippet


def _snippet(present: list[tuple[Explainer, _Facts]], doc: Analysed) -> str:
    marks: list[tuple[int, int]] = []
    spans: list[_Span] = []
    for explainer, (_, found, where) in present:
        if found is not None:
            spans.extend(found)
        elif where:
            width = explainer.width
            marks.extend((p, width) for p in where)
    if marks:
        first = min(s for s, _ in spans) if spans else len(doc.display())
        spans.extend(_token_spans(marks, doc, first))
    return make_snippet(doc.display(), spans)
