"""Shingles of an article, from the rules tokeniser: the matcher and the story index read
text the same way (folded case, accents and widths).

Words of spaced scripts are units; a run of Chinese, Japanese or Thai contributes each of
its characters as a unit (at half the cost). A shingle is `SIZE` consecutive units, so
that a Latin text gives word 3-grams and a Chinese one character 3-grams. Only the title
and the opening `MAX_UNITS` units count: copies of a story share their opening far more
than their endings (sites cut, and append boilerplate), and it bounds the work per
article.

A shingle's value is a 32-bit mix of its units' CRC-32s, computed for many articles at
once (`Shingled`): hashing each unit once, and mixing them in numpy, costs a third of
hashing each shingle's text. Stable: every replica and every release agrees (a change
needs a migration that re-keys the story window, as 0011 did).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from rules import is_unspaced, tokens

SIZE = 3
MAX_UNITS = 200
_CHARS_PER_UNIT = 16  # generous: a word of a spaced script and its space
# Odd multipliers, one a position in the shingle: "a b c" and "c b a" differ.
_MIX = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D))


def units(text: str, limit: int = MAX_UNITS) -> list[str]:
    """The text's units, in order, up to `limit`: a character of an unspaced script
    counts half (two of them carry about what one word does)."""
    return units_and_prefix(text, limit, limit)[0]


def units_and_prefix(text: str, limit: int, prefix: int) -> tuple[list[str], int]:
    """`units(text, limit)`, and how many of them `units(text, prefix)` gives: for
    `prefix` <= `limit`, those are the first of them."""
    # Enough characters for `limit` units: tokenising a long text to keep its start is waste.
    found = tokens(text[: limit * _CHARS_PER_UNIT])
    if text.isascii():
        return found[:limit], min(prefix, len(found))
    out: list[str] = []
    budget = 2 * limit
    left = 2 * prefix  # the prefix's budget, spent alike until it runs out
    within = -1  # units in the prefix, once its budget has run out
    for token in found:
        if not token.isascii() and is_unspaced(token):
            take = token[:budget]
            if within < 0 and left <= len(take):
                within = len(out) + max(left, 0)
            left -= len(take)
            out.extend(take)
            budget -= len(take)
        else:
            out.append(token)
            budget -= 2
            left -= 2
            if within < 0 and left <= 0:
                within = len(out)
        if budget <= 0:
            break
    return out, len(out) if within < 0 else within


class Shingled:
    """The shingles of many runs of units, hashed together: `values[start:end]` for the
    (start, end) of each run in `spans`. Each unit is hashed once, however many runs it
    is in.

    A run is (units, start, count): `count` units from `start`. Runs over the same list
    (the same object, one after the other: an article's title and text, then its lead)
    share its hashes. A run shorter than `SIZE` units (but not empty) is one shingle of
    all of them; an empty one has none."""

    __slots__ = ("spans", "values")

    def __init__(self, runs: Sequence[tuple[list[str], int, int]]) -> None:
        flat: list[int] = []
        at: list[int] = []  # where each run's list starts in `flat`
        previous: list[str] | None = None
        for seq, _, _ in runs:
            if seq is not previous:
                at.append(len(flat))
                flat.extend(map(zlib.crc32, map(str.encode, seq)))
                previous = seq
            else:
                at.append(at[-1])
        hashed = np.array(flat, dtype=np.uint32)
        with np.errstate(over="ignore"):  # the mixing is arithmetic modulo 2^32
            windows = hashed[:-2] * _MIX[0] ^ hashed[1:-1] * _MIX[1] ^ hashed[2:] * _MIX[2]
        extra: list[int] = []  # the one shingle of each short run, after the windows
        spans: list[tuple[int, int]] = []
        for (_, start, count), first in zip(runs, at, strict=True):
            first += start
            if count >= SIZE:  # the windows that start at each of its units but the last two
                spans.append((first, first + count - SIZE + 1))
            elif count:
                spans.append((len(windows) + len(extra), len(windows) + len(extra) + 1))
                extra.append(_short(hashed[first : first + count]))
            else:
                spans.append((0, 0))
        self.values = np.concatenate([windows, np.array(extra, dtype=np.uint32)])
        self.spans = spans


def _short(hashed: np.ndarray) -> int:
    """The shingle of fewer than `SIZE` units: mixed as a window whose missing units hash
    to 0 (one unit, or two)."""
    with np.errstate(over="ignore"):
        value = np.uint32(0)
        for n, h in enumerate(hashed):
            value ^= h * _MIX[n]
    return int(value)


def shingles(seq: list[str]) -> frozenset[int]:
    """The shingle values of one run of units."""
    shingled = Shingled([(seq, 0, len(seq))])
    start, end = shingled.spans[0]
    return frozenset(shingled.values[start:end].tolist())
