"""Property: over random rules and documents, the index returns exactly the rules that the
check-every-rule evaluator accepts (within their feed scope)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Document, Query, RuleIndex, RuleSyntaxError, analyse, evaluate, parse
from rules.text import is_unspaced

WORDS = [
    "huawei", "Huawei", "chip", "chips", "ai", "said", "café", "cafe", "Straße", "strasse",
    "İstanbul", "ılık", "910B", "ascend", "华为", "公司", "华为公司", "字节跳动", "ソフト",
    "バンク", "Яндекс", "ёлка", "هواوي", "Ｈｕａｗｅｉ",
]  # fmt: skip
PREFIXES = ["chi*", "hua*", "str*", "asc*", "华为公*", "ソフト*", "янд*"]
SEPARATORS = [" ", " ", " ", "-", ", ", "", ". "]

word = st.sampled_from(WORDS)
spaced = st.sampled_from([w for w in WORDS if not is_unspaced(w)])
phrase = st.lists(word, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"')
positional = st.one_of(word, phrase, st.sampled_from(PREFIXES), word.map("title:{}".format))
near_op = st.sampled_from(["NEAR", "NEAR/1", "NEAR/2", "NEAR/4", "ONEAR/1", "ONEAR/3"])
near = st.recursive(
    positional,
    lambda inner: st.one_of(
        st.tuples(inner, near_op, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
    ),
    max_leaves=4,
)
leaf = st.one_of(
    word,  # whole words are most of real rules, and take the presearcher's own path
    word,
    near,
    word.map("url:{}".format),
    word.map("feed:{}".format),
    st.sampled_from(["lang:zh", "lang:en", "lang:zh-tw", "lang:de"]),
)
rule = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"({t[0]} AND {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} -{t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} AND NOT {t[1]}"),
    ),
    max_leaves=6,
)


@st.composite
def word_rule(draw: st.DrawFn) -> str:
    """Whole words of spaced scripts only: required ones, an OR of words, absent ones."""
    required = draw(st.lists(spaced, max_size=2))
    any_of = draw(st.lists(spaced, max_size=3))
    absent = draw(st.lists(spaced, max_size=2))
    parts = [*required, f"({' OR '.join(any_of)})" if any_of else ""]
    return " ".join([*parts, *(f"-{w}" for w in absent)]).strip() or "huawei"


@st.composite
def text(draw: st.DrawFn, max_words: int = 14) -> str:
    parts = draw(st.lists(st.tuples(word, st.sampled_from(SEPARATORS)), max_size=max_words))
    return "".join(w + s for w, s in parts)


document = st.builds(
    Document,
    title=text(max_words=4),
    text=text(),
    url=st.sampled_from(["", "https://huawei.com/chip", "https://news.example/华为"]),
    feed=st.sampled_from(["", "Straße Daily", "Яндекс News", "AI said"]),
    lang=st.sampled_from(["", "zh", "zh-TW", "zh_CN", "en", "de-AT"]),
    feed_id=st.sampled_from([None, 1, 2]),
)
scope = st.sampled_from([None, [1], [2, 3]])


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    rules=st.lists(st.tuples(st.one_of(rule, word_rule()), scope), min_size=1, max_size=8),
    docs=st.lists(document, min_size=1, max_size=4),
)
def test_index_agrees_with_the_evaluator(
    rules: list[tuple[str, list[int] | None]], docs: list[Document]
) -> None:
    """The presearcher never loses a match and never invents one, also after changes."""
    index = RuleIndex()
    queries: dict[int, tuple[Query, list[int] | None]] = {}
    for rule_id, (source, feed_ids) in enumerate(rules):
        try:
            queries[rule_id] = (parse(source), feed_ids)
        except RuleSyntaxError:
            continue  # pure-negative combinations are refused by design
        index.add(rule_id, queries[rule_id][0], feed_ids=feed_ids)
    _check(index, queries, docs)
    # Incremental changes: drop every other rule and give the rest another's query.
    for rule_id in list(queries)[::2]:
        index.remove(rule_id)
        del queries[rule_id]
    sources = list(queries.values())
    for rule_id, (query, feed_ids) in zip(queries, sources[1:] + sources[:1], strict=True):
        index.add(rule_id, query, feed_ids=feed_ids)
        queries[rule_id] = (query, feed_ids)
    _check(index, queries, docs)


def _check(
    index: RuleIndex, queries: dict[int, tuple[Query, list[int] | None]], docs: list[Document]
) -> None:
    for doc in docs:
        analysed = analyse(doc)
        expected = [
            rule_id
            for rule_id, (query, feed_ids) in sorted(queries.items())
            if evaluate(query, analysed) and (feed_ids is None or doc.feed_id in feed_ids)
        ]
        assert index.matching_ids(doc) == expected
        assert [h.rule_id for h in index.match(doc)] == expected
