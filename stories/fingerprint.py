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
numbered from `_LEAD_FIRST_BAND`, its permutations the first of the whole's). Keys stored by
one release are looked up by the next: a change to them needs a migration that re-keys the
index (0011 did, when shingles became mixes of unit hashes).
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Iterable, Sequence

import numpy as np

from stories.shingles import MAX_UNITS, Shingled, units, units_and_prefix

BANDS = 10
LEAD_BANDS = 4
ROWS = 2
_LEAD_FIRST_BAND = 20  # the lead's bands are numbered from here
_PERMUTATIONS = 40  # drawn, of which the bands use the first: the draw fixes their values
LEAD_UNITS = 40
TITLE_UNITS = 50
SEED = 20261201  # fixed: keys stored by one process are compared by every other


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The first (a, b) of datasketch's "affine32" permutations for `SEED` and
    `_PERMUTATIONS`, drawn as its `MinHash._init_permutations` draws them (tests/stories
    pins the two together): the whole's; the lead's are the first of those."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, _PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, _PERMUTATIONS, dtype=np.uint32)
    return a[: BANDS * ROWS], b[: BANDS * ROWS]


def minhash(found: frozenset[int] | np.ndarray, *, lead: bool = False) -> np.ndarray:
    """datasketch's `MinHash(scheme="affine32")` values of these 32-bit shingle hashes
    (fed through an identity hash function), by the arithmetic `fingerprints` uses: the
    whole's permutations, or the lead's."""
    cut = (LEAD_BANDS if lead else BANDS) * ROWS
    return _minima(_premixed(found), np.array([0]))[0, :cut]


def _minima(premixed: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The MinHash values under the whole's permutations of each run of `premixed` from
    one of `starts` to the next (or to the end), a row a run: all in one vectorised step,
    for datasketch's per-object set-up and per-item hash call, and numpy's cost per
    call, are more than the arithmetic. A repeated hash changes no minimum."""
    a, b = _permutations()
    product = np.multiply.outer(premixed, a)
    product += b
    return np.minimum.reduceat(product, starts, axis=0)


def _premixed(found: frozenset[int] | np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, as datasketch pre-mixes each input; arithmetic mod 2^32."""
    if isinstance(found, np.ndarray):
        hv = found.astype(np.uint32)  # a copy: the steps below work in place
    else:
        hv = np.fromiter(found, dtype=np.uint32, count=len(found))
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return hv


class Fingerprint:
    """What the story index knows of one article: its band keys (signed 64-bit; none for
    an empty article), and the shingles a candidate is confirmed on: of the title and the
    opening text, and of the first `LEAD_UNITS` units of the text alone (the lead).

    The shingles stay packed, as 32-bit arrays, until a check needs them as sets. A
    frozenset is a container that the cyclic GC walks element by element, and a set per
    article of every poll waiting for the writer made ingest's collections several times
    dearer; most articles are never checked against anything."""

    __slots__ = ("_sets", "band_keys", "packed")

    def __init__(
        self,
        shingles: Iterable[int] | bytes,
        lead: Iterable[int] | bytes,
        band_keys: tuple[int, ...] = (),
    ) -> None:
        self.packed = (_packed(shingles), _packed(lead))
        self.band_keys = band_keys
        self._sets: tuple[frozenset[int], frozenset[int]] | None = None
        if isinstance(shingles, frozenset) and isinstance(lead, frozenset):
            self._sets = (shingles, lead)  # made as sets: no need to make them again

    @property
    def shingles(self) -> frozenset[int]:
        return self._as_sets()[0]

    @property
    def lead(self) -> frozenset[int]:
        return self._as_sets()[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.band_keys == other.band_keys and self._as_sets() == other._as_sets()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and not immutable

    def __repr__(self) -> str:
        return (
            f"Fingerprint({len(self.packed[0])} shingles, {len(self.packed[1])} in the lead,"
            f" {len(self.band_keys)} band keys)"
        )

    def _as_sets(self) -> tuple[frozenset[int], frozenset[int]]:
        if self._sets is None:
            self._sets = (frozenset(self.packed[0]), frozenset(self.packed[1]))
        return self._sets


def _packed(values: Iterable[int] | bytes) -> array[int]:
    """32-bit values as an array: from an array (as is), packed bytes, or any ints."""
    if isinstance(values, array):
        return values
    return array("I", values)  # bytes go to frombytes


def story_text(summary: str, content: str) -> str:
    """The text a story is recognised by: the full content when the feed carries it (its
    opening is the summary, more often than not), else the summary."""
    return content or summary


# A fingerprint as it crosses a process boundary: its packed shingles as bytes, which
# pickle and load in a third of the time of frozensets of ints.
PackedPrint = tuple[bytes, bytes, tuple[int, ...]]


def pack(fp: Fingerprint) -> PackedPrint:
    return fp.packed[0].tobytes(), fp.packed[1].tobytes(), fp.band_keys


def unpack(packed: PackedPrint) -> Fingerprint:
    shingled, lead, keys = packed
    return Fingerprint(shingled, lead, keys)


def article_shingles(title: str, text: str) -> tuple[frozenset[int], frozenset[int]]:
    """The shingles `same_story` compares: the title's and the opening text's, and the
    lead's."""
    fp = fingerprints([(title, text)], keys=False)[0]
    return fp.shingles, fp.lead


def fingerprint(title: str, text: str) -> Fingerprint:
    """Shingles, MinHash signatures and band keys of an article's title and text."""
    return fingerprints([(title, text)])[0]


def _runs(title: str, text: str) -> tuple[tuple[list[str], int, int], tuple[list[str], int, int]]:
    """An article's two runs of units (see `Shingled`): its title's and opening text's,
    and its lead's, the first `LEAD_UNITS` of the text alone."""
    heading = units(title, TITLE_UNITS) if title else []
    body, lead = units_and_prefix(text, MAX_UNITS - TITLE_UNITS if title else MAX_UNITS, LEAD_UNITS)
    seq = heading + body
    return (seq, 0, len(seq)), (seq, len(heading), lead)


def fingerprints(texts: Sequence[tuple[str, str]], *, keys: bool = True) -> list[Fingerprint]:
    """`fingerprint` of each (title, text), all of them in one set of vectorised steps
    (a feed's items at once): numpy's cost per call, not per value, was most of an
    article's. Without `keys`, the shingles alone."""
    shingled = Shingled([run for title, text in texts for run in _runs(title, text)])
    values = shingled.values
    parts = [values[start:end].tobytes() for start, end in shingled.spans]
    if not keys or not len(values):
        return [Fingerprint(parts[2 * n], parts[2 * n + 1]) for n in range(len(texts))]
    # Each run's MinHash values: reduceat takes the minimum from each index to the next,
    # so every run's start, then its end (a row of its own, not used), one run a pair.
    # A row more than the values: a last run's end indexes it.
    bounds = np.array(shingled.spans, dtype=np.intp).reshape(-1)
    lows = _minima(_premixed(np.append(values, np.uint32(0))), bounds)[0::2]
    # Each article's signature: the whole's values, then the lead's (its permutations
    # are the whole's first); an article without a lead keeps only the whole's keys.
    signatures = np.concatenate(
        [lows[0::2, : BANDS * ROWS], lows[1::2, : LEAD_BANDS * ROWS]], axis=1
    )
    made = []
    for n, k in enumerate(_keys(signatures, _BAND_NUMBERS)):
        whole, lead = parts[2 * n], parts[2 * n + 1]
        made.append(Fingerprint(whole, lead, tuple(k if lead else k[:BANDS]) if whole else ()))
    return made


_BAND_NUMBERS = np.concatenate(
    [np.arange(BANDS), np.arange(_LEAD_FIRST_BAND, _LEAD_FIRST_BAND + LEAD_BANDS)]
).astype(np.uint64)


def _keys(signatures: np.ndarray, bands: np.ndarray) -> list[list[int]]:
    """One key per band of each signature (a row): a 64-bit mix of the band's number and
    its rows."""
    rows = signatures.astype(np.uint64).reshape(len(signatures), -1, ROWS)
    with np.errstate(over="ignore"):  # the mixing is arithmetic modulo 2^64
        key = ((rows[..., 0] << np.uint64(32)) | rows[..., 1]) ^ (bands * _GOLDEN)
        key = _mix64(key)
    return key.view(np.int64).tolist()


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every bit of a band's rows and number moves every key bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
