"""The process's rule matcher: syncing rule rows into the index, feed scope, threads."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime, timedelta

from monitor.matching import RuleMatcher
from store.values import RuleRow, StoredArticle

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ARTICLE = StoredArticle(
    id=9,
    url="https://news.example/huawei",
    title="Huawei and ByteDance",
    summary="华为公司发布新芯片",
    content="",
    language="zh-CN",
    published_at=T0,
    fetched_at=T0,
)


def _row(rule_id: int, query: str, *, feed_ids=None, active=True, minutes=0) -> RuleRow:  # type: ignore[no-untyped-def]
    return RuleRow(rule_id, 1, query, feed_ids, active, T0 + timedelta(minutes=minutes))


def _hit_ids(matcher: RuleMatcher, feed_id: int) -> list[int]:
    hits = matcher.hits(ARTICLE, feed_id=feed_id, feed_title="Wire", feed_url="https://w.example")
    return [h.rule_id for h in hits]


def test_apply_adds_changes_and_removes_rules() -> None:
    """Rule rows apply incrementally: new, edited, disabled, and no-longer-parseable rules."""
    matcher = RuleMatcher()
    assert matcher.apply([_row(1, "huawei"), _row(2, "华为 AND lang:zh"), _row(3, "apple")]) == 3
    assert _hit_ids(matcher, 5) == [1, 2]
    assert matcher.watermark == T0
    matcher.apply([_row(3, "bytedance", minutes=1), _row(2, "x", active=False, minutes=2)])
    assert _hit_ids(matcher, 5) == [1, 3] and len(matcher) == 2
    assert matcher.watermark == T0 + timedelta(minutes=2)
    matcher.apply([_row(1, "huawei AND", minutes=3)])  # an unparseable edit stops matching
    assert _hit_ids(matcher, 5) == [3]


def test_feed_scope_is_applied_by_the_index() -> None:
    """A rule scoped to feeds matches only articles polled from those feeds."""
    matcher = RuleMatcher()
    matcher.apply([_row(1, "huawei", feed_ids=(5,)), _row(2, "huawei")])
    assert _hit_ids(matcher, 5) == [1, 2]
    assert _hit_ids(matcher, 6) == [2]
    hit = matcher.hits(ARTICLE, feed_id=5, feed_title="", feed_url="")[0]
    assert hit.article_id == 9 and hit.matched_terms == ("huawei",)
    assert "**Huawei**" in hit.snippet


def test_matching_while_rules_change_in_another_thread() -> None:
    """Ingest threads can match while the sync applies changes."""
    matcher = RuleMatcher()
    matcher.apply([_row(0, "huawei")])
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            for i in range(1, 400):
                matcher.apply([_row(i, f"huawei OR w{i}", minutes=i)])
                matcher.apply([_row(i - 1, "x", active=False, minutes=i)] if i > 1 else [])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=churn)
    thread.start()
    while thread.is_alive():
        assert len(_hit_ids(matcher, 1)) <= 3  # rule 0, and at most two of the churn
    thread.join()
    assert errors == [] and _hit_ids(matcher, 1) == [0, 399]


def test_bulk_load_matches_and_leaves_the_gc_on() -> None:
    """A first sync of many rules loads them all and turns the cyclic GC back on."""
    matcher = RuleMatcher()
    rows = [_row(i, f"w{i} OR (huawei AND x{i})") for i in range(10_000)]
    assert matcher.apply(rows) == 10_000
    assert gc.isenabled()
    assert _hit_ids(matcher, 1) == []
    matcher.apply([_row(10_000, "华为 NEAR/2 bytedance", minutes=1)])
    assert _hit_ids(matcher, 1) == [10_000]
