"""The check-every-rule evaluator: the reference that the index must agree with."""

from __future__ import annotations

from rules.ast import And, Node, Not, Or, Phrase, Query, Term
from rules.document import Analysed, Document, analyse
from rules.text import Token, is_unspaced


def _term_spans(word: str, tokens: list[Token]) -> list[Token]:
    if is_unspaced(word):
        return [t for t in tokens if word in t.text]
    return [t for t in tokens if t.text == word]


def _phrase_spans(words: tuple[str, ...], tokens: list[Token]) -> list[Token]:
    n = len(words)
    out = []
    for i in range(len(tokens) - n + 1):
        if all(tokens[i + k].text == words[k] for k in range(n)):
            out.append(Token(" ".join(words), tokens[i].start, tokens[i + n - 1].end))
    return out


def spans(node: Term | Phrase, doc: Analysed) -> list[Token]:
    """Where a term or phrase occurs in its field."""
    tokens = doc.fields.get(node.field, [])
    if isinstance(node, Term):
        return _term_spans(node.word, tokens)
    return _phrase_spans(node.words, tokens)


def matches(node: Node, doc: Analysed) -> bool:
    if isinstance(node, Term | Phrase):
        return bool(spans(node, doc))
    if isinstance(node, Not):
        return not matches(node.child, doc)
    if isinstance(node, And):
        return all(matches(c, doc) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, doc) for c in node.children)
    raise TypeError(f"unknown node {node!r}")


def positive_leaves(node: Node) -> list[Term | Phrase]:
    """The terms and phrases outside any NOT: the ones a match is explained by."""
    if isinstance(node, Term | Phrase):
        return [node]
    if isinstance(node, Not):
        return []
    return [leaf for c in node.children for leaf in positive_leaves(c)]


def evaluate(query: Query, doc: Document | Analysed) -> bool:
    """Does the document match the query?"""
    analysed = doc if isinstance(doc, Analysed) else analyse(doc)
    return matches(query.root, analysed)
