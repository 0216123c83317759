"""Poll and hit metrics, counted where polls finish. On the default registry, created once
per process at import, so that many pollers (or test apps) never register a series twice."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FEED_POLLS = Counter(
    "newswatch_feed_polls",
    "Feed polls finished by this process, by result (ok, not_modified, unchanged, error).",
    ["result"],
)
HITS = Counter("newswatch_hits", "Hits recorded by this process (new rule-article matches).")

for _result in ("ok", "not_modified", "unchanged", "error"):
    FEED_POLLS.labels(_result)  # exist from the start, reading 0

PAGES = Counter(
    "newswatch_pages",
    "Article pages handled by this process, by outcome (ok, retry, failed, paused).",
    ["outcome"],
)
PAGE_SECONDS = Histogram(
    "newswatch_page_seconds",
    "Time from claiming a page to storing its outcome.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EXTRACT_SECONDS = Histogram(
    "newswatch_page_extract_seconds",
    "Time spent extracting a page's main text.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
for _outcome in ("ok", "retry", "failed", "paused"):
    PAGES.labels(_outcome)

PRUNED = Counter(
    "newswatch_pruned_rows",
    "Rows pruned by retention in this process, by kind (hits, deliveries, articles, texts).",
    ["kind"],
)
for _kind in ("hits", "deliveries", "articles", "texts"):
    PRUNED.labels(_kind)
