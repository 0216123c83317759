"""The check-every-rule evaluator: the reference that the index must agree with."""

from __future__ import annotations

from rules.document import Analysed, Document, analyse
from rules.query import Query


def evaluate(query: Query, doc: Document | Analysed) -> bool:
    """Does the document match the query? Pass an `Analysed` to reuse one analysis."""
    return query.predicate(analyse(doc))
