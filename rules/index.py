"""The rule index: a presearcher in the style of Lucene Monitor.

Each part of a rule (a root OR is split into parts) is filed under the words any match
must contain: under two of them when it has two, so that a part is only looked at when
both are in the document (found by one set intersection in C per word), else under one.
Parts made only of whole words are then decided with set operations; the others run their
predicate. Parts that need no word are filed under their anchor terms (prefixes, URL and
feed words, languages), or checked on every document. `add` and `remove` touch one rule's
entries; nothing is ever rebuilt."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import count

from rules.anchors import Anchor, anchors, heads, needs, rarest, simple
from rules.ast import Node, top_level_parts
from rules.compile import Predicate, compile_node
from rules.document import HEAD, Analysed, Document, analyse
from rules.explain import explain
from rules.query import Query
from rules.tables import TermTable

_NONE: frozenset[str] = frozenset()
_SMALL = 8  # second-word tables up to this size are walked, larger ones intersected


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched a document, with the terms found and a marked snippet."""

    rule_id: int
    matched_terms: tuple[str, ...]
    snippet: str


# A part filed under words: rule id, other required words, absent words, feed scope, and
# the predicate (None when the words decide).
_Entry = tuple[int, frozenset[str], frozenset[str], frozenset[int] | None, Predicate | None]
_Keys = tuple[tuple[str, str], ...]  # (first word, second word or "") it is filed under


@dataclass(frozen=True, slots=True)
class _Rule:
    query: Query
    parts: tuple[tuple[int, _Keys, frozenset[Anchor] | None], ...]


def _filing(node: Node) -> tuple[_Keys, frozenset[str], frozenset[str], Predicate | None]:
    """Where a part is filed under words, what else it requires and forbids, and its
    predicate when the words do not decide it (compiled only then). No keys when it
    requires no word."""
    decided = simple(node)
    if decided is not None:
        required, absent, any_of = decided
        order = rarest(required)
        if order and any_of:
            keys = tuple((order[0], w) for w in sorted(any_of))
            return keys, frozenset(order[1:]), absent, None
        if len(order) >= 2:
            return ((order[0], order[1]),), frozenset(order[2:]), absent, None
        if order:
            return ((order[0], ""),), _NONE, absent, None
        return tuple((w, "") for w in sorted(any_of)), _NONE, absent, None
    order = rarest(needs(node))
    if len(order) >= 2:
        return ((order[0], order[1]),), _NONE, _NONE, compile_node(node)
    prefixes = sorted(heads(node))
    if order:
        return ((order[0], prefixes[0] if prefixes else ""),), _NONE, _NONE, compile_node(node)
    return (), _NONE, _NONE, None


class RuleIndex:
    """Rules by id. `add` replaces a rule with the same id. Not thread-safe: callers that
    share one index between threads hold a lock around it."""

    def __init__(self) -> None:
        self._rules: dict[int, _Rule] = {}
        # first word -> second word ("" for none) -> part -> entry
        self._filed: dict[str, dict[str, dict[int, _Entry]]] = {}
        self._parts: dict[int, tuple[int, Predicate, frozenset[int] | None]] = {}
        self._tables = {"text": TermTable(), "url": TermTable(), "feed": TermTable()}
        self._langs: dict[str, set[int]] = {}
        self._always: set[int] = set()
        self._headed = 0  # filings whose second key is a prefix head
        self._ids = count()

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: int, query: Query, feed_ids: Iterable[int] | None = None) -> None:
        """Index a rule, replacing any rule with this id. With `feed_ids`, the rule only
        matches documents carried by one of those feeds."""
        self.remove(rule_id)
        query.explainers  # noqa: B018 - made when indexed, not on the rule's first hit
        scope = frozenset(feed_ids) if feed_ids is not None else None
        parts: list[tuple[int, _Keys, frozenset[Anchor] | None]] = []
        for node in top_level_parts(query.root):
            part = next(self._ids)
            keys, rest, absent, check = _filing(node)
            if keys:
                entry = (rule_id, rest, absent, scope, check)
                for first, second in keys:
                    self._filed.setdefault(first, {}).setdefault(second, {})[part] = entry
                    self._headed += second.startswith(HEAD)
                parts.append((part, keys, None))
                continue
            found = anchors(node)
            self._parts[part] = (rule_id, compile_node(node), scope)
            if found is None:
                self._always.add(part)
            for table, kind, key in found or ():
                if table == "lang":
                    self._langs.setdefault(key, set()).add(part)
                else:
                    self._tables[table].add(kind, key, part)
            parts.append((part, (), found))
        self._rules[rule_id] = _Rule(query, tuple(parts))

    def remove(self, rule_id: int) -> None:
        """Forget a rule; unknown ids are ignored."""
        rule = self._rules.pop(rule_id, None)
        if rule is None:
            return
        for part, keys, found in rule.parts:
            for first, second in keys:
                self._headed -= second.startswith(HEAD)
                seconds = self._filed[first]
                entries = seconds[second]
                del entries[part]
                if not entries:
                    del seconds[second]
                    if not seconds:
                        del self._filed[first]
            if keys:
                continue
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

    def _filed_entries(self, doc: Analysed) -> list[dict[int, _Entry]]:
        """The entries whose filing words (and prefix heads) are all in the document."""
        filed, words, out = self._filed, doc.text_set, []
        for first in filed.keys() & words:
            seconds = filed[first]
            if len(seconds) <= _SMALL:
                for second, entries in seconds.items():
                    if (
                        not second
                        or second in words
                        or (second[0] == HEAD and second in doc.heads())
                    ):
                        out.append(entries)
                continue
            unpaired = seconds.get("")
            if unpaired is not None:
                out.append(unpaired)
            out.extend(seconds[second] for second in seconds.keys() & words)
            if self._headed:
                out.extend(seconds[second] for second in seconds.keys() & doc.heads())
        return out

    def candidates(self, doc: Analysed) -> set[int]:
        """The rule parts worth checking on `doc`."""
        found = self._candidates(doc)
        for entries in self._filed_entries(doc):
            found.update(entries)
        return found

    def _candidates(self, doc: Analysed) -> set[int]:
        found = set(self._always)
        self._tables["text"].collect(doc.text_set, found)
        for name, tokens in (("url", doc.url_set), ("feed", doc.feed_set)):
            table = self._tables[name]
            if tokens and (table.words or table.prefixes):
                table.collect(tokens, found)
        for key in doc.lang_keys:
            found |= self._langs.get(key, set())
        return found

    def matching_ids(self, doc: Document | Analysed) -> list[int]:
        """The ids of the rules that match, ascending, without explanations."""
        analysed = analyse(doc)
        feeds = analysed.feeds
        matched: set[int] = set()
        words = analysed.text_set
        for entries in self._filed_entries(analysed):
            for rule_id, rest, absent, scope, check in entries.values():
                if (
                    rule_id not in matched  # decided by another part already
                    and (not rest or rest <= words)
                    and (not absent or absent.isdisjoint(words))
                    and (scope is None or not scope.isdisjoint(feeds))
                    and (check is None or check(analysed))
                ):
                    matched.add(rule_id)
        parts = self._parts
        for part in self._candidates(analysed):
            rule_id, predicate, scope = parts[part]
            if (
                rule_id not in matched
                and (scope is None or not scope.isdisjoint(feeds))
                and predicate(analysed)
            ):
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
