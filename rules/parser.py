"""Recursive-descent parser for the rule language (see DESIGN.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.ast import And, Node, Not, Or, Phrase, Query, Term
from rules.errors import RuleSyntaxError
from rules.text import fold, tokenize

MAX_LENGTH = 20_000
MAX_DEPTH = 50

_LEXEME = re.compile(
    r'\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<phrase>"[^"]*"?)|(?P<minus>-)(?=\S)|(?P<word>[^\s()"]+))'
)
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # lparen rparen phrase minus word op end
    text: str
    position: int


def _lex(source: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    pos = 0
    while True:
        m = _LEXEME.match(source, pos)
        if m is None or m.end() == pos:
            rest = source[pos:]
            if rest.strip():
                raise RuleSyntaxError("unexpected character", query=source, position=pos)
            out.append(_Lexeme("end", "", len(source)))
            return out
        kind = m.lastgroup or "word"
        text = m.group(kind)
        start = m.start(kind)
        if kind == "word" and text in _OPERATORS:
            kind = "op"
        if kind == "phrase" and (len(text) < 2 or not text.endswith('"')):
            raise RuleSyntaxError("unterminated phrase", query=source, position=start)
        out.append(_Lexeme(kind, text, start))
        pos = m.end()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lexemes = _lex(source)
        self.i = 0

    def peek(self) -> _Lexeme:
        return self.lexemes[self.i]

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.i]
        self.i += 1
        return lexeme

    def error(self, message: str, lexeme: _Lexeme) -> RuleSyntaxError:
        return RuleSyntaxError(message, query=self.source, position=lexeme.position)

    def parse(self) -> Node:
        node = self.or_expr(0)
        end = self.peek()
        if end.kind == "rparen":
            raise self.error("unbalanced ')'", end)
        if end.kind != "end":
            raise self.error(f"unexpected {end.text!r}", end)
        return node

    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth)]
        while self.peek().kind == "op" and self.peek().text == "OR":
            op = self.take()
            children.append(self.and_expr(depth, after=op))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int, after: _Lexeme | None = None) -> Node:
        children = [self.unary(depth, after)]
        while True:
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text == "AND":
                op = self.take()
                children.append(self.unary(depth, op))
            elif nxt.kind in ("word", "phrase", "lparen", "minus") or (
                nxt.kind == "op" and nxt.text == "NOT"
            ):
                children.append(self.unary(depth, None))
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, depth: int, after: _Lexeme | None) -> Node:
        nxt = self.peek()
        if nxt.kind == "minus" or (nxt.kind == "op" and nxt.text == "NOT"):
            op = self.take()
            return Not(self.unary(depth, op))
        return self.primary(depth, after)

    def primary(self, depth: int, after: _Lexeme | None) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", self.peek())
        lexeme = self.take()
        if lexeme.kind == "lparen":
            node = self.or_expr(depth + 1)
            close = self.take()
            if close.kind != "rparen":
                raise RuleSyntaxError(
                    "unbalanced '(': expected ')'", query=self.source, position=lexeme.position
                )
            return node
        if lexeme.kind == "phrase":
            words = tuple(t.text for t in tokenize(lexeme.text[1:-1]))
            if not words:
                raise self.error("empty phrase", lexeme)
            return Term(words[0]) if len(words) == 1 else Phrase(words)
        if lexeme.kind == "word":
            words = tuple(t.text for t in tokenize(lexeme.text))
            if not words:
                raise self.error(f"{lexeme.text!r} has no letters or digits", lexeme)
            return Term(words[0]) if len(words) == 1 else Phrase(words)
        what = f"after {after.text}" if after is not None and after.text else "here"
        found = "the end" if lexeme.kind == "end" else repr(lexeme.text)
        raise self.error(f"expected a term {what}, found {found}", lexeme)


def _has_positive(node: Node) -> bool:
    if isinstance(node, Term | Phrase):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_positive(c) for c in node.children)
    return all(_has_positive(c) for c in node.children)


def parse(source: str) -> Query:
    """Parse a rule; raise `RuleSyntaxError` with the position of the first problem."""
    if len(source) > MAX_LENGTH:
        raise RuleSyntaxError(
            f"query is {len(source)} characters long; the limit is {MAX_LENGTH}",
            query=source,
            position=MAX_LENGTH,
        )
    if not source.strip():
        raise RuleSyntaxError("empty query", query=source, position=0)
    root = _Parser(source).parse()
    if not _has_positive(root):
        raise RuleSyntaxError(
            "a rule needs at least one term that must appear (not only NOT)",
            query=source,
            position=0,
        )
    return Query(source=source, root=root)


__all__ = ["MAX_DEPTH", "MAX_LENGTH", "fold", "parse"]
