"""MinHash signatures (datasketch's "affine32" scheme, vectorised) and their LSH band keys.

Two signatures per article. The whole one (title and opening text) has `BANDS` bands of
`ROWS` rows: articles whose shingle sets have Jaccard similarity s share a band key with
probability 1 - (1 - s^ROWS)^BANDS: 0.83 at s = 0.4 (the least similar copies of the test
sets), 0.94 at s = 0.5, 0.99 at s = 0.6, and 0.1% at s = 0.01 (unrelated texts that share a
few phrases). A story of several copies needs only one link per copy, so its pair recall
stays above 0.97 (bench.stories). The lead one (the first `LEAD_UNITS` units of the text
alone) has `LEAD_BANDS` bands: a short item and its long copy have a low Jaccard similarity
overall but nearly the same lead (0.93 at s = 0.7). Keys only propose candidates;
`same_story` confirms them on the exact shingles.

Every key is a row of the database's index, written for each new article: the bands are
as few as recall allows. They are the first bands of an earlier layout of 20 + 8 (the lead's
numbered from `_LEAD_FIRST_BAND`, its permutations the first of the whole's), so the keys
stored under it still match.
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass

import numpy as np

from stories.shingles import MAX_UNITS, shingles, units

BANDS = 10
LEAD_BANDS = 4
ROWS = 2
_LEAD_FIRST_BAND = 20  # the lead's bands are numbered from here
_PERMUTATIONS = 40  # drawn, of which the bands use the first: the draw fixes their values
LEAD_UNITS = 40
TITLE_UNITS = 50
SEED = 20261201  # fixed: keys stored by one process are compared by every other


@functools.cache
def _permutations(lead: bool) -> tuple[np.ndarray, np.ndarray]:
    """The first (a, b) of datasketch's "affine32" permutations for `SEED` and
    `_PERMUTATIONS`, drawn as its `MinHash._init_permutations` draws them (tests/stories
    pins the two together): the whole's, and the lead's (the first of those)."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, _PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, _PERMUTATIONS, dtype=np.uint32)
    cut = (LEAD_BANDS if lead else BANDS) * ROWS
    return a[:cut], b[:cut]


def minhash(found: frozenset[int], *, lead: bool = False) -> np.ndarray:
    """datasketch's `MinHash(scheme="affine32")` values of these 32-bit shingle hashes
    (fed through an identity hash function), in one vectorised step: datasketch's
    per-object set-up and per-item hash call cost more than the arithmetic."""
    a, b = _permutations(lead)
    hv = np.fromiter(found, dtype=np.uint32, count=len(found))
    # MurmurHash3's finaliser, as datasketch pre-mixes each input; arithmetic mod 2^32.
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return (np.multiply.outer(hv, a) + b).min(axis=0)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the story index knows of one article."""

    shingles: frozenset[int]  # of the title and the opening text
    lead: frozenset[int]  # of the first `LEAD_UNITS` units of the text alone
    band_keys: tuple[int, ...]  # signed 64-bit; empty for an empty article


def story_text(summary: str, content: str) -> str:
    """The text a story is recognised by: the full content when the feed carries it (its
    opening is the summary, more often than not), else the summary."""
    return content or summary


# A fingerprint as it crosses a process boundary: shingles as packed 32-bit arrays, which
# pickle and load in a third of the time of frozensets of ints.
PackedPrint = tuple[bytes, bytes, tuple[int, ...]]


def pack(fp: Fingerprint) -> PackedPrint:
    return array("I", fp.shingles).tobytes(), array("I", fp.lead).tobytes(), fp.band_keys


def unpack(packed: PackedPrint) -> Fingerprint:
    shingled, lead, keys = packed
    return Fingerprint(frozenset(array("I", shingled)), frozenset(array("I", lead)), keys)


def article_shingles(title: str, text: str) -> tuple[frozenset[int], frozenset[int]]:
    """The shingles `same_story` compares: the title's and the opening text's, and the
    lead's."""
    body = units(text, MAX_UNITS - TITLE_UNITS if title else MAX_UNITS)
    lead = body[:LEAD_UNITS] if text.isascii() else units(text, LEAD_UNITS)
    return shingles(units(title, TITLE_UNITS) + body if title else body), shingles(lead)


def fingerprint(title: str, text: str) -> Fingerprint:
    """Shingles, MinHash signatures and band keys of an article's title and text."""
    found, lead = article_shingles(title, text)
    if not found:
        return Fingerprint(found, lead, ())
    values, bands = minhash(found), _BAND_NUMBERS[:BANDS]
    if lead:
        values, bands = np.concatenate([values, minhash(lead, lead=True)]), _BAND_NUMBERS
    return Fingerprint(found, lead, _keys(values, bands))


_BAND_NUMBERS = np.concatenate(
    [np.arange(BANDS), np.arange(_LEAD_FIRST_BAND, _LEAD_FIRST_BAND + LEAD_BANDS)]
).astype(np.uint64)


def _keys(values: np.ndarray, bands: np.ndarray) -> tuple[int, ...]:
    """One key per band: a 64-bit mix of the band's number and its rows."""
    rows = values.astype(np.uint64).reshape(-1, ROWS)
    with np.errstate(over="ignore"):  # the mixing is arithmetic modulo 2^64
        key = ((rows[:, 0] << np.uint64(32)) | rows[:, 1]) ^ (bands * _GOLDEN)
        key = _mix64(key)
    return tuple(key.view(np.int64).tolist())


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every bit of a band's rows and number moves every key bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
