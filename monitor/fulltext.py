"""Which items need their page: the per-feed `full_text` mode and the "short or cut off"
test of `auto`. Pure."""

from __future__ import annotations

import re
import string

from monitor.normalise import Article

AUTO, ALWAYS, NEVER = "auto", "always", "never"
MODES = (AUTO, ALWAYS, NEVER)

_WORD = re.compile(r"\w+")
# The endings of a teaser: an ellipsis, "[…]", "Read more", "Continue reading" and kin.
_CUT = re.compile(
    r"(?:\.\.\.|…|\[\s*(?:\.\.\.|…)\s*\]|\b(?:read|learn|see) more|\bcontinue reading"
    r"|\bmore\s*»|\bweiterlesen|\bselengkapnya|\bleer más|\blire la suite|\bleggi tutto)"
    r"[\s\W]*$",
    re.IGNORECASE,
)
# The longest run of `_CUT` before the non-word characters that end a text: its words
# ("continue reading"); its brackets, dots, "»" and spaces are non-word characters.
_CUT_REACH = 16
_TRAILING = re.compile(r"[\s\W]*")  # on the reversed text: the non-word run that ends it
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# For ASCII text: every byte `_WORD` does not match becomes a space, so that
# `bytes.split` counts its runs in C, without a match object per word (a table of bytes
# translates several times faster than a str's mapping).
_WORD_BYTES = (string.ascii_letters + string.digits + "_").encode()
_ASCII_NON_WORD = bytes(c if c in _WORD_BYTES else 32 for c in range(256))


def words(text: str) -> int:
    """Words in `text`; a CJK character counts as one, as these scripts have no spaces."""
    if text.isascii():  # no CJK; the ASCII word characters are `_WORD`'s
        return len(text.encode().translate(_ASCII_NON_WORD).split())
    return len(_WORD.findall(text)) + len(_CJK.findall(text))


def looks_cut_off(text: str) -> bool:
    """Whether the last 200 characters end like a teaser. `_CUT` only matches where the
    text's final non-word run starts at most `_CUT_REACH` characters later, so the
    search starts there, not at each of the 200 (that cost 5x the whole `auto` test)."""
    tail = text[-200:]
    trailing = _TRAILING.match(tail[::-1])
    end = len(tail) - (trailing.end() if trailing else 0)
    return bool(_CUT.search(tail, max(0, end - _CUT_REACH)))


def wants_page(article: Article, *, mode: str, min_words: int) -> bool:
    """Whether to fetch this item's page: always, never, or (auto) when the feed's text
    is under `min_words` or ends like a teaser."""
    if mode == NEVER or not article.url.startswith(("http://", "https://")):
        return False
    if mode == ALWAYS:
        return True
    text = article.content or article.summary
    # Twice as many spaces as words needed: long enough without counting (the common
    # case of a feed with full articles costs one C-level scan).
    if text.count(" ", 0, min_words * 40) < 2 * min_words and words(text) < min_words:
        return True
    return looks_cut_off(text)
