"""Compile a query tree into a predicate over an analysed document.

Predicates are closures; AND and OR check their cheapest children first (metadata, then
whole words, then prefixes, phrases and NEAR) and short-circuit. Phrases, unspaced words
and NEAR work on the document's position lists, which it computes once per word."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from operator import attrgetter

from rules.ast import And, Lang, Near, Node, Not, Or, Phrase, Term
from rules.document import Analysed
from rules.text import characters, is_hangul, is_unspaced

Predicate = Callable[[Analysed], bool]
Positions = Callable[[Analysed], list[int]]
_SETS = {"text": "text_set", "title": "title_set", "url": "url_set", "feed": "feed_set"}
# A sequence of tokens to match: (offset from the first, folded word, as a prefix?)
_Item = tuple[int, str, bool]


def cost(node: Node) -> float:
    """A rough price of checking `node`; the cheapest children go first."""
    if isinstance(node, Lang):
        return 0.5
    if isinstance(node, Term):
        return 1 + (node.unspaced or node.prefix) * 2 + (node.field in ("url", "feed"))
    if isinstance(node, Phrase):
        return 6
    if isinstance(node, Not):
        return cost(node.child) + 0.5
    if isinstance(node, Near):
        return 10 + cost(node.left) + cost(node.right)
    return sum(cost(c) for c in node.children)


def _is_plain(node: Node) -> bool:
    return isinstance(node, Term) and node.field == "text" and not (node.prefix or node.unspaced)


def items(node: Term | Phrase) -> list[_Item]:
    """The tokens a term or phrase stands for, in order: an unspaced word is one token per
    character, and a Hangul word matches any word it starts."""
    if isinstance(node, Term) and node.word.isascii():
        return [(0, node.word, node.prefix)]
    words = node.words if isinstance(node, Phrase) else (node.word,)
    out: list[_Item] = []
    for word in words:
        if word.isascii():
            out.append((len(out), word, False))
        elif is_unspaced(word):
            out.extend((len(out), c, False) for c in characters(word))
        else:
            prefix = is_hangul(word) or (isinstance(node, Term) and node.prefix)
            out.append((len(out), word, prefix))
    return out


def _scan(tokens: list[str], seq: list[_Item]) -> list[int]:
    """Where `seq` starts in `tokens`, by trying every start (for short url and feed fields)."""
    limit = len(tokens) - len(seq) + 1
    return [
        p
        for p in range(max(0, limit))
        if all(tokens[p + k] == w or (pre and tokens[p + k].startswith(w)) for k, w, pre in seq)
    ]


def _sequence(seq: list[_Item]) -> Positions:
    """Where `seq` starts in the text field: the starts implied by one whole word's
    positions (the rarest in this document), checked against the tokens that follow."""
    whole = [(k, w) for k, w, pre in seq if not pre]
    if len(seq) == 1:
        _, w, pre = seq[0]
        return (lambda d: d.prefix_positions(w)) if pre else (lambda d: d.positions(w))
    rest_all = list(seq)
    needed = frozenset(w for _, w in whole)

    def starts(d: Analysed) -> list[int]:
        if not needed <= d.text_set:
            return []
        if whole:
            pivot, word = min(whole, key=lambda kw: len(d.positions(kw[1])))
            candidates = [p - pivot for p in d.positions(word) if p >= pivot]
        else:
            candidates = d.prefix_positions(seq[0][1])
        text = d.text
        limit = len(text) - len(seq)
        return [
            p
            for p in candidates
            if p <= limit
            and all(
                text[p + k] == w or (pre and text[p + k].startswith(w)) for k, w, pre in rest_all
            )
        ]

    return starts


def _title_only(found: Positions) -> Positions:
    return lambda d: [p for p in found(d) if p < d.title_len]


def _leaf(node: Term | Phrase) -> Predicate:
    """Terms and phrases: a set test when it decides, else their positions."""
    seq = items(node)
    if node.field in ("url", "feed"):
        tokens, token_set = attrgetter(node.field), attrgetter(_SETS[node.field])
        if len(seq) == 1 and not seq[0][2]:
            w = seq[0][1]
            return lambda d: w in token_set(d)
        return lambda d: bool(_scan(tokens(d), seq))
    words = attrgetter(_SETS[node.field])
    whole = frozenset(w for _, w, pre in seq if not pre)
    if len(seq) == 1:
        _, w, pre = seq[0]
        if not pre:
            return lambda d: w in words(d)
        if node.field == "text":
            return lambda d: d.has_prefix(w)
        return lambda d: any(t.startswith(w) for t in d.title_set)
    where = positions_of(node)
    return lambda d: whole <= words(d) and bool(where(d))


def _all(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d: a(d) and b(d)
    if len(preds) == 3:
        a, b, c = preds
        return lambda d: a(d) and b(d) and c(d)
    return lambda d: all(p(d) for p in preds)


def _any(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d: a(d) or b(d)
    return lambda d: any(p(d) for p in preds)


def _plain_negation(node: Node) -> bool:
    return isinstance(node, Not) and _is_plain(node.child)


def _group(children: tuple[Node, ...], conjunction: bool) -> Predicate:
    """AND or OR: whole words are checked together with one set operation, first."""
    plain = frozenset(c.word for c in children if _is_plain(c))  # type: ignore[union-attr]
    absent = frozenset(
        c.child.word  # type: ignore[union-attr]
        for c in children
        if conjunction and _plain_negation(c)
    )
    ranked: list[tuple[float, Predicate]] = []
    if conjunction and (plain or absent):
        if not absent:
            ranked.append((1, lambda d: plain <= d.text_set))
        elif not plain:
            ranked.append((1, lambda d: absent.isdisjoint(d.text_set)))
        else:
            ranked.append((1, lambda d: plain <= d.text_set and absent.isdisjoint(d.text_set)))
    elif len(plain) == 1:
        (w,) = plain
        ranked.append((1, lambda d: w in d.text_set))
    elif plain:
        ranked.append((1, lambda d: not plain.isdisjoint(d.text_set)))
    ranked += [
        (cost(c), compile_node(c))
        for c in children
        if not _is_plain(c) and not (conjunction and _plain_negation(c))
    ]
    preds = [p for _, p in sorted(ranked, key=lambda r: r[0])]
    return _all(preds) if conjunction else _any(preds)


def compile_node(node: Node) -> Predicate:
    """The predicate that decides whether an analysed document matches `node`."""
    if isinstance(node, Term | Phrase):
        return _leaf(node)
    if isinstance(node, Lang):
        code = node.code
        return lambda d: code in d.lang_keys
    if isinstance(node, Not):
        child = compile_node(node.child)
        return lambda d: not child(d)
    if isinstance(node, And | Or):
        return _group(node.children, isinstance(node, And))
    left, right = compile_node(node.left), compile_node(node.right)
    near = positions_of(node)
    return lambda d: left(d) and right(d) and bool(near(d))


def _near(left: list[int], right: list[int], distance: int, ordered: bool) -> list[int]:
    """The positions on either side that have a partner close enough."""
    out: set[int] = set()
    for a in left:
        j = bisect_left(right, a + 1 if ordered else a - distance)
        while j < len(right) and right[j] <= a + distance:
            out.add(a)
            out.add(right[j])
            j += 1
    return sorted(out)


def positions_of(node: Node) -> Positions:
    """Where `node` occurs in the text field (a phrase or an unspaced word at its first
    token), ascending."""
    if isinstance(node, Term | Phrase):
        found = _sequence(items(node))
        return _title_only(found) if node.field == "title" else found
    if isinstance(node, Near):
        left, right = positions_of(node.left), positions_of(node.right)
        n, ordered = node.distance, node.ordered
        return lambda d: _near(left(d), right(d), n, ordered)
    if isinstance(node, And | Or):
        parts = [positions_of(c) for c in node.children]
        conjunction = isinstance(node, And)

        def union(d: Analysed) -> list[int]:
            found = [p(d) for p in parts]
            if conjunction and not all(found):
                return []
            return sorted({p for ps in found for p in ps})

        return union
    raise TypeError(f"{node!r} has no word positions")  # the parser refuses these
