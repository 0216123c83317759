"""A parsed rule: its source, its tree, and (compiled on first use) its predicates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rules.ast import Lang, Leaf, Node, Term, fields_of, label, positive_leaves, top_level_parts
from rules.compile import Positions, Predicate, compile_node, items, positions_of
from rules.document import Analysed


class Explainer:
    """A positive leaf of a rule, ready to say whether and where it occurs. Its predicate
    and positions are compiled on first use: a whole word needs neither."""

    __slots__ = (
        "_present",
        "_where",
        "direct",
        "label",
        "leaf",
        "needed",
        "positional",
        "width",
    )

    def __init__(self, leaf: Leaf) -> None:
        self.leaf = leaf
        self.label = label(leaf)
        self.positional = not isinstance(leaf, Lang) and leaf.field in ("text", "title")
        # A whole word, found in ASCII text without its positions.
        self.direct = (
            isinstance(leaf, Term) and self.positional and not (leaf.prefix or leaf.unspaced)
        )
        seq = [] if isinstance(leaf, Lang) else items(leaf)
        self.width = len(seq) or 1
        # Whole text tokens it cannot occur without: most absent leaves stop here.
        self.needed = frozenset(w for _, w, pre in seq if not pre) if self.positional else None
        self._present: Predicate | None = None
        self._where: Positions | None = None

    def present(self, doc: Analysed) -> bool:
        """Does the leaf occur in `doc`?"""
        if self.direct:
            leaf: Term = self.leaf  # type: ignore[assignment]
            return leaf.word in (doc.title_set if leaf.field == "title" else doc.text_set)
        if self._present is None:
            self._present = compile_node(self.leaf)
        return self._present(doc)

    def where(self, doc: Analysed) -> list[int]:
        """Its token positions in the text field (only for title and text leaves)."""
        if self._where is None:
            self._where = positions_of(self.leaf)
        return self._where(doc)


@dataclass(frozen=True)
class Query:
    """A parsed rule. `parts` are the alternatives of a root OR, each compiled."""

    source: str
    root: Node

    @cached_property
    def fields(self) -> frozenset[str]:
        """The document fields the query reads: title, text, url, feed, lang."""
        return fields_of(self.root)

    @cached_property
    def parts(self) -> tuple[tuple[Node, Predicate], ...]:
        return tuple((part, compile_node(part)) for part in top_level_parts(self.root))

    @cached_property
    def predicate(self) -> Predicate:
        preds = [p for _, p in self.parts]
        if len(preds) == 1:
            return preds[0]
        return lambda d: any(p(d) for p in preds)

    @cached_property
    def explainers(self) -> tuple[Explainer, ...]:
        return tuple({leaf: explainer(leaf) for leaf in positive_leaves(self.root)}.values())


# Explainers by leaf, shared by every rule that names it: 100k rules name far fewer leaves.
_EXPLAINERS: dict[object, Explainer] = {}
_EXPLAINERS_LIMIT = 500_000


def explainer(leaf: Leaf) -> Explainer:
    """The one explainer of `leaf`."""
    # A tuple of the fields hashes and compares in C, unlike the dataclass itself.
    key = (leaf.word, leaf.field, leaf.prefix) if isinstance(leaf, Term) else leaf
    found = _EXPLAINERS.get(key)
    if found is None:
        if len(_EXPLAINERS) >= _EXPLAINERS_LIMIT:
            _EXPLAINERS.clear()
        found = _EXPLAINERS[key] = Explainer(leaf)
    return found
