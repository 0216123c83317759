"""Which items `auto` sends for their page: short texts and teasers; `always`, `never`."""

from __future__ import annotations

import random
import re

import pytest

from monitor.fulltext import _CUT, looks_cut_off, wants_page, words
from monitor.normalise import Article

LONG = " ".join(f"word{n}" for n in range(130))


def _article(summary: str, content: str = "", url: str = "https://news.example/1") -> Article:
    return Article(
        item_key="k", url=url, canonical_url=url, title="t", summary=summary, content=content,
        language="", author="", published_at=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("summary", "content", "mode", "expected"),
    [
        ("Two lines of teaser.", "", "auto", True),
        (LONG, "", "auto", False),
        ("short", LONG, "auto", False),  # the content is the feed's text when there is one
        (LONG + " …", "", "auto", True),
        (LONG + " [...]", "", "auto", True),
        (LONG + " Read more", "", "auto", True),
        (LONG + " Continue reading »", "", "auto", True),
        (LONG + " Selengkapnya", "", "auto", True),
        ("华为" * 150, "", "auto", False),  # a CJK character counts as a word
        (LONG, "", "always", True),
        ("short", "", "never", False),
    ],
)
def test_wants_page(summary: str, content: str, mode: str, expected: bool) -> None:
    """`auto` fetches under FULL_TEXT_MIN_WORDS or for a cut-off text."""
    assert wants_page(_article(summary, content), mode=mode, min_words=120) is expected


def test_no_page_without_an_http_link() -> None:
    """An item without a web link has no page to fetch, whatever the mode."""
    assert not wants_page(_article("short", url="urn:x:1"), mode="always", min_words=120)
    assert words("Ein kurzer Satz, 华为公司.") == 4 + 4


_PIECES = [
    *"aZ09_ -.,;:!?'\"()\t\n\x1c\x7féáßſKü华为公司ひカ한»…[]\u0301\u00ad",
    "...", "word", " read more", " Read More", "learn more", " see more", "continue reading",
    "Continue Reading", "more »", "more  »", "[ ... ]", "[…]", "weiterlesen", "selengkapnya",
    "leer más", "LEER MÁS", "lire la suite", "leggi tutto", "xread more", "more»", "   ",
]  # fmt: skip


def _reference_words(text: str) -> int:
    return len(re.findall(r"\w+", text)) + len(re.findall(r"[\u3040-\u30ff\u3400-\u9fff]", text))


def test_word_count_and_teaser_ending_match_plain_regular_expressions() -> None:
    """The fast paths (ASCII words counted by `str.split`, the teaser search started
    near the end) decide as the plain expressions do, on generated texts."""
    rng = random.Random(13)
    for _ in range(4000):
        text = "".join(rng.choices(_PIECES, k=rng.randint(0, 120)))
        assert words(text) == _reference_words(text), repr(text)
        assert looks_cut_off(text) is bool(_CUT.search(text[-200:])), repr(text)
