"""The check every LSH candidate passes before two articles become one story.

Precision first: LSH only proposes. Two articles are one story when their exact shingle
sets are near-duplicates (Jaccard), or when the smaller one is mostly contained in the
larger (a short item and its long copy). Either way they must share at least
`MIN_SHARED` shingles, about a dozen words in sequence: two short items about one
company share names and stock phrases, not a paragraph.
"""

from __future__ import annotations

MIN_JACCARD = 0.4
MIN_CONTAINMENT = 0.7
MIN_SHARED = 10


def similarity(a: frozenset[int], b: frozenset[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def same_story(a: frozenset[int], b: frozenset[int]) -> bool:
    """Are these two shingle sets copies of one story?"""
    if len(a) < MIN_SHARED or len(b) < MIN_SHARED or len(a & b) < MIN_SHARED:
        return False
    jaccard, containment = similarity(a, b)
    return jaccard >= MIN_JACCARD or containment >= MIN_CONTAINMENT
