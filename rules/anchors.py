"""The presearcher's view of a rule: anchor terms that any matching document must contain.

A conjunction takes its most selective child and a disjunction the union of its children,
as in Lucene Monitor. `None` means no usable anchor: the rule is checked on every document.
"""

from __future__ import annotations

from rules.ast import And, Lang, Near, Node, Not, Or, Phrase, Term
from rules.compile import items
from rules.document import HEAD

# (table, kind, key): table is text, url, feed or lang; kind is word, prefix or lang.
Anchor = tuple[str, str, str]
_TABLE = {"text": "text", "title": "text", "url": "url", "feed": "feed"}
_NONE: frozenset[str] = frozenset()


def weight(anchor: Anchor) -> float:
    """Lower is more selective. Long words are rarer than short ones; a prefix matches many
    words, and a language or a short Han string matches many documents."""
    _, kind, key = anchor
    if kind == "lang":
        return 100.0
    return (3.0 if kind == "prefix" else 1.0) * 10.0 / (len(key) + 2)


def _cost(anchors: frozenset[Anchor]) -> float:
    return sum(weight(a) for a in anchors)


def _leaf(leaf: Term | Phrase) -> Anchor:
    """A phrase's rarest token; an unspaced word's characters are tokens too."""
    found = [(_TABLE[leaf.field], "prefix" if pre else "word", w) for _, w, pre in items(leaf)]
    return min(found, key=weight)


def heads(node: Node) -> frozenset[str]:
    """`HEAD` and the first 3 letters of the prefixes every match contains a word with."""
    if isinstance(node, Term):
        if node.prefix and not node.hangul and node.field in ("text", "title"):
            return frozenset([HEAD + node.word[:3]])
        return _NONE
    if isinstance(node, Phrase | Lang | Not):
        return _NONE
    if isinstance(node, Near):
        return heads(node.left) | heads(node.right)
    found = [heads(c) for c in node.children]
    if isinstance(node, And):
        return frozenset().union(*found)
    return frozenset.intersection(*found)


def needs(node: Node) -> frozenset[str]:
    """Text tokens that every document matching `node` contains."""
    if isinstance(node, Term | Phrase):
        if node.field not in ("text", "title"):
            return _NONE
        return frozenset(w for _, w, pre in items(node) if not pre)
    if isinstance(node, Lang | Not):
        return _NONE
    if isinstance(node, Near):
        return needs(node.left) | needs(node.right)
    found = [needs(c) for c in node.children]
    if isinstance(node, And):
        return frozenset().union(*found)
    return frozenset.intersection(*found)


def anchors(node: Node) -> frozenset[Anchor] | None:
    """The anchors of `node`, or None when it has no usable ones."""
    if isinstance(node, Term | Phrase):
        return frozenset([_leaf(node)])
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


# (words all required, words all absent, words one of which is required)
Simple = tuple[frozenset[str], frozenset[str], frozenset[str]]


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
    if required or any_of:
        return frozenset(required), frozenset(absent), any_of
    return None


def rarest(words: frozenset[str]) -> list[str]:
    """`words` from the most selective: long words are rarer than short ones."""
    return sorted(words, key=lambda w: (weight(("text", "word", w)), w))
