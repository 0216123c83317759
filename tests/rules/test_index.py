"""The rule index: hits, explanations, snippets, incremental changes and metadata filters."""

from __future__ import annotations

import pytest

from rules import MARK_CLOSE, MARK_OPEN, Document, RuleIndex, analyse, parse

LONG = Document(
    title="Chip news",
    text=" ".join(["filler"] * 100)
    + " Huawei and ByteDance met; Huawei again. "
    + " ".join(["tail"] * 100),
)


def _index(*queries: str, **scopes: list[int]) -> RuleIndex:
    index = RuleIndex()
    for rule_id, query in enumerate(queries, start=1):
        index.add(rule_id, parse(query), feed_ids=scopes.get(f"r{rule_id}"))
    return index


@pytest.mark.parametrize(
    ("query", "doc", "terms", "marked"),
    [
        (
            "ByteDance AND Huawei",
            Document(title="Huawei meets ByteDance", text="talks"),
            ("bytedance", "huawei"),
            ["Huawei", "ByteDance"],
        ),
        ("华为", Document(text="华为公司发布新芯片"), ("华为",), ["华为"]),
        ('"Ascend 910B"', Document(text="the Ascend-910B chip"), ("ascend 910b",), ["Ascend-910B"]),
        ("cafe OR tea", Document(text="Le Café"), ("cafe",), ["Café"]),
        (
            "accel*",
            Document(text="accelerators accelerate"),
            ("accel*",),
            ["accelerators", "accelerate"],
        ),
        (
            "huawei NEAR/3 chip",
            Document(text="Huawei's new chip"),
            ("huawei", "chip"),
            ["Huawei", "chip"],
        ),
        (
            "url:reuters huawei",
            Document(text="Huawei", url="https://reuters.com"),
            ("reuters", "huawei"),
            ["Huawei"],
        ),
        ("lang:id huawei", Document(text="Huawei", lang="id"), ("lang:id", "huawei"), ["Huawei"]),
    ],
)
def test_hit_explains_terms_and_marks_them(
    query: str, doc: Document, terms: tuple[str, ...], marked: list[str]
) -> None:
    """A hit names the matched terms and marks each occurrence in the snippet."""
    [hit] = _index(query).match(doc)
    assert hit.rule_id == 1
    assert hit.matched_terms == terms
    for word in marked:
        assert f"{MARK_OPEN}{word}{MARK_CLOSE}" in hit.snippet


def test_snippet_is_cut_around_the_first_match() -> None:
    """About 240 characters around the first match, elided at both ends, all matches marked."""
    [hit] = _index("huawei").match(LONG)
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert 200 <= len(hit.snippet.replace(MARK_OPEN, "")) <= 260
    assert hit.snippet.count(f"{MARK_OPEN}Huawei{MARK_CLOSE}") == 2
    assert "Chip news" not in hit.snippet


def test_existing_marks_in_text_are_thinned() -> None:
    """Text that already contains `**` cannot forge a mark."""
    [hit] = _index("huawei").match(Document(text="**bold** Huawei"))
    assert hit.snippet == f"*bold* {MARK_OPEN}Huawei{MARK_CLOSE}"


def test_add_replace_remove_are_incremental() -> None:
    """`add` replaces a rule with the same id, `remove` forgets it, others stay."""
    doc = Document(text="Huawei and Apple")
    index = _index("huawei", "apple")
    assert [h.rule_id for h in index.match(doc)] == [1, 2]
    index.add(1, parse("samsung OR 华为"))
    assert [h.rule_id for h in index.match(doc)] == [2]
    assert [h.rule_id for h in index.match(Document(text="华为公司"))] == [1]
    index.remove(2)
    index.remove(99)
    assert index.match(doc) == [] and len(index) == 1 and 2 not in index
    index.remove(1)
    assert index.match(Document(text="华为公司")) == []
    assert index.candidates(analyse(doc)) == set()


@pytest.mark.parametrize(
    ("feed_id", "expected"),
    [(7, [1, 2]), (8, [2]), (None, [2])],
)
def test_feed_scope_is_a_filter(feed_id: int | None, expected: list[int]) -> None:
    """A rule scoped to feeds only matches documents from those feeds."""
    index = _index("huawei", "huawei", r1=[7])
    doc = Document(text="Huawei", feed_id=feed_id)
    assert [h.rule_id for h in index.match(doc)] == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", [1, 3]), ("zh-CN", [1, 3]), ("zh_TW", [1, 3]), ("zhx", [3]), ("", [3]), ("en", [3])],
)
def test_lang_filter(lang: str, expected: list[int]) -> None:
    """`lang:zh` matches zh and its regional variants, nothing else."""
    index = _index("lang:zh 华为", "lang:en 腾讯", "华为")
    assert [h.rule_id for h in index.match(Document(text="华为", lang=lang))] == expected


def test_top_level_or_parts_match_independently() -> None:
    """Each alternative of a root OR is indexed under its own anchors."""
    index = _index("(huawei AND chip) OR (apple AND phone) OR 华为")
    for text, expected in [
        ("huawei chip", [1]),
        ("apple phone", [1]),
        ("华为公司", [1]),
        ("huawei phone", []),
    ]:
        assert [h.rule_id for h in index.match(Document(text=text))] == expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("huawei (chip OR ai)", "huawei", False),
        ("huawei (chip OR ai)", "huawei ai", True),
        ("(chip OR ai) -huawei", "ai huawei", False),
        ("(chip OR ai) -huawei", "chip", True),
        ("huawei apple -samsung", "apple huawei", True),
        ("huawei apple -samsung", "apple huawei samsung", False),
        ("huawei apple", "huawei", False),
    ],
)
def test_word_only_rules_are_decided_by_the_presearcher(
    query: str, text: str, expected: bool
) -> None:
    """Rules of whole words only (most rules) take the set-operation path, with the same answers."""
    assert [h.rule_id for h in _index(query).match(Document(text=text))] == (
        [1] if expected else []
    )
