"""Shingles of an article, from the rules tokeniser: the matcher and the story index read
text the same way (folded case, accents and widths).

Words of spaced scripts are units; a run of Chinese, Japanese or Thai contributes each of
its characters as a unit (at half the cost). A shingle is `SIZE` consecutive units, so that a Latin text
gives word 3-grams and a Chinese one character 3-grams. Only the title and the opening
`MAX_UNITS` units count: copies of a story share their opening far more than their
endings (sites cut, and append boilerplate), and it bounds the work per article.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from rules import is_unspaced, tokens

SIZE = 3
MAX_UNITS = 200
_CHARS_PER_UNIT = 16  # generous: a word of a spaced script and its space


def units(text: str, limit: int = MAX_UNITS) -> list[str]:
    """The text's units, in order, up to `limit`: a character of an unspaced script
    counts half (two of them carry about what one word does)."""
    # Enough characters for `limit` units: tokenising a long text to keep its start is waste.
    found = tokens(text[: limit * _CHARS_PER_UNIT])
    if text.isascii():
        return found[:limit]
    out: list[str] = []
    budget = 2 * limit
    for token in found:
        if not token.isascii() and is_unspaced(token):
            take = token[:budget]
            out.extend(take)
            budget -= len(take)
        else:
            out.append(token)
            budget -= 2
        if budget <= 0:
            break
    return out


def shingles(seq: Sequence[str]) -> frozenset[int]:
    """The 32-bit hashes of the shingles of `seq` (a stable hash: every replica agrees)."""
    if len(seq) < SIZE:
        grams: Iterable[str] = [" ".join(seq)] if seq else []
    else:  # map and zip, not a comprehension: a third less time per article
        grams = map(" ".join, zip(*(seq[i:] for i in range(SIZE)), strict=False))  # shifted
    return frozenset(map(zlib.crc32, map(str.encode, grams)))
