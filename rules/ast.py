"""The query tree. Nodes are frozen values; `parse` builds them."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FIELD = "text"


@dataclass(frozen=True, slots=True)
class Term:
    word: str  # folded
    field: str = DEFAULT_FIELD


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]  # folded
    field: str = DEFAULT_FIELD


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Phrase | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed rule: its source text and its tree."""

    source: str
    root: Node
