"""The process's rule index, kept in sync with the database, and the alert window."""

from __future__ import annotations

import gc
import threading
from datetime import datetime, timedelta

import structlog

from rules import RuleIndex, RuleSyntaxError, analyse, article_document, parse
from store.values import NewHit, RuleRow, StoredArticle

log = structlog.get_logger(__name__)
_BULK = 10_000  # rule rows in one sync from which the index is treated as a bulk load


def is_alertable(article: StoredArticle, *, now: datetime, max_age: timedelta) -> bool:
    """Only recent articles alert; an undated one counts as published when fetched."""
    published = article.published_at or article.fetched_at
    return now - published <= max_age


class RuleMatcher:
    """The process's `RuleIndex`, feed scopes included. Thread-safe: ingest threads match
    while the sync task applies changes."""

    def __init__(self) -> None:
        self._index = RuleIndex()
        self._lock = threading.Lock()
        self.watermark: datetime | None = None
        # The last row applied per rule: a sync re-reads the rows of its overlap window
        # (every rule, for a while after a bulk import), and re-indexing them costs.
        self._applied: dict[int, RuleRow] = {}

    def __len__(self) -> int:
        return len(self._index)

    def applied_at(self, rule_id: int) -> datetime | None:
        """The `updated_at` of the row last applied for a rule (None if never)."""
        row = self._applied.get(rule_id)
        return row.updated_at if row is not None else None

    def apply(self, rows: list[RuleRow]) -> int:
        """Apply rule rows from `store.rules.rules_changed_since`; return how many changed."""
        if len(rows) < _BULK or not gc.isenabled():
            return self._apply(rows)
        # A bulk load makes millions of long-lived objects: the cyclic GC would rescan them
        # over and over while loading, and later in the middle of matching.
        gc.disable()
        try:
            return self._apply(rows)
        finally:
            gc.freeze()
            gc.enable()

    def _apply(self, rows: list[RuleRow]) -> int:
        changed = 0
        with self._lock:
            for row in rows:
                if self._applied.get(row.id) == row:
                    continue
                self._applied[row.id] = row
                if row.active:
                    try:
                        query = parse(row.query)
                    except RuleSyntaxError as exc:  # saved by an older version, or edited by hand
                        log.warning("rule.unparseable", rule_id=row.id, error=str(exc))
                        self._index.remove(row.id)  # never keep matching an older version
                        continue
                    self._index.add(row.id, query, feed_ids=row.feed_ids)
                elif row.id in self._index:
                    self._index.remove(row.id)
                else:
                    continue
                changed += 1
                if self.watermark is None or row.updated_at > self.watermark:
                    self.watermark = row.updated_at
        return changed

    def hits(
        self, article: StoredArticle, *, feed_id: int, feed_title: str, feed_url: str
    ) -> list[NewHit]:
        """The rules this article matches, within their feed scope."""
        doc = article_document(article, feed_id=feed_id, feed_title=feed_title, feed_url=feed_url)
        analysed = analyse(doc)  # outside the lock: it needs no rule
        with self._lock:
            found = self._index.match(analysed)
        return [NewHit(h.rule_id, article.id, h.snippet, h.matched_terms) for h in found]
