"""MinHash signatures (datasketch) and their LSH band keys.

Two signatures per article. The whole one (title and opening text) has `BANDS` bands of
`ROWS` rows: articles whose shingle sets have Jaccard similarity s share a band key with
probability 1 - (1 - s^ROWS)^BANDS: 0.97 at s = 0.4 (the least similar copies of the test
sets), 0.997 at s = 0.5, and 0.2% at s = 0.01 (unrelated texts that share a few phrases). The lead one (the first `LEAD_UNITS`
units of the text alone) has `LEAD_BANDS` bands: a short item and its long copy have a
low Jaccard similarity overall but nearly the same lead (0.99 at s = 0.7). Keys only propose candidates;
`same_story` confirms them on the exact shingles.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

from stories.shingles import MAX_UNITS, shingles, units

BANDS = 20
LEAD_BANDS = 8
ROWS = 2
LEAD_UNITS = 40
TITLE_UNITS = 50
_SEED = 20261201  # fixed: keys stored by one process are compared by every other


@functools.cache
def _minhash() -> type[MinHash]:
    """datasketch, imported on first use: its package pulls in scipy (seconds on a busy
    machine), which every CLI command would otherwise pay."""
    from datasketch import MinHash

    return MinHash


@functools.cache
def _permutations(lead: bool) -> np.ndarray:
    full = _minhash()(num_perm=BANDS * ROWS, seed=_SEED, scheme="affine32").permutations
    return full[:, : LEAD_BANDS * ROWS] if lead else full


def _identity(value: int) -> int:
    return value  # the shingles are hashed already (datasketch mixes them again)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the story index knows of one article."""

    shingles: frozenset[int]  # of the title and the opening text
    lead: frozenset[int]  # of the first `LEAD_UNITS` units of the text alone
    band_keys: tuple[int, ...]  # signed 64-bit; empty for an empty article


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
    keys = _keys(found, _permutations(False), first_band=0)
    if lead:
        keys += _keys(lead, _permutations(True), first_band=BANDS)
    return Fingerprint(found, lead, keys)


def _keys(found: frozenset[int], permutations: np.ndarray, *, first_band: int) -> tuple[int, ...]:
    """One key per band: a 64-bit mix of the band's number and its rows."""
    minhash = _minhash()(
        num_perm=permutations.shape[1],
        seed=_SEED,
        hashfunc=_identity,
        permutations=permutations,
        scheme="affine32",
    )
    minhash.update_batch(found)
    rows = minhash.hashvalues.astype(np.uint64).reshape(-1, ROWS)
    bands = np.arange(first_band, first_band + len(rows), dtype=np.uint64)
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
