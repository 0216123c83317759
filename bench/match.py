"""Matching throughput at scale: `python -m bench.match [--profile heavy] --rules N --articles M`.

Synthetic, seeded data. The default profile: articles of about 400 tokens drawn from a
Zipf-like vocabulary (frequent words are short, as in real text) plus entity names; rules
mixing AND pairs, OR-with-NOT (aliases of a name), phrases, NEAR and prefixes, over entity
names and words outside the 2,000 most frequent; few rules match each article.

The heavy profile is a large agency with broad rules: about 40 mentions per article drawn
from 200,000 heavy-tailed entity names, over a Zipf law of 50,000 words, and rules over
those names, so that hundreds of rules match each article at 100k rules.

Prints the DESIGN.md JSON contract last, plus `matches_per_doc`, and `ids_docs_per_s` and
`ids_p99_ms`, which time `matching_ids` alone (no terms, no snippets)."""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import string
import time
from itertools import accumulate

from rules import Document, Query, RuleIndex, analyse, evaluate, parse

SEED = 20261127
VOCAB = 40_000
ENTITIES = 50_000
TOKENS = 400
HEAVY_SEED = 20261201
HEAVY_VOCAB = 50_000
HEAVY_ENTITIES = 200_000
HEAVY_MENTIONS = 40


def _word(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


class Corpus:
    """A seeded vocabulary and entity list, and generators of articles and rules."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        vocab = {_word(rng, min(14, max(2, int(rng.gauss(7, 2.5))))) for _ in range(VOCAB)}
        self.vocab = sorted(vocab, key=lambda w: (len(w), w))  # Zipf's law of abbreviation
        self.weights = list(accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(self.vocab))))
        self.entities = sorted(
            {_word(rng, rng.randint(4, 9)).capitalize() for _ in range(ENTITIES)}
        )

    def article(self, i: int) -> Document:
        rng = self.rng
        tokens = rng.choices(self.vocab, cum_weights=self.weights, k=TOKENS)
        for k in rng.sample(range(TOKENS), 12):
            tokens[k] = rng.choice(self.entities)
        for k in range(0, TOKENS, rng.randint(9, 15)):
            tokens[k] += rng.choice(".,;") if rng.random() < 0.8 else "-"
        title = " ".join(tokens[:10]).capitalize()
        return Document(title=title, text=" ".join(tokens[10:]), url=f"https://news.example/{i}")

    def term(self) -> str:
        """A rule term: an entity, or a word outside the 2,000 most frequent (monitoring
        rules name things; a rule on a very common word alerts on much of the news)."""
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice(self.entities)
        return self.vocab[int(rng.uniform(2000, len(self.vocab)))]

    def rule(self) -> str:
        rng, t = self.rng, self.term
        kind = rng.random()
        if kind < 0.35:
            return f"{t()} AND {t()}"
        if kind < 0.55:
            # OR lists the aliases of one name, as in (ByteDance OR 字节跳动).
            return f"({rng.choice(self.entities)} OR {rng.choice(self.entities)}) NOT {t()}"
        if kind < 0.70:
            return f'"{t()} {t()}"'
        if kind < 0.85:
            return f"{t()} NEAR/{rng.randint(2, 15)} {t()}"
        stem = next(w for w in iter(t, None) if len(w) >= 6)[:5]
        return f"{stem}* AND {t()}"


class HeavyCorpus:
    """The heavy workload: a Zipf law over 50,000 words, 40 mentions per article of
    200,000 entity names whose popularity is heavy-tailed, and rules over those names."""

    def __init__(self, seed: int = HEAVY_SEED) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        vocab = {_word(rng, min(14, max(2, int(rng.gauss(7, 2.5))))) for _ in range(HEAVY_VOCAB)}
        self.vocab = sorted(vocab, key=lambda w: (len(w), w))
        self.weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.vocab))))
        names: set[str] = set()
        while len(names) < HEAVY_ENTITIES:
            names.add(_word(rng, rng.randint(4, 10)).capitalize())
        self.entities = sorted(names)
        rng.shuffle(self.entities)  # popularity does not follow the spelling
        # Heavy-tailed popularity: a few names are in much of the news, most are rare.
        self.entity_weights = list(
            accumulate(1 / (rank + 110) ** 1.1 for rank in range(len(self.entities)))
        )

    def entity(self) -> str:
        return self.rng.choices(self.entities, cum_weights=self.entity_weights)[0]

    def article(self, i: int) -> Document:
        rng = self.rng
        tokens = rng.choices(self.vocab, cum_weights=self.weights, k=TOKENS)
        mentions = rng.choices(self.entities, cum_weights=self.entity_weights, k=HEAVY_MENTIONS)
        at = 0
        for name in mentions:
            # Names often come in pairs ("Acme Corp", "Beijing Huawei"): the next mention
            # follows this one a third of the time.
            at = at + 1 if rng.random() < 0.33 else rng.randrange(TOKENS)
            tokens[at % TOKENS] = name
        for k in range(0, TOKENS, rng.randint(9, 15)):
            tokens[k] += rng.choice(".,;") if rng.random() < 0.8 else "-"
        title = " ".join(tokens[:10]).capitalize()
        return Document(title=title, text=" ".join(tokens[10:]), url=f"https://news.example/{i}")

    def rule(self) -> str:
        rng, e = self.rng, self.entity
        kind = rng.random()
        if kind < 0.35:
            return f"{e()} AND {e()}"
        if kind < 0.60:
            return f"({e()} OR {e()} OR {e()}) AND {e()} NOT {e()}"
        if kind < 0.80:
            return f'"{e()} {e()}" OR {e()}'
        if kind < 0.90:
            return f"{e()} NEAR/5 {e()}"
        word = next(w for w in iter(lambda: rng.choice(self.vocab[500:]), None) if len(w) >= 5)
        return f"{word[: rng.randint(3, 4)]}* AND {e()}"


def _p99(latencies: list[float]) -> float:
    return latencies[int(0.99 * (len(latencies) - 1))]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--rules", type=int, default=10_000)
    args.add_argument("--articles", type=int, help="default 1,000; 2,000 for --profile heavy")
    args.add_argument("--sample", type=int, default=0, help="docs checked against every rule")
    args.add_argument("--profile", choices=["default", "heavy"], default="default")
    opts = args.parse_args()

    heavy = opts.profile == "heavy"
    corpus = HeavyCorpus() if heavy else Corpus()
    opts.articles = opts.articles or (2_000 if heavy else 1_000)
    sources = [corpus.rule() for _ in range(opts.rules)]
    docs = [corpus.article(i) for i in range(opts.articles)]

    # A long-lived index of 100k rules is millions of objects that never die: keep the
    # cyclic GC from rescanning them, as a service would after loading its rules.
    gc.disable()
    started = time.perf_counter()
    index = RuleIndex()
    queries: list[Query] = []
    for rule_id, source in enumerate(sources):
        query = parse(source)
        queries.append(query)
        index.add(rule_id, query)
    build_s = time.perf_counter() - started
    gc.freeze()
    gc.enable()

    add_ms = 0.0
    for extra in range(20):
        query = parse(corpus.rule())
        t0 = time.perf_counter()
        index.add(opts.rules + extra, query)
        add_ms = max(add_ms, (time.perf_counter() - t0) * 1000)
        index.remove(opts.rules + extra)

    for doc in docs[:20]:  # warm-up: compiled regexes, folding caches
        index.match(doc)
    latencies, candidates = [], 0
    cpu = time.process_time()
    started = time.perf_counter()
    for doc in docs:
        t0 = time.perf_counter()
        index.match(doc)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    id_latencies, matches = [], 0
    cpu = time.process_time()
    started = time.perf_counter()
    for doc in docs:
        t0 = time.perf_counter()
        matches += len(index.matching_ids(doc))
        id_latencies.append(time.perf_counter() - t0)
    ids_elapsed = time.perf_counter() - started
    ids_cpu_s = time.process_time() - cpu
    for doc in docs[: min(200, len(docs))]:
        candidates += len(index.candidates(analyse(doc)))

    sample = docs[: opts.sample or max(3, min(len(docs), 2_000_000 // max(1, opts.rules)))]
    mismatches = 0
    started = time.perf_counter()
    for doc in sample:
        analysed = analyse(doc)
        expected = [i for i, q in enumerate(queries) if evaluate(q, analysed)]
        mismatches += expected != index.matching_ids(analysed)
    naive_s = time.perf_counter() - started

    latencies.sort()
    id_latencies.sort()
    docs_per_s = len(docs) / elapsed
    naive_docs_per_s = len(sample) / naive_s
    print(
        json.dumps(
            {
                "rules": opts.rules,
                "articles": opts.articles,
                "docs_per_s": round(docs_per_s, 1),
                "p99_ms": round(_p99(latencies) * 1000, 3),
                "naive_docs_per_s": round(naive_docs_per_s, 2),
                "speedup": round(docs_per_s / naive_docs_per_s, 1),
                "candidates_per_doc": round(candidates / min(200, len(docs)), 1),
                "mismatches": mismatches,
                "index_build_s": round(build_s, 2),
                "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "add_ms": round(add_ms, 3),
                "matches_per_doc": round(matches / len(docs), 1),
                "ids_docs_per_s": round(len(docs) / ids_elapsed, 1),
                "ids_p99_ms": round(_p99(id_latencies) * 1000, 3),
                # The same two rates per CPU second: steadier on a machine others load.
                "cpu_docs_per_s": round(len(docs) / cpu_s, 1),
                "ids_cpu_docs_per_s": round(len(docs) / ids_cpu_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
