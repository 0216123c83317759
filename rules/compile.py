"""Compile a query tree into a predicate over an analysed document.

Predicates are closures; AND and OR check their cheapest children first (metadata, then
whole words, then substrings, prefixes, phrases and NEAR) and short-circuit. Word positions
are only computed for phrases and NEAR."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from operator import attrgetter

from rules.ast import And, Lang, Near, Node, Not, Or, Phrase, Term
from rules.document import Analysed
from rules.text import is_unspaced

Predicate = Callable[[Analysed], bool]
Positions = Callable[[Analysed], list[int]]
_SETS = {"text": "text_set", "title": "title_set", "url": "url_set", "feed": "feed_set"}


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


def _token_test(word: str, prefix: bool = False) -> Callable[[str], bool]:
    if is_unspaced(word):
        return lambda t: word in t
    if prefix:
        return lambda t: t.startswith(word)
    return word.__eq__


def _term(term: Term) -> Predicate:
    w = term.word
    if term.field == "text" and term.unspaced:
        return lambda d: w in d.runs
    if term.field == "title" and term.unspaced:
        return lambda d: w in d.title_runs
    if term.field == "text" and term.prefix:
        return lambda d: d.has_prefix(w)
    tokens = attrgetter(_SETS[term.field])
    if term.unspaced:
        return lambda d: any(w in t for t in tokens(d))
    if term.prefix:
        return lambda d: any(t.startswith(w) for t in tokens(d))
    return lambda d: w in tokens(d)


def _sequence(words: tuple[str, ...]) -> Callable[[list[str], list[int]], list[int]]:
    """Of the candidate starts, those where `words` follow one another in `tokens`."""
    rest = [(k, _token_test(w)) for k, w in enumerate(words) if k]
    last = len(words) - 1

    def starts(tokens: list[str], candidates: list[int]) -> list[int]:
        limit = len(tokens) - last
        return [p for p in candidates if p < limit and all(test(tokens[p + k]) for k, test in rest)]

    return starts


def _phrase(phrase: Phrase) -> Predicate:
    if phrase.field in ("url", "feed"):
        tokens = attrgetter(phrase.field)
        first = _token_test(phrase.words[0])
        starts = _sequence(phrase.words)
        return lambda d: bool(starts(tokens(d), [i for i, t in enumerate(tokens(d)) if first(t)]))
    plain = frozenset(w for w in phrase.words if not is_unspaced(w))
    runs = [w for w in phrase.words if is_unspaced(w)]
    where = positions_of(phrase)
    words = attrgetter(_SETS[phrase.field])
    run_text = attrgetter("runs" if phrase.field == "text" else "title_runs")
    return lambda d: plain <= words(d) and all(w in run_text(d) for w in runs) and bool(where(d))


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
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Phrase):
        return _phrase(node)
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
    """Where `node` occurs in the text field (a phrase at its first word), ascending."""
    if isinstance(node, Term | Phrase):
        title = node.field == "title"
        if isinstance(node, Term) and not (node.prefix or node.unspaced):
            w = node.word
            found: Positions = lambda d: d.positions(w)  # noqa: E731
        else:
            first = node.word if isinstance(node, Term) else node.words[0]
            test = _token_test(first, isinstance(node, Term) and node.prefix)
            found = lambda d: [i for i, t in enumerate(d.text) if test(t)]  # noqa: E731
        if isinstance(node, Phrase):
            starts, simple = _sequence(node.words), found
            found = lambda d: starts(d.text, simple(d))  # noqa: E731
        if title:
            inner = found
            return lambda d: [p for p in inner(d) if p < d.title_len]
        return found
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
