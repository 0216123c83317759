"""The parser: precedence, fields, prefixes, and errors a person understands."""

from __future__ import annotations

import pytest

from rules import RuleSyntaxError, parse
from rules.ast import And, Lang, Near, Not, Or, Phrase, Term


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("a b", And((Term("a"), Term("b")))),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a AND b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("NOT a b", And((Not(Term("a")), Term("b")))),
        ("-a b", And((Not(Term("a")), Term("b")))),
        ("a NEAR b c", And((Near(Term("a"), Term("b"), 10), Term("c")))),
        ("a ONEAR/3 b", Near(Term("a"), Term("b"), 3, ordered=True)),
        ("a NEAR/5 b OR c", Or((Near(Term("a"), Term("b"), 5), Term("c")))),
        ("title:a b", And((Term("a", "title"), Term("b")))),
        ("title:(a OR b)", Or((Term("a", "title"), Term("b", "title")))),
        ('url:"a b"', Phrase(("a", "b"), "url")),
        ("lang:zh-CN x", And((Lang("zh-cn"), Term("x")))),
        ("Ascend-910B", Phrase(("ascend", "910b"))),
        ("chip*", Term("chip", prefix=True)),
        ("华为", Term("华为", unspaced=True)),
        ('"华为 公司"', Term("华为公司", unspaced=True)),
        ("a and b", And((Term("a"), Term("and"), Term("b")))),
        ("NEARBY", Term("nearby")),
    ],
)
def test_tree(query: str, tree: object) -> None:
    """Precedence is NOT > NEAR > AND > OR; only upper-case words are operators."""
    assert parse(query).root == tree


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("Huawei OR chips AND", 19, "expected a term after AND at 19"),
        ("ByteDance AND OR Huawei", 14, "expected a term after AND at 14"),
        ("Huawei OR chips AND   x)", 23, "unbalanced ')'"),
        ("(a AND b", 0, "unbalanced '('"),
        ("a OR )", 5, "expected a term after OR"),
        ('"open phrase', 0, "unterminated phrase"),
        ("NOT x", 0, "at least one term that must appear"),
        ("-x -y", 0, "at least one term that must appear"),
        ("a OR NOT b", 0, "at least one term that must appear"),
        ("", 0, "empty query"),
        ("ab*", 0, "at least 3 letters"),
        ("a NEAR/0 b", 7, "NEAR/n needs a number from 1 to 100"),
        ("a NEAR/101 b", 7, "from 1 to 100"),
        ("a ONEAR/x b", 8, "ONEAR/n needs a number"),
        ("a NEAR -b", 7, "expected a term after NEAR"),
        ("(a -b) NEAR c", 7, "cannot take a NOT"),
        ("a NEAR url:b", 2, "title and text words"),
        ('lang:"zh"', 5, "language code"),
        ("lang:!!", 5, "language code"),
        ("!!!", 0, "has no letters or digits"),
        ("AND a", 0, "expected a term, found 'AND'"),
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
        parse("Huawei OR chips AND")
    assert info.value.caret() == "Huawei OR chips AND\n                   ^"


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        ("x " * 9_999 + "x", True),  # 19,999 characters
        ("x" * 20_000, True),
        ("x" * 20_001, False),
        ("(" * 50 + "x" + ")" * 50, True),
        ("(" * 51 + "x" + ")" * 51, False),
        ("NOT " * 60 + "x y", False),
        ("-" * 60 + "x y", False),
        ("a" + " NEAR b" * 60, False),
        (" OR ".join(["x"] * 4_000), True),  # wide is fine, only depth is limited
    ],
)
def test_limits(query: str, ok: bool) -> None:
    """Rules over 20,000 characters or nested over 50 levels are refused, with a position."""
    if ok:
        parse(query)
        return
    with pytest.raises(RuleSyntaxError) as info:
        parse(query)
    assert "20000" in str(info.value) or "50 levels" in str(info.value)
    assert 0 < info.value.position <= 20_000
