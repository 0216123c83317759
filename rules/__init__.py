"""The rule language: parse queries, evaluate them, and match documents against many.

Pure: no I/O, no database, no clock. Everything not exported here is private.
"""

from rules.document import Analysed, ArticleFields, Document, analyse, article_document
from rules.errors import RuleError, RuleSyntaxError
from rules.evaluate import evaluate
from rules.index import RuleHit, RuleIndex
from rules.parser import parse
from rules.query import Query
from rules.snippet import MARK_CLOSE, MARK_OPEN
from rules.text import is_unspaced
from rules.text import words as tokens

__all__ = [
    "MARK_CLOSE",
    "MARK_OPEN",
    "Analysed",
    "ArticleFields",
    "Document",
    "Query",
    "RuleError",
    "RuleHit",
    "RuleIndex",
    "RuleSyntaxError",
    "analyse",
    "article_document",
    "evaluate",
    "is_unspaced",
    "parse",
    "tokens",
]
