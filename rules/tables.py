"""Anchor tables: from the terms of a document to the rule parts that may match it."""

from __future__ import annotations

PREFIX_KEY = 3  # prefixes are at least this long, so they are bucketed by their start


class TermTable:
    """Rule parts by whole word, by prefix and by unspaced substring, for one field."""

    def __init__(self) -> None:
        self.words: dict[str, set[int]] = {}
        self.prefixes: dict[str, dict[str, set[int]]] = {}  # first 3 letters -> prefix -> ids
        self.subs: dict[str, dict[str, set[int]]] = {}  # first 1-2 characters -> term -> ids

    def _bucket(self, kind: str, key: str) -> tuple[dict[str, set[int]], str]:
        if kind == "word":
            return self.words, key
        if kind == "prefix":
            return self.prefixes.setdefault(key[:PREFIX_KEY], {}), key
        return self.subs.setdefault(key[:2], {}), key

    def add(self, kind: str, key: str, part: int) -> None:
        bucket, key = self._bucket(kind, key)
        bucket.setdefault(key, set()).add(part)

    def remove(self, kind: str, key: str, part: int) -> None:
        bucket, key = self._bucket(kind, key)
        ids = bucket.get(key)
        if ids is None:
            return
        ids.discard(part)
        if not ids:
            del bucket[key]
            if kind != "word" and not bucket:
                outer = self.prefixes if kind == "prefix" else self.subs
                del outer[key[:PREFIX_KEY] if kind == "prefix" else key[:2]]

    def collect(self, tokens: set[str], runs: str, out: set[int]) -> None:
        """Add to `out` the parts anchored on any of the document's tokens or runs."""
        words = self.words
        for token in words.keys() & tokens:  # one C loop over the document's tokens
            out |= words[token]
        if self.prefixes:
            prefixes = self.prefixes
            for token in tokens:
                bucket = prefixes.get(token[:PREFIX_KEY])
                if bucket is not None:
                    for prefix, ids in bucket.items():
                        if token.startswith(prefix):
                            out |= ids
        if self.subs and runs:
            subs = self.subs
            grams = set(runs)
            grams.update(runs[i : i + 2] for i in range(len(runs) - 1))
            for gram in grams:
                bucket = subs.get(gram)
                if bucket is not None:
                    for term, ids in bucket.items():
                        if term in runs:
                            out |= ids
