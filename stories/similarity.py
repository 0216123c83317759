"""The check every LSH candidate passes before two articles become one story.

Precision first: LSH only proposes. Two articles are one story when each is mostly made
of the other's shingles (over `MIN_OVERLAP` of the larger one's), or when the smaller is
mostly contained in the larger AND both open the same way (a short item and its long copy: the same lead). A follow-up that
reuses a background paragraph contains much of the old story too, but it leads with the
new facts. Either way they must share at least `MIN_SHARED` shingles, about a dozen
words in sequence: two short items about one company share names and stock phrases,
not a paragraph.
"""

from __future__ import annotations

from stories.fingerprint import Fingerprint

MIN_OVERLAP = 0.55
MIN_CONTAINMENT = 0.5
MIN_LEAD_JACCARD = 0.6
MIN_SHARED = 10


def similarity(a: frozenset[int], b: frozenset[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """Are these two articles copies of one story?"""
    shared = len(a.shingles & b.shingles)
    if shared < MIN_SHARED:
        return False
    if shared >= MIN_OVERLAP * max(len(a.shingles), len(b.shingles)):
        return True
    containment = shared / min(len(a.shingles), len(b.shingles))
    return containment >= MIN_CONTAINMENT and similarity(a.lead, b.lead)[0] >= MIN_LEAD_JACCARD
