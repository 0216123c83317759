"""The rule index: add and remove rules one at a time, match a document against all.

This first version checks every rule; the presearcher comes with the full language."""

from __future__ import annotations

from dataclasses import dataclass

from rules.ast import Query
from rules.document import Document, analyse
from rules.evaluate import matches, positive_leaves, spans
from rules.snippet import make_snippet


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched a document, with the terms found and a marked snippet."""

    rule_id: int
    matched_terms: tuple[str, ...]
    snippet: str


class RuleIndex:
    """Rules by id. `add` replaces a rule with the same id."""

    def __init__(self) -> None:
        self._rules: dict[int, Query] = {}

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: int, query: Query) -> None:
        self._rules[rule_id] = query

    def remove(self, rule_id: int) -> None:
        self._rules.pop(rule_id, None)

    def match(self, doc: Document) -> list[RuleHit]:
        analysed = analyse(doc)
        hits = []
        for rule_id, query in self._rules.items():
            if not matches(query.root, analysed):
                continue
            found = []
            terms: list[str] = []
            for leaf in positive_leaves(query.root):
                leaf_spans = spans(leaf, analysed)
                if leaf_spans:
                    found.extend(s for s in leaf_spans if leaf.field in ("text", "title"))
                    term = leaf.word if hasattr(leaf, "word") else " ".join(leaf.words)
                    if term not in terms:
                        terms.append(term)
            hits.append(RuleHit(rule_id, tuple(terms), make_snippet(analysed.display, found)))
        return hits
