"""The rule language's first slice: AND, OR, NOT, phrases, parentheses, errors."""

from __future__ import annotations

import pytest

from rules import Document, RuleIndex, RuleSyntaxError, evaluate, parse

DOC = Document(
    title="ByteDance dan Huawei jajaki kerja sama",
    text="Perusahaan induk TikTok berunding soal chip Ascend-910B. Café baru dibuka.",
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ByteDance AND Huawei", True),
        ("bytedance huawei", True),
        ("ByteDance AND Apple", False),
        ("Apple OR Huawei", True),
        ("Huawei NOT TikTok", False),
        ("Huawei -Apple", True),
        ('"Ascend 910B"', True),
        ('"910B Ascend"', False),
        ("(Apple OR ByteDance) AND (Huawei OR Xiaomi)", True),
        ("cafe", True),
        ("ai", False),
        ("HUAWEI", True),
        ("Ｈｕａｗｅｉ", True),
        ("Huawei and Apple", False),
    ],
)
def test_evaluate(query: str, expected: bool) -> None:
    """Each operator matches as documented."""
    assert evaluate(parse(query), DOC) is expected


def test_cjk_substring() -> None:
    """A Chinese term matches inside a run of Han characters."""
    assert evaluate(parse("华为"), Document(text="华为公司发布新芯片"))


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("(a AND b", 0, "unbalanced"),
        ("a AND", 5, "expected a term after AND"),
        ("a OR )", 5, "expected a term after OR"),
        ("a )", 2, "unbalanced ')'"),
        ('"open phrase', 0, "unterminated phrase"),
        ("NOT x", 0, "at least one term"),
        ("", 0, "empty"),
    ],
)
def test_syntax_errors(query: str, position: int, message: str) -> None:
    """Errors carry the position and a message a person understands."""
    with pytest.raises(RuleSyntaxError) as info:
        parse(query)
    assert info.value.position == position
    assert message in str(info.value)


def test_caret_points_at_error() -> None:
    """The caret rendering puts ^ under the bad spot."""
    with pytest.raises(RuleSyntaxError) as info:
        parse("ByteDance AND")
    assert info.value.caret() == "ByteDance AND\n             ^"


def test_index_returns_terms_and_marked_snippet() -> None:
    """A hit names the matched terms and marks them in the snippet."""
    index = RuleIndex()
    index.add(1, parse("ByteDance AND Huawei"))
    index.add(2, parse("Apple"))
    [hit] = index.match(DOC)
    assert hit.rule_id == 1
    assert hit.matched_terms == ("bytedance", "huawei")
    assert "**ByteDance**" in hit.snippet and "**Huawei**" in hit.snippet
    index.remove(1)
    assert index.match(DOC) == []
