"""Text normalisation and tokenising, shared by queries and documents.

Both sides are NFKC-normalised, case-folded and stripped of diacritics, so that `Huawei`,
`HUAWEI` and `Ｈｕａｗｅｉ` are one word and `cafe` matches `café`. Punctuation, hyphens
and `_` split words; soft hyphens and zero-width characters do not. `C++`, `C#` and `F#`
are words of their own, and `&` between letters joins them (`AT&T`). In scripts written
without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each character, with its combining
marks, is one token: a word there is the sequence of its characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator


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
# Thai, Lao, Myanmar, Khmer, kana, Han (and their compatibility and extension blocks).
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua9e0-\ua9ff\uaa60-\uaa7f\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
)
_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"
# Soft hyphen, zero-width space, non-joiner and joiner, word joiner, BOM: invisible, they
# sit inside words (German and Dutch headlines hyphenate with U+00AD) and fold away.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_LETTER = rf"(?:[^\W_]|[{_MARKS}{INVISIBLE}])"
# `C++`, `C#`, `F#`: one letter and its suffix, not followed by a letter or digit.
_WORD = re.compile(rf"[A-Za-z](?:\+\+|#)(?!{_LETTER})|{_LETTER}+(?:&{_LETTER}+)*")
_ASCII_WORD = re.compile(r"[a-z](?:\+\+|#)(?![a-z0-9])|[a-z0-9]+(?:&[a-z0-9]+)*")
_ASCII_JOINS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789&+#")
# Letters to lower case, digits kept, every other byte a space: for ASCII text without
# "&", "+" or "#", `_ASCII_WORD`'s words are the runs of letters and digits, and
# translating and splitting the bytes finds them in a third of the regex's time.
_ASCII_SPLIT = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256)
)
_RUN = re.compile(rf"[{_UNSPACED}]+|[^{_UNSPACED}]+")
_CHAR = re.compile(rf"[{_UNSPACED}][{_MARKS}]*")
_IS_UNSPACED = re.compile(rf"[{_UNSPACED}]")
_ALL_HANGUL = re.compile(rf"[{_HANGUL}]+")
# Joins the title and the body: no query word can contain it, so no phrase spans both.
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
_FOLD_TABLE.update(dict.fromkeys(map(ord, INVISIBLE)))

_CACHE: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int], ...] | None]] = {}
_CACHE_LIMIT = 200_000


def fold(text: str) -> str:
    """NFKC, case folding and diacritics stripped."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", text.translate(_FOLD_TABLE))


def is_unspaced(word: str) -> bool:
    """True for a word in a script written without spaces (Han, kana, Thai, Lao, Khmer,
    Myanmar)."""
    return bool(_IS_UNSPACED.match(word))


def is_hangul(word: str) -> bool:
    """True for a word all in Hangul: Korean attaches particles, so it matches as a prefix."""
    return bool(_ALL_HANGUL.fullmatch(word))


def characters(word: str) -> list[str]:
    """An unspaced word as its tokens: one per character, with its combining marks."""
    return _CHAR.findall(word)


def _fold_word(raw: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...] | None]:
    """One raw word as folded tokens, and their offsets in `raw` when folding kept its
    length (else None: each token spans the whole word). NFKC may add punctuation, and a
    word mixing scripts splits into one token per run, and an unspaced run per character."""
    cached = _CACHE.get(raw)
    if cached is None:
        folded = fold(raw)
        parts: list[str] = []
        for word in _WORD.findall(folded):
            for run in _RUN.findall(word):
                if is_unspaced(run):
                    parts.extend(characters(run))
                else:
                    parts.append(run)
        offsets: list[tuple[int, int]] | None = None
        if len(folded) == len(raw):
            offsets, at = [], 0
            for part in parts:
                at = folded.find(part, at)
                offsets.append((at, at + len(part)))
                at += len(part)
        cached = tuple(parts), tuple(offsets) if offsets is not None else None
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[raw] = cached
    return cached


def words(text: str) -> list[str]:
    """The folded tokens of `text`, in order: the hot path, without offsets."""
    if text.isascii():
        if "&" in text or "+" in text or "#" in text:
            return _ASCII_WORD.findall(text.lower())
        return text.encode().translate(_ASCII_SPLIT).decode().split()
    out: list[str] = []
    for raw in _WORD.findall(text):
        parts = _fold_word(raw)[0]
        if len(parts) == 1:
            out.append(parts[0])
        else:
            out.extend(parts)
    return out


def spans(text: str) -> Iterator[tuple[int, int]]:
    """The character spans in `text` of the tokens of `words(text)`, aligned with it."""
    if text.isascii():
        return map(re.Match.span, _ASCII_WORD.finditer(text.lower()))
    return _unicode_spans(text)


def _unicode_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in _WORD.finditer(text):
        parts, offsets = _fold_word(m.group())
        start, end = m.span()
        if offsets is None:
            for _ in parts:
                yield start, end
        else:
            for s, e in offsets:
                yield start + s, start + e


def find_word(text: str, word: str, limit: int) -> list[tuple[int, int]]:
    """Where `word` occurs as a whole token in lower-cased ASCII `text`, before `limit`:
    `str.find` is much faster than tokenising again."""
    out, at, size = [], text.find(word, 0, limit), len(word)
    while at != -1:
        end = at + size
        start = at
        while start and text[start - 1] in _ASCII_JOINS:  # the start of this run of word
            start -= 1  # characters, from which tokens are cut
        m = _ASCII_WORD.search(text, start)
        while m is not None and m.start() < at:
            m = _ASCII_WORD.search(text, m.end())
        if m is not None and m.span() == (at, end):
            out.append((at, end))
        at = text.find(word, end, limit)
    return out
