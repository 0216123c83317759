"""Text normalisation and tokenising, shared by queries and documents.

Both sides are NFKC-normalised, case-folded and stripped of diacritics, so that `Huawei`,
`HUAWEI` and `Ｈｕａｗｅｉ` are one word and `cafe` matches `café`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters and digits, with the combining marks that belong to them; `_` and punctuation split.
_WORD = re.compile(
    r"[^\W_][\w\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670]*"
)
_NO_SPACE_SCRIPT = re.compile(
    r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
)


def fold(text: str) -> str:
    """NFKC, case folding and diacritics stripped."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in text if not unicodedata.combining(ch)))


def is_unspaced(word: str) -> bool:
    """True for a word in a script written without spaces (Han, kana, Thai)."""
    return bool(_NO_SPACE_SCRIPT.match(word))


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # folded
    start: int  # offsets into the NFC source text
    end: int


def tokenize(text: str) -> list[Token]:
    """Split text into folded word tokens with their offsets in `unicodedata.normalize('NFC', text)`."""
    out = []
    for m in _WORD.finditer(text):
        folded = fold(m.group())
        # NFKC can split a compatibility character into several words (e.g. "㍻").
        parts = _WORD.findall(folded) if not folded.isalnum() else [folded]
        out.extend(Token(p, m.start(), m.end()) for p in parts)
    return out
