"""Text normalisation and tokenising, shared by queries and documents.

Both sides are NFKC-normalised, case-folded and stripped of diacritics, so that `Huawei`,
`HUAWEI` and `Ｈｕａｗｅｉ` are one word and `cafe` matches `café`. Punctuation, hyphens
and `_` split words. A run of Han, kana or Thai becomes one token, matched by substring.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator


def _ranges(codepoints: list[int]) -> str:
    out, start, prev = [], codepoints[0], codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp != prev + 1:
            out.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = cp
        prev = cp
    return "".join(out)


# Python's \w leaves out combining marks (Thai vowels, Indic signs, decomposed accents):
# they must stay inside their word.
_MARKS = _ranges(
    [cp for cp in range(0x300, 0x20000) if unicodedata.category(chr(cp)).startswith("M")]
)
_UNSPACED = (
    "\u0e00-\u0e7f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0002fa1f"
)
_WORD = re.compile(rf"(?:[^\W_]|[{_MARKS}])+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_RUN = re.compile(rf"[{_UNSPACED}]+|[^{_UNSPACED}]+")
_IS_UNSPACED = re.compile(rf"[{_UNSPACED}]")
_RUNS_ONLY = re.compile(rf"[{_UNSPACED}]+")
# Joins tokens and runs: no query word can contain it, so no match spans two tokens.
BOUNDARY = "\x00"

# Diacritics are the marks of Latin, Greek, Cyrillic, Hebrew and Arabic; marks that carry
# meaning elsewhere (kana voicing, Thai tones, Indic vowels) are kept.
_DIACRITIC_RANGES = [
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05C7),
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06ED),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
]
_FOLD_TABLE: dict[int, str | None] = {
    cp: None for lo, hi in _DIACRITIC_RANGES for cp in range(lo, hi + 1)
}
# Letters that carry their accent inside (no decomposition), folded like Lucene's ASCII folding.
_FOLD_TABLE.update(
    {ord(k): v for k, v in {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ـ": ""}.items()}
)

_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000


def fold(text: str) -> str:
    """NFKC, case folding and diacritics stripped."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", text.translate(_FOLD_TABLE))


def is_unspaced(word: str) -> bool:
    """True for a word in a script written without spaces (Han, kana, Thai)."""
    return bool(_IS_UNSPACED.match(word))


def _fold_word(raw: str) -> tuple[str, ...]:
    """One raw word as folded tokens: NFKC may add punctuation, and a word mixing Latin and
    Han splits into one token per script run."""
    parts = _CACHE.get(raw)
    if parts is None:
        parts = tuple(run for word in _WORD.findall(fold(raw)) for run in _RUN.findall(word))
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[raw] = parts
    return parts


def words(text: str) -> list[str]:
    """The folded tokens of `text`, in order: the hot path, without offsets."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    out: list[str] = []
    for raw in _WORD.findall(text):
        parts = _fold_word(raw)
        if len(parts) == 1:
            out.append(parts[0])
        else:
            out.extend(parts)
    return out


def spans(text: str) -> Iterator[tuple[int, int]]:
    """The character spans in `text` of the tokens of `words(text)`, aligned with it."""
    if text.isascii():
        return map(re.Match.span, _ASCII_WORD.finditer(text.lower()))
    return (m.span() for m in _WORD.finditer(text) for _ in _fold_word(m.group()))


def find_word(text: str, word: str, limit: int) -> list[tuple[int, int]]:
    """Where `word` occurs as a whole token in lower-cased ASCII `text`, before `limit`:
    `str.find` is much faster than tokenising again."""
    out, at, size = [], text.find(word, 0, limit), len(word)
    while at != -1:
        end = at + size
        if (at == 0 or not _ASCII_WORD.match(text, at - 1)) and not _ASCII_WORD.match(text, end):
            out.append((at, end))
        at = text.find(word, end, limit)
    return out


def unspaced_runs(tokens: Iterable[str]) -> str:
    """The unspaced tokens, joined by BOUNDARY so that one `in` searches them all."""
    joined = BOUNDARY.join(tokens)
    return "" if joined.isascii() else BOUNDARY.join(_RUNS_ONLY.findall(joined))
