"""The rule index: a presearcher in the style of Lucene Monitor.

Each part of a rule (a root OR is split into parts) is filed under its anchor terms.
Matching a document collects the parts anchored on its words, prefixes and unspaced runs,
plus the parts that have no anchor, drops those outside their feed scope, and evaluates
only those. `add` and `remove` touch one rule's entries; nothing is ever rebuilt."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import count

from rules.anchors import Anchor, anchors, simple
from rules.compile import Predicate
from rules.document import Analysed, Document, analyse
from rules.explain import explain
from rules.query import Query
from rules.tables import TermTable
from rules.text import unspaced_runs


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched a document, with the terms found and a marked snippet."""

    rule_id: int
    matched_terms: tuple[str, ...]
    snippet: str


@dataclass(frozen=True, slots=True)
class _Rule:
    query: Query
    scope: frozenset[int] | None
    parts: tuple[tuple[int, frozenset[Anchor] | None], ...]  # (part id, its anchors)
    simple: tuple[tuple[int, frozenset[str]], ...]  # (part id, its anchor words)


# A word-only part, checked in the presearch loop: rule id, required words, absent words,
# words one of which is required, feed scope.
_SimplePart = tuple[int, frozenset[str], frozenset[str], frozenset[str], frozenset[int] | None]


class RuleIndex:
    """Rules by id. `add` replaces a rule with the same id. Not thread-safe: callers that
    share one index between threads hold a lock around it."""

    def __init__(self) -> None:
        self._rules: dict[int, _Rule] = {}
        self._parts: dict[int, tuple[int, Predicate, frozenset[int] | None]] = {}
        self._tables = {"text": TermTable(), "url": TermTable(), "feed": TermTable()}
        self._langs: dict[str, set[int]] = {}
        self._always: set[int] = set()
        # Word-only parts (most rules) by anchor word: deciding them needs no predicate call,
        # which matters at 100k rules, where each candidate's objects are cold in the cache.
        self._simple: dict[str, dict[int, _SimplePart]] = {}
        self._ids = count()

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: int, query: Query, feed_ids: Iterable[int] | None = None) -> None:
        """Index a rule, replacing any rule with this id. With `feed_ids`, the rule only
        matches documents whose `feed_id` is one of them."""
        self.remove(rule_id)
        scope = frozenset(feed_ids) if feed_ids is not None else None
        parts, simple_parts = [], []
        for node, predicate in query.parts:
            part = next(self._ids)
            decided = simple(node)
            if decided is not None:
                words, required, absent, any_of = decided
                for word in words:
                    entry = (rule_id, required, absent, any_of, scope)
                    self._simple.setdefault(word, {})[part] = entry
                simple_parts.append((part, words))
                continue
            found = anchors(node)
            self._parts[part] = (rule_id, predicate, scope)
            if found is None:
                self._always.add(part)
            for table, kind, key in found or ():
                if table == "lang":
                    self._langs.setdefault(key, set()).add(part)
                else:
                    self._tables[table].add(kind, key, part)
            parts.append((part, found))
        self._rules[rule_id] = _Rule(query, scope, tuple(parts), tuple(simple_parts))

    def remove(self, rule_id: int) -> None:
        """Forget a rule; unknown ids are ignored."""
        rule = self._rules.pop(rule_id, None)
        if rule is None:
            return
        for part, words in rule.simple:
            for word in words:
                entries = self._simple[word]
                del entries[part]
                if not entries:
                    del self._simple[word]
        for part, found in rule.parts:
            del self._parts[part]
            self._always.discard(part)
            for table, kind, key in found or ():
                if table == "lang":
                    ids = self._langs.get(key, set())
                    ids.discard(part)
                    if not ids:
                        self._langs.pop(key, None)
                else:
                    self._tables[table].remove(kind, key, part)

    def candidates(self, doc: Analysed) -> set[int]:
        """The rule parts worth checking on `doc`: word-only ones and the others."""
        found = self._candidates(doc)
        for word in self._simple.keys() & doc.text_set:
            found.update(self._simple[word])
        return found

    def _candidates(self, doc: Analysed) -> set[int]:
        found = set(self._always)
        self._tables["text"].collect(doc.text_set, doc.runs, found)
        for name, tokens in (("url", doc.url_set), ("feed", doc.feed_set)):
            table = self._tables[name]
            if tokens and (table.words or table.prefixes or table.subs):
                table.collect(tokens, unspaced_runs(tokens), found)
        for key in doc.lang_keys:
            found |= self._langs.get(key, set())
        return found

    def matching_ids(self, doc: Document | Analysed) -> list[int]:
        """The ids of the rules that match, ascending, without explanations."""
        analysed = analyse(doc)
        feed_id = analysed.doc.feed_id
        parts = self._parts
        matched: set[int] = set()
        words = analysed.text_set
        for word in self._simple.keys() & words:
            for rule_id, required, absent, any_of, scope in self._simple[word].values():
                if (
                    required <= words
                    and absent.isdisjoint(words)
                    and (not any_of or not any_of.isdisjoint(words))
                    and (scope is None or feed_id in scope)
                ):
                    matched.add(rule_id)
        for part in self._candidates(analysed):
            rule_id, predicate, scope = parts[part]
            if (scope is None or feed_id in scope) and predicate(analysed):
                matched.add(rule_id)
        return sorted(matched)

    def match(self, doc: Document | Analysed) -> list[RuleHit]:
        """The rules that match `doc`, by id, each with its matched terms and snippet."""
        analysed = analyse(doc)
        hits = []
        for rule_id in self.matching_ids(analysed):
            terms, snippet = explain(self._rules[rule_id].query, analysed)
            hits.append(RuleHit(rule_id, terms, snippet))
        return hits
