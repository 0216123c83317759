"""Near-duplicate detection: which articles tell one story.

Pure: no I/O, no database, no clock. An article's `Fingerprint` holds the shingles of
its title and opening text and the LSH band keys of their MinHash; articles that share a
band key are candidates, and `same_story` confirms a candidate on the exact shingles.
"""

from stories.fingerprint import (
    BANDS,
    Fingerprint,
    PackedPrint,
    article_shingles,
    fingerprint,
    fingerprints,
    pack,
    story_text,
    unpack,
)
from stories.similarity import same_story, similarity

__all__ = [
    "BANDS",
    "Fingerprint",
    "PackedPrint",
    "article_shingles",
    "fingerprint",
    "fingerprints",
    "pack",
    "same_story",
    "similarity",
    "story_text",
    "unpack",
]
