"""The presearcher's view of a rule: anchor terms that any matching document must contain.

A conjunction takes its most selective child and a disjunction the union of its children,
as in Lucene Monitor. `None` means no usable anchor: the rule is checked on every document.
"""

from __future__ import annotations

from rules.ast import And, Lang, Near, Node, Not, Or, Phrase, Term
from rules.text import is_unspaced

# (table, kind, key): table is text, url, feed or lang; kind is word, prefix, sub or lang.
Anchor = tuple[str, str, str]
_TABLE = {"text": "text", "title": "text", "url": "url", "feed": "feed"}


def weight(anchor: Anchor) -> float:
    """Lower is more selective. Long words are rarer than short ones; a prefix matches many
    words, and a language or a short Han string matches many documents."""
    _, kind, key = anchor
    if kind == "lang":
        return 100.0
    if kind == "sub":
        return 12.0 / len(key)
    return (3.0 if kind == "prefix" else 1.0) * 10.0 / (len(key) + 2)


def _cost(anchors: frozenset[Anchor]) -> float:
    return sum(weight(a) for a in anchors)


def _term(term: Term) -> Anchor:
    kind = "sub" if term.unspaced else "prefix" if term.prefix else "word"
    return (_TABLE[term.field], kind, term.word)


def _phrase(phrase: Phrase) -> Anchor:
    anchors = [(_TABLE[phrase.field], "sub" if is_unspaced(w) else "word", w) for w in phrase.words]
    return min(anchors, key=weight)


def anchors(node: Node) -> frozenset[Anchor] | None:
    """The anchors of `node`, or None when it has no usable ones."""
    if isinstance(node, Term):
        return frozenset([_term(node)])
    if isinstance(node, Phrase):
        return frozenset([_phrase(node)])
    if isinstance(node, Lang):
        return frozenset([("lang", "lang", node.code)])
    if isinstance(node, Not):
        return None
    if isinstance(node, Or):
        union: set[Anchor] = set()
        for child in node.children:
            found = anchors(child)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    options = [a for a in map(anchors, children) if a is not None]
    return min(options, key=_cost) if options else None


# (anchor words, words all required, words all absent, words one of which is required)
Simple = tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]
_NONE: frozenset[str] = frozenset()


def _plain(node: Node) -> str | None:
    if isinstance(node, Term) and node.field == "text" and not (node.prefix or node.unspaced):
        return node.word
    return None


def simple(node: Node) -> Simple | None:
    """A rule part made only of whole words: required ones, absent ones and at most one OR
    of words. The presearcher decides these itself, with set operations, no predicate."""
    required, absent, any_of = set(), set(), _NONE
    for child in node.children if isinstance(node, And) else (node,):
        if word := _plain(child):
            required.add(word)
        elif isinstance(child, Not) and (word := _plain(child.child)):
            absent.add(word)
        elif isinstance(child, Or) and not any_of and all(map(_plain, child.children)):
            any_of = frozenset(map(_plain, child.children))  # type: ignore[arg-type]
        else:
            return None
    if required:
        anchor = min(required, key=lambda w: weight(("text", "word", w)))
        return frozenset([anchor]), frozenset(required), frozenset(absent), any_of
    if any_of:
        return any_of, _NONE, frozenset(absent), _NONE
    return None
