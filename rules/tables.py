"""Anchor tables: from the terms of a document to the rule parts that may match it."""

from __future__ import annotations

PREFIX_KEY = 3  # prefixes are bucketed by their first 3 characters (fewer if shorter)


class TermTable:
    """Rule parts by whole word and by prefix, for one field."""

    def __init__(self) -> None:
        self.words: dict[str, set[int]] = {}
        self.prefixes: dict[str, dict[str, set[int]]] = {}  # first letters -> prefix -> ids
        self.short: dict[int, int] = {}  # prefixes shorter than PREFIX_KEY, by length

    def _bucket(self, kind: str, key: str) -> dict[str, set[int]]:
        if kind == "word":
            return self.words
        return self.prefixes.setdefault(key[:PREFIX_KEY], {})

    def add(self, kind: str, key: str, part: int) -> None:
        bucket = self._bucket(kind, key)
        if kind == "prefix" and key not in bucket and len(key) < PREFIX_KEY:
            self.short[len(key)] = self.short.get(len(key), 0) + 1
        bucket.setdefault(key, set()).add(part)

    def remove(self, kind: str, key: str, part: int) -> None:
        bucket = self._bucket(kind, key)
        ids = bucket.get(key)
        if ids is None:
            return
        ids.discard(part)
        if not ids:
            del bucket[key]
            if kind == "prefix":
                if len(key) < PREFIX_KEY:
                    self.short[len(key)] -= 1
                    if not self.short[len(key)]:
                        del self.short[len(key)]
                if not bucket:
                    del self.prefixes[key[:PREFIX_KEY]]

    def collect(self, tokens: set[str], out: set[int]) -> None:
        """Add to `out` the parts anchored on any of the document's tokens."""
        words = self.words
        for token in words.keys() & tokens:  # one C loop over the document's tokens
            out |= words[token]
        if self.prefixes:
            prefixes = self.prefixes
            lengths = [PREFIX_KEY, *self.short]
            for token in tokens:
                for size in lengths:
                    bucket = prefixes.get(token[:size])
                    if bucket is not None:
                        for prefix, ids in bucket.items():
                            if token.startswith(prefix):
                                out |= ids
