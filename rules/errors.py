"""Errors of the rule language.

RuleError
└── RuleSyntaxError   a query that cannot be parsed or is refused; has .position
"""

from __future__ import annotations


class RuleError(Exception):
    """Base of every error raised by `rules`."""


class RuleSyntaxError(RuleError):
    """A query that cannot be parsed, or that is refused, at `position` (0-based)."""

    def __init__(self, message: str, *, query: str, position: int) -> None:
        self.message = message
        self.query = query
        self.position = max(0, min(position, len(query)))
        super().__init__(f"{message} at {self.position}")

    def caret(self) -> str:
        """The query with a caret under the bad spot, for people to read."""
        line_start = self.query.rfind("\n", 0, self.position) + 1
        line_end = self.query.find("\n", self.position)
        line = self.query[line_start : line_end if line_end != -1 else None]
        return f"{line}\n{' ' * (self.position - line_start)}^"
