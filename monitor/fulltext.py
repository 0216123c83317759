"""Which items need their page: the per-feed `full_text` mode and the "short or cut off"
test of `auto`. Pure."""

from __future__ import annotations

import re

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
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def words(text: str) -> int:
    """Words in `text`; a CJK character counts as one, as these scripts have no spaces."""
    return len(_WORD.findall(text)) + len(_CJK.findall(text))


def looks_cut_off(text: str) -> bool:
    return bool(_CUT.search(text[-200:]))


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
