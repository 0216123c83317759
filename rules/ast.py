"""The query tree. Nodes are frozen values; `parse` builds them."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FIELD = "text"
FIELDS = ("title", "text", "url", "feed", "lang")
DEFAULT_NEAR = 10
MAX_NEAR = 100


@dataclass(frozen=True, slots=True)
class Term:
    """A folded word. `prefix` matches words starting with it (a Hangul word always does:
    Korean attaches particles); an unspaced word (Han, kana, Thai...) matches the sequence
    of its characters."""

    word: str
    field: str = DEFAULT_FIELD
    prefix: bool = False
    unspaced: bool = False
    hangul: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]  # folded, at least two
    field: str = DEFAULT_FIELD


@dataclass(frozen=True, slots=True)
class Lang:
    """`lang:zh` matches the languages `zh`, `zh-cn`, `zh-tw`..."""

    code: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides occur at most `distance` words apart; `ordered` puts `right` after `left`."""

    left: Node
    right: Node
    distance: int = DEFAULT_NEAR
    ordered: bool = False


Leaf = Term | Phrase | Lang
Node = Term | Phrase | Lang | Not | And | Or | Near


def label(leaf: Leaf) -> str:
    """How a leaf is named in `matched_terms`."""
    if isinstance(leaf, Term):
        return leaf.word + ("*" if leaf.prefix and not leaf.hangul else "")
    if isinstance(leaf, Phrase):
        return " ".join(leaf.words)
    return f"lang:{leaf.code}"


def positive_leaves(node: Node) -> list[Leaf]:
    """The leaves outside any NOT: the ones a match is explained by."""
    if isinstance(node, Term | Phrase | Lang):
        return [node]
    if isinstance(node, Not):
        return []
    if isinstance(node, Near):
        return positive_leaves(node.left) + positive_leaves(node.right)
    return [leaf for c in node.children for leaf in positive_leaves(c)]


def fields_of(node: Node) -> frozenset[str]:
    """The document fields a query reads (`lang` for `lang:`), negated parts included."""
    if isinstance(node, Term | Phrase):
        return frozenset({node.field})
    if isinstance(node, Lang):
        return frozenset({"lang"})
    if isinstance(node, Not):
        return fields_of(node.child)
    if isinstance(node, Near):
        return fields_of(node.left) | fields_of(node.right)
    return frozenset().union(*(fields_of(c) for c in node.children))


def top_level_parts(node: Node) -> list[Node]:
    """A root OR split into its alternatives, each indexed on its own."""
    if isinstance(node, Or):
        return [part for c in node.children for part in top_level_parts(c)]
    return [node]
