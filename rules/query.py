"""A parsed rule: its source, its tree, and (compiled on first use) its predicates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rules.ast import Lang, Leaf, Node, fields_of, label, positive_leaves, top_level_parts
from rules.compile import Positions, Predicate, compile_node, positions_of


@dataclass(frozen=True, slots=True)
class Explainer:
    """A positive leaf of a rule, ready to say whether and where it occurs."""

    label: str
    leaf: Leaf
    present: Predicate
    where: Positions | None  # None outside the title and text


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
        out: dict[Leaf, Explainer] = {}
        for leaf in positive_leaves(self.root):
            if leaf in out:
                continue
            positional = not isinstance(leaf, Lang) and leaf.field in ("text", "title")
            where = positions_of(leaf) if positional else None
            out[leaf] = Explainer(label(leaf), leaf, compile_node(leaf), where)
        return tuple(out.values())
