"""Split a query into lexemes: words, phrases, parentheses, fields and operators."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.ast import DEFAULT_NEAR, FIELDS, MAX_NEAR
from rules.errors import RuleSyntaxError

_LEXEME = re.compile(
    r"\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<phrase>\"[^\"]*\"?)"
    rf"|(?P<field>(?:{'|'.join(FIELDS)}):)|(?P<minus>-)(?=\S)|(?P<word>[^\s()\"]+))"
)
_NEAR = re.compile(r"(O?NEAR)(?:/(\S*))?")
BOOLEAN = frozenset({"AND", "OR", "NOT"})


@dataclass(frozen=True, slots=True)
class Lexeme:
    kind: str  # lparen rparen phrase field minus word op near end
    text: str
    position: int
    distance: int = 0  # NEAR only
    ordered: bool = False  # ONEAR


def _near(text: str, source: str, position: int) -> Lexeme | None:
    m = _NEAR.fullmatch(text)
    if m is None:
        return None
    if m.group(2) is None:
        return Lexeme("near", text, position, DEFAULT_NEAR, m.group(1) == "ONEAR")
    n = m.group(2)
    if not n.isascii() or not n.isdigit() or not 1 <= int(n) <= MAX_NEAR:
        raise RuleSyntaxError(
            f"{m.group(1)}/n needs a number from 1 to {MAX_NEAR}, not {n!r}",
            query=source,
            position=position + len(m.group(1)) + 1,
        )
    return Lexeme("near", text, position, int(n), m.group(1) == "ONEAR")


def lex(source: str) -> list[Lexeme]:
    """The lexemes of `source`, ending with an `end` lexeme at its length."""
    out: list[Lexeme] = []
    pos = 0
    while True:
        m = _LEXEME.match(source, pos)
        if m is None or m.end() == pos:
            if source[pos:].strip():  # pragma: no cover - every non-space starts a lexeme
                raise RuleSyntaxError("unexpected character", query=source, position=pos)
            out.append(Lexeme("end", "", len(source)))
            return out
        kind = m.lastgroup or "word"
        text = m.group(kind)
        start = m.start(kind)
        pos = m.end()
        if kind == "phrase" and (len(text) < 2 or not text.endswith('"')):
            raise RuleSyntaxError("unterminated phrase: missing '\"'", query=source, position=start)
        if kind == "field":
            text = text[:-1]
        elif kind == "word" and text in BOOLEAN:
            kind = "op"
        elif kind == "word" and "NEAR" in text:
            near = _near(text, source, start)
            if near is not None:
                out.append(near)
                continue
        out.append(Lexeme(kind, text, start))
