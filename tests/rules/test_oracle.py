"""An independent oracle: a deliberately simple reference matcher, written apart from the
engine (its own tokeniser and plain loops over tokens and positions), against the index
and the evaluator, on generated queries and documents in Latin, Chinese, Japanese, Thai
and Korean, with accents, hyphens, soft hyphens, prefixes, phrases, NEAR and ONEAR.

Queries are generated as small trees here, rendered to rule text for the engine, and
evaluated as trees by the oracle: the oracle never sees the engine's parse."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Document, RuleIndex, evaluate, parse

# ---- the oracle's own tokeniser, for the alphabet generated below ---------------------

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def _unspaced(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3040" <= c <= "\u30ff" or "\u0e00" <= c <= "\u0e7f"


def _hangul(word: str) -> bool:
    return bool(word) and all("\uac00" <= c <= "\ud7a3" for c in word)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(c for c in text if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", text)


def tokens(text: str) -> list[str]:
    """Words of letters and digits; each unspaced character (with its marks) a token."""
    text = _fold("".join(c for c in text if c not in INVISIBLE))
    out: list[str] = []
    word = ""
    after_unspaced = False
    for c in text:
        if _unspaced(c):
            if word:
                out.append(word)
                word = ""
            if unicodedata.category(c).startswith("M") and after_unspaced:
                out[-1] += c
            else:
                out.append(c)
            after_unspaced = True
            continue
        after_unspaced = False
        if c.isalnum() or unicodedata.category(c).startswith("M"):
            word += c
        elif word:
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


# ---- query trees -----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    title: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Near:
    left: Word | Phrase
    right: Word | Phrase
    distance: int
    ordered: bool


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Bool:
    op: str  # AND or OR
    children: tuple[Node, ...]


Node = Word | Phrase | Near | Not | Bool


def render(node: Node) -> str:
    if isinstance(node, Word):
        return ("title:" if node.title else "") + node.text + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"'
    if isinstance(node, Near):
        op = f"{'ONEAR' if node.ordered else 'NEAR'}/{node.distance}"
        return f"{render(node.left)} {op} {render(node.right)}"
    if isinstance(node, Not):
        return f"NOT {render(node.child)}"
    return "(" + f" {node.op} ".join(render(c) for c in node.children) + ")"


# ---- the oracle ------------------------------------------------------------------------


def _token_matches(query_token: str, token: str) -> bool:
    return token.startswith(query_token) if _hangul(query_token) else token == query_token


def _starts(seq: list[str], doc: list[str], last_prefix: bool = False) -> set[int]:
    """Every position where the query tokens `seq` follow one another in `doc`."""
    found = set()
    for start in range(len(doc) - len(seq) + 1):
        ok = True
        for k, q in enumerate(seq):
            token = doc[start + k]
            if last_prefix and k == len(seq) - 1:
                ok = token.startswith(q)
            else:
                ok = _token_matches(q, token)
            if not ok:
                break
        if ok:
            found.add(start)
    return found


def positions(node: Word | Phrase, doc: list[str], title_len: int) -> set[int]:
    if isinstance(node, Phrase):
        seq = [t for w in node.words for t in tokens(w)]
        return _starts(seq, doc)
    found = _starts(tokens(node.text), doc, last_prefix=node.prefix)
    return {p for p in found if p < title_len} if node.title else found


def oracle(node: Node, doc: list[str], title_len: int) -> bool:
    if isinstance(node, Word | Phrase):
        return bool(positions(node, doc, title_len))
    if isinstance(node, Near):
        left = positions(node.left, doc, title_len)
        right = positions(node.right, doc, title_len)
        for a in left:
            for b in right:
                if (0 < b - a <= node.distance) if node.ordered else abs(a - b) <= node.distance:
                    return True
        return False
    if isinstance(node, Not):
        return not oracle(node.child, doc, title_len)
    results = [oracle(c, doc, title_len) for c in node.children]
    return all(results) if node.op == "AND" else any(results)


def analysed(doc: Document) -> tuple[list[str], int]:
    title = tokens(doc.title)
    return ([*title, "\x00", *tokens(doc.text)] if title else tokens(doc.text)), len(title)


# ---- what is generated ----------------------------------------------------------------

QUERY_WORDS = [
    "huawei", "Huawei", "chip", "chips", "café", "cafe", "Straße", "strasse", "910b",
    "华为", "腾讯", "合作", "华", "ソフト", "バンク", "ข่าว", "삼성", "삼성전자", "칩",
]  # fmt: skip
PREFIXES = ["hua", "chi", "caf", "str", "삼성"]
DOC_WORDS = [
    "huawei", "HUAWEI", "Hua\u00adwei", "Ｈｕａｗｅｉ", "chip", "chips", "café", "CAFÉ", "cafe",
    "Straße", "strasse", "910B", "Ascend-910B", "华为", "腾讯", "与", "合作", "华为公司",
    "ソフトバンク", "ข่าวเศรษฐกิจ", "삼성", "삼성은", "삼성전자는", "칩을", "said",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "-", ", ", "\u00ad", "\u200b", "", ". "]

word = st.sampled_from(QUERY_WORDS)
term = st.one_of(
    word.map(Word),
    word.map(lambda w: Word(w, title=True)),
    st.sampled_from(PREFIXES).map(lambda p: Word(p, prefix=True)),
)
phrase = st.lists(word, min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws)))
operand = st.one_of(term, phrase)
near = st.builds(Near, operand, operand, st.integers(1, 6), st.booleans())
leaf = st.one_of(term, term, phrase, near)


def _positive(node: Node) -> bool:
    if isinstance(node, Not):
        return False
    if isinstance(node, Bool):
        found = [_positive(c) for c in node.children]
        return any(found) if node.op == "AND" else all(found)
    return True


tree = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(Bool, st.just("AND"), st.tuples(inner, inner)),
        st.builds(Bool, st.just("OR"), st.tuples(inner, inner)),
        st.builds(Bool, st.just("AND"), st.tuples(inner, inner.map(Not))),
    ),
    max_leaves=4,
).filter(_positive)


@st.composite
def text(draw: st.DrawFn, max_words: int) -> str:
    parts = draw(
        st.lists(
            st.tuples(st.sampled_from(DOC_WORDS), st.sampled_from(SEPARATORS)), max_size=max_words
        )
    )
    return "".join(w + s for w, s in parts)


document = st.builds(Document, title=text(4), text=text(12))
QUERIES, DOCS = 8, 3


def test_the_engine_agrees_with_the_oracle() -> None:
    """At least 2,000 generated (query, document) pairs, and not one disagreement."""
    checked = []

    @settings(
        max_examples=90,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        queries=st.lists(tree, min_size=QUERIES, max_size=QUERIES),
        docs=st.lists(document, min_size=DOCS, max_size=DOCS),
    )
    def check(queries: list[Node], docs: list[Document]) -> None:
        index = RuleIndex()
        parsed = [parse(render(q)) for q in queries]
        for rule_id, query in enumerate(parsed):
            index.add(rule_id, query)
        for doc in docs:
            tokens_, title_len = analysed(doc)
            expected = [i for i, q in enumerate(queries) if oracle(q, tokens_, title_len)]
            assert [i for i, q in enumerate(parsed) if evaluate(q, doc)] == expected, (
                [render(q) for q in queries],
                doc,
            )
            assert index.matching_ids(doc) == expected
            checked.append(len(queries))

    check()
    assert sum(checked) >= 2_000
