"""Matching right in every script: positions inside unspaced runs, invisible characters,
Korean particles, Lao, Khmer and Myanmar, symbols in names, and refused silent rewrites."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import Document, RuleIndex, RuleSyntaxError, evaluate, parse
from rules.text import _ASCII_WORD, spans, words

FAR = "字节跳动" + "在" * 60 + "华为"


def _matches(query: str, doc: Document) -> bool:
    """Both the evaluator and the index, which must agree."""
    parsed = parse(query)
    index = RuleIndex()
    index.add(1, parsed)
    found = evaluate(parsed, doc)
    assert (index.matching_ids(doc) == [1]) is found
    return found


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # Inside Chinese, Japanese and Thai runs each character is one position.
        ("华为 ONEAR/5 腾讯", "华为与腾讯合作", True),
        ("华为 ONEAR/2 腾讯", "华为与腾讯合作", False),
        ("腾讯 ONEAR/5 华为", "华为与腾讯合作", False),
        ("华为 NEAR/3 腾讯", "华为与腾讯合作", True),
        ("字节跳动 NEAR/1 华为", FAR, False),
        ("字节跳动 NEAR/64 华为", FAR, True),
        ("字节跳动 NEAR/63 华为", FAR, False),
        # A word counts at its first character: 投資 is 8 after ソ (6 kana, が, ai).
        ("ソフトバンク NEAR/8 投資", "ソフトバンクがＡＩ投資", True),
        ("ソフトバンク NEAR/7 投資", "ソフトバンクがＡＩ投資", False),
        ("กรุงเทพ NEAR/3 วันนี้", "ไปกรุงเทพมหานครวันนี้", False),
        ("มหานคร NEAR/6 วันนี้", "ไปกรุงเทพมหานครวันนี้", True),  # a mark joins its letter
        ('"华为 腾讯"', "华为腾讯", True),
        ('"华为 腾讯"', "华为与腾讯", False),
        ("华为 NEAR/2 huawei", "华为 Huawei", True),
        # Lao, Khmer and Myanmar are written without spaces too.
        ("ສະບາຍ", "ສະບາຍດີ", True),
        ("ບາຍດີ", "ສະບາຍດີ", True),
        ("ព្រះ", "ព្រះរាជាណាចក្រកម្ពុជា", True),
        ("កម្ពុជា", "ព្រះរាជាណាចក្រកម្ពុជា", True),
        ("မြန်မာ", "မြန်မာနိုင်ငံ", True),
        ("နိုင်ငံ", "မြန်မာနိုင်ငံ", True),
        # Korean attaches particles: a term matches the Hangul words it starts.
        ("삼성", "삼성은 새 칩을 발표했다", True),
        ("삼성", "삼성전자는 오늘", True),
        ("삼성*", "삼성전자는 오늘", True),
        ("전자", "삼성전자는 오늘", False),
        ('"삼성 칩"', "삼성은 칩을 발표했다", True),
        ("삼성 NEAR/1 칩", "삼성은 칩을 발표했다", True),
        # C++, C#, F# are words of their own, and AT&T is one word.
        ("C++", "Vitamin C is good", False),
        ("C++", "We hire C++ developers", True),
        ("C#", "Vitamin C", False),
        ("C#", "written in C# and F#", True),
        ("F#", "written in C# and F#", True),
        ("F#", "F sharp", False),
        ("C", "C++ only", False),
        ("AT&T", "AT&T results beat estimates", True),
        ("AT&T", "look at T-Mobile", False),
        ("at&t", "Earnings at AT&T", True),
    ],
)
def test_scripts_and_symbols(query: str, text: str, expected: bool) -> None:
    """Each query means what a reader of that script expects."""
    assert _matches(query, Document(text=text)) is expected


@pytest.mark.parametrize("invisible", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_invisible_characters_never_split_words(invisible: str) -> None:
    """Soft hyphens and zero-width characters sit inside words, in documents and queries."""
    doc = Document(title=f"Hua{invisible}wei zeigt neue Chips")
    assert _matches("huawei", doc)
    assert _matches('"huawei zeigt"', doc)
    assert not _matches("hua", doc)
    assert _matches(f"Hua{invisible}wei", Document(text="Huawei"))


def test_a_marked_word_keeps_its_invisible_characters() -> None:
    """The snippet marks the whole word as written."""
    index = RuleIndex()
    index.add(1, parse("huawei"))
    (hit,) = index.match(Document(text="Neue Chips von Hua\u00adwei heute"))
    assert "**Hua\u00adwei**" in hit.snippet


def test_snippets_mark_characters_inside_a_run() -> None:
    """In an unspaced run only the matched characters are marked."""
    index = RuleIndex()
    index.add(1, parse("华为 ONEAR/5 腾讯"))
    (hit,) = index.match(Document(text="华为与腾讯合作"))
    assert hit.snippet == "**华为**与**腾讯**合作"
    assert hit.matched_terms == ("华为", "腾讯")


def test_a_korean_term_is_labelled_as_written() -> None:
    """`삼성` is reported as `삼성`, and marks the whole word with its particle."""
    index = RuleIndex()
    index.add(1, parse("삼성"))
    (hit,) = index.match(Document(text="오늘 삼성전자는 발표했다"))
    assert hit.matched_terms == ("삼성",)
    assert "**삼성전자는**" in hit.snippet


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("*ware", 0),
        ("malware OR *ware", 11),
        ("hua*wei", 3),
        ('"chip*"', 5),
        ('huawei AND "ascend chip*"', 23),
        ("chip**", 4),
        ("title:", 0),
        ("huawei title:", 7),
        ("title: huawei", 0),
        ("lang:", 0),
        ("삼*", 0),
        ("ab*", 0),
    ],
)
def test_silent_rewrites_are_refused(query: str, position: int) -> None:
    """A form that used to be rewritten quietly is refused, pointing at the problem."""
    with pytest.raises(RuleSyntaxError) as caught:
        parse(query)
    assert caught.value.position == position


@pytest.mark.parametrize("query", ["삼성*", "chi*", "华为公*", "title:huawei", "title:(a OR b)"])
def test_the_forms_that_stay_accepted(query: str) -> None:
    """Prefixes of two Hangul syllables or three letters, and fields followed by a term."""
    parse(query)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_words_are_the_regexs(text: str) -> None:
    """ASCII text without "&", "+" or "#" takes a faster path (translate and split) than
    the word pattern: both find the same words, wherever the symbols are."""
    assert words(text) == _ASCII_WORD.findall(text.lower())
    plain = text.replace("&", " ").replace("+", " ").replace("#", " ")
    assert words(plain) == _ASCII_WORD.findall(plain.lower())
    assert [plain.lower()[a:b] for a, b in spans(plain)] == words(plain)
