"""Poll and hit metrics, counted where polls finish. On the default registry, created once
per process at import, so that many pollers (or test apps) never register a series twice."""

from __future__ import annotations

from prometheus_client import Counter

FEED_POLLS = Counter(
    "newswatch_feed_polls",
    "Feed polls finished by this process, by result (ok, not_modified, unchanged, error).",
    ["result"],
)
HITS = Counter("newswatch_hits", "Hits recorded by this process (new rule-article matches).")

for _result in ("ok", "not_modified", "unchanged", "error"):
    FEED_POLLS.labels(_result)  # exist from the start, reading 0
