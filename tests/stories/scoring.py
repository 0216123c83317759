"""Pair precision and recall of a clustering against the known stories."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations


def pair_scores(truth: Mapping[str, str], found: Mapping[str, int]) -> tuple[float, float]:
    """(precision, recall) over all pairs of items: a pair is positive when both items
    are in one story."""
    tp = fp = fn = 0
    for a, b in combinations(sorted(truth), 2):
        same, merged = truth[a] == truth[b], found[a] == found[b]
        tp += same and merged
        fp += merged and not same
        fn += same and not merged
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall
