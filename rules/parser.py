"""Recursive-descent parser for the rule language (grammar in DESIGN.md).

Precedence is NOT > NEAR > AND > OR; juxtaposition means AND; only upper-case words are
operators."""

from __future__ import annotations

import re

from rules.ast import DEFAULT_FIELD, And, Lang, Near, Node, Not, Or, Phrase, Term
from rules.errors import RuleSyntaxError
from rules.lexer import Lexeme, lex
from rules.query import Query
from rules.text import fold, is_hangul, is_unspaced, words

MAX_LENGTH = 20_000
MAX_DEPTH = 50
MIN_PREFIX = 3
MIN_HANGUL_PREFIX = 2  # two syllables: 삼성* (a Hangul syllable is a whole block)
_LANG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STARTS_TERM = frozenset({"word", "phrase", "lparen", "minus", "field"})


def _merged(folded: list[str]) -> list[str]:
    """Consecutive unspaced characters join into one word (matched as their sequence)."""
    merged: list[str] = []
    for w in folded:
        if merged and is_unspaced(w) and is_unspaced(merged[-1]):
            merged[-1] += w
        else:
            merged.append(w)
    return merged


def _words_node(folded: list[str], field: str) -> Node:
    """One word makes a term (a Hangul one matches as a prefix); several make a phrase."""
    merged = _merged(folded)
    if len(merged) == 1:
        word = merged[0]
        hangul = is_hangul(word)
        return Term(word, field, prefix=hangul, unspaced=is_unspaced(word), hangul=hangul)
    return Phrase(tuple(merged), field)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lexemes = lex(source)
        self.i = 0

    def peek(self) -> Lexeme:
        return self.lexemes[self.i]

    def take(self) -> Lexeme:
        lexeme = self.lexemes[self.i]
        self.i += 1
        return lexeme

    def error(self, message: str, lexeme: Lexeme) -> RuleSyntaxError:
        return RuleSyntaxError(message, query=self.source, position=lexeme.position)

    def deeper(self, depth: int, lexeme: Lexeme) -> int:
        if depth >= MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", lexeme)
        return depth + 1

    def parse(self) -> Node:
        node = self.or_expr(0, DEFAULT_FIELD)
        end = self.peek()
        if end.kind == "rparen":
            raise self.error("unbalanced ')': no '(' before it", end)
        if end.kind != "end":  # pragma: no cover - and_expr consumes everything else
            raise self.error(f"unexpected {end.text!r}", end)
        return node

    def or_expr(self, depth: int, field: str) -> Node:
        children = [self.and_expr(depth, field, None)]
        while self.peek().kind == "op" and self.peek().text == "OR":
            op = self.take()
            children.append(self.and_expr(depth, field, op))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int, field: str, after: Lexeme | None) -> Node:
        children = [self.unary(depth, field, after)]
        while True:
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text == "AND":
                children.append(self.unary(depth, field, self.take()))
            elif nxt.kind in _STARTS_TERM or (nxt.kind == "op" and nxt.text == "NOT"):
                children.append(self.unary(depth, field, None))
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, depth: int, field: str, after: Lexeme | None) -> Node:
        nxt = self.peek()
        if nxt.kind == "minus" or (nxt.kind == "op" and nxt.text == "NOT"):
            op = self.take()
            return Not(self.unary(self.deeper(depth, op), field, op))
        return self.near(depth, field, after)

    def near(self, depth: int, field: str, after: Lexeme | None) -> Node:
        node = self.primary(depth, field, after)
        while self.peek().kind == "near":
            op = self.take()
            depth = self.deeper(depth, op)
            self.check_positional(node, op)
            right = self.primary(depth, field, op)
            self.check_positional(right, op)
            node = Near(node, right, op.distance, op.ordered)
        return node

    def check_positional(self, node: Node, op: Lexeme) -> None:
        """NEAR compares word positions, which only title and text words have."""
        if isinstance(node, Term | Phrase) and node.field not in ("text", "title"):
            raise self.error(f"{op.text} works on title and text words, not {node.field}:", op)
        if isinstance(node, Lang | Not):
            raise self.error(f"{op.text} cannot take a NOT or lang: operand", op)
        if isinstance(node, And | Or):
            for child in node.children:
                self.check_positional(child, op)
        if isinstance(node, Near):
            self.check_positional(node.left, op)
            self.check_positional(node.right, op)

    def primary(self, depth: int, field: str, after: Lexeme | None) -> Node:
        lexeme = self.take()
        if lexeme.kind == "lparen":
            node = self.or_expr(self.deeper(depth, lexeme), field)
            if self.take().kind != "rparen":
                raise self.error("unbalanced '(': expected ')'", lexeme)
            return node
        if lexeme.kind == "field":
            nxt = self.peek()
            if nxt.kind not in ("word", "phrase", "lparen", "field") or nxt.position != (
                lexeme.position + len(lexeme.text) + 1
            ):
                raise self.error(
                    f"{lexeme.text}: needs a term right after it, as in {lexeme.text}:huawei",
                    lexeme,
                )
            return self.primary(self.deeper(depth, lexeme), lexeme.text, lexeme)
        if field == "lang" and lexeme.kind == "word":
            code = lexeme.text.lower().replace("_", "-")
            if not _LANG.fullmatch(code):
                raise self.error(
                    f"lang: needs a language code like id or zh-CN, not {code!r}", lexeme
                )
            return Lang(code)
        if field == "lang" and lexeme.kind == "phrase":
            raise self.error("lang: needs a language code, not a phrase", lexeme)
        if lexeme.kind == "phrase":
            if "*" in lexeme.text:
                raise RuleSyntaxError(
                    "a phrase cannot hold a prefix: '*' only ends a word outside quotes",
                    query=self.source,
                    position=lexeme.position + lexeme.text.index("*"),
                )
            folded = words(lexeme.text[1:-1])
            if not folded:
                raise self.error("empty phrase: it has no letters or digits", lexeme)
            return _words_node(folded, field)
        if lexeme.kind == "word":
            return self.word(lexeme, field)
        what = f" after {after.text}" if after is not None else ""
        found = "" if after is not None else f", found {lexeme.text or 'the end'!r}"
        raise self.error(f"expected a term{what}{found}", lexeme)

    def word(self, lexeme: Lexeme, field: str) -> Node:
        text = lexeme.text
        star = text.find("*")
        if star != -1 and star != len(text) - 1:
            raise RuleSyntaxError(
                f"'*' only ends a prefix, as in chip*; it cannot start or sit inside {text!r}",
                query=self.source,
                position=lexeme.position + star,
            )
        if star == -1:
            folded = words(text)
            if not folded:
                raise self.error(f"{text!r} has no letters or digits", lexeme)
            return _words_node(folded, field)
        merged = _merged(words(text[:-1]))
        word = merged[0] if len(merged) == 1 else ""
        hangul = is_hangul(word)
        if len(word) < (MIN_HANGUL_PREFIX if hangul else MIN_PREFIX):
            raise self.error(
                f"a prefix needs one word of at least {MIN_PREFIX} letters (2 Hangul "
                f"syllables) before '*', not {text!r}",
                lexeme,
            )
        unspaced = is_unspaced(word)
        return Term(word, field, prefix=not unspaced, unspaced=unspaced, hangul=hangul)


def _has_positive(node: Node) -> bool:
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(_has_positive(c) for c in node.children)
    return True  # leaves, and NEAR (whose operands hold no NOT)


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
