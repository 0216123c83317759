"""Story detection at scale: `python -m bench.stories --articles 200000`.

A seeded stream of articles from a Zipf-like vocabulary, in known clusters: wire stories
with copies (another headline, a byline, site boilerplate, a new lead sentence, a few
words changed, or only the first paragraph), and near misses that must stay apart (a
follow-up that reuses a background paragraph, another event with the same names). The
articles go through the real path on a temporary SQLite database, 20 to a transaction as
a feed poll's would: store the article, then `assign_stories` with the band keys in the
database. All of them fall inside the story window.

`per_article_ms_*` time the fingerprint plus `assign_stories` of each article (the article
row's insert and the commit, which ingest pays anyway, are not counted) by the wall clock;
`cpu_ms_*` (beyond the contract) by this thread's CPU time, which a loaded machine does
not inflate.
`candidates_per_article` are candidates confirmed or refused on their shingles;
`db_rows_per_article` are the rows the story index writes. Precision and recall are over
pairs of articles, from the story ids in the database at the end (after any merges).
A progress bar goes to stderr; the JSON contract is stdout's only line."""

from __future__ import annotations

import argparse
import json
import random
import string
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import Engine

from monitor.normalise import Article
from monitor.story_index import StoryStats, article_fingerprint, assign_stories
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from store.migrate import upgrade

SEED = 20261201
VOCAB = 30_000
BATCH = 20


class Stream:
    """Seeded stories and their copies, in arrival order, each with its true story."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        vocab = {
            "".join(
                rng.choice(string.ascii_lowercase) for _ in range(max(2, int(rng.gauss(7, 2.5))))
            )
            for _ in range(VOCAB)
        }
        self.vocab = sorted(vocab, key=lambda w: (len(w), w))
        self.weights = list(accumulate(1 / (r + 1) ** 1.05 for r in range(len(self.vocab))))
        self.names = [w.capitalize() for w in rng.sample(self.vocab[5000:], 2000)]
        self.boilerplate = [self._words(rng.randint(8, 25)) for _ in range(40)]

    def _words(self, n: int) -> str:
        return " ".join(self.rng.choices(self.vocab, cum_weights=self.weights, k=n))

    def _story(self) -> tuple[str, list[str], list[str]]:
        """A title and paragraphs, about names that recur across stories."""
        names = self.rng.sample(self.names, 3)
        paras = []
        for _ in range(self.rng.randint(2, 6)):
            words = self._words(self.rng.randint(25, 60)).split()
            for name in names:
                if self.rng.random() < 0.5:
                    words.insert(self.rng.randrange(len(words)), name)
            paras.append(" ".join(words))
        return " ".join([*names[:2], self._words(6)]), paras, names

    def _copy(self, title: str, paras: list[str]) -> tuple[str, str]:
        """An outlet's copy: one or two edits a syndicating site makes."""
        rng = self.rng
        kind = rng.choice(["title", "byline", "boiler", "lead", "words", "short", "same"])
        text = list(paras)
        if kind == "lead" and len(text) > 2:
            text[0] = self._words(len(text[0].split()))
        if kind == "short":
            text = text[:1]
        if kind == "words":
            words = " ".join(text).split()
            for _ in range(max(1, len(words) // 40)):
                words[rng.randrange(len(words))] = self._words(1)
            text = [" ".join(words)]
        if kind in ("byline", "boiler") or rng.random() < 0.3:
            text = [*text, rng.choice(self.boilerplate)]
        if kind == "byline":
            text = [f"By {self._words(2)} {rng.choice(self.names)}", *text]
        if kind in ("title", "lead", "short") or rng.random() < 0.5:
            title = " ".join([*title.split()[:2], self._words(6)])
        return title, "\n".join(text)

    def articles(self, count: int) -> list[tuple[str, str, int]]:
        """(title, text, true story) in arrival order: copies follow their story within
        a few hundred articles, and one story in eight has a near miss."""
        pending: list[tuple[int, str, str, int]] = []  # (due position, title, text, story)
        out: list[tuple[str, str, int]] = []
        story = 0
        while len(out) < count:
            pending.sort()
            if pending and pending[0][0] <= len(out):
                _, title, text, truth = pending.pop(0)
                out.append((title, text, truth))
                continue
            story += 1
            title, paras, names = self._story()
            out.append((title, "\n".join(paras), story))
            copies = self.rng.choice([0, 0, 0, 1, 2, 3, 5, 9])
            for _ in range(copies):
                ctitle, ctext = self._copy(title, paras)
                pending.append((len(out) + self.rng.randint(1, 300), ctitle, ctext, story))
            if self.rng.random() < 0.125:  # a near miss: a new story of its own
                story += 1
                if self.rng.random() < 0.5:  # a follow-up reusing one background paragraph
                    new = [self._words(40), self._words(35), self.rng.choice(paras)]
                    ntitle = " ".join([*names[:2], self._words(6)])
                else:  # another event about the same names
                    new = [" ".join([*names, self._words(50)]), self._words(40)]
                    ntitle = " ".join([*names[:2], self._words(5)])
                pending.append((len(out) + self.rng.randint(1, 300), ntitle, "\n".join(new), story))
        return out[:count]


def _pairs(counts: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pair_scores(truth: list[int], found: list[int]) -> tuple[float, float]:
    """Pair precision and recall of `found` clusters against `truth`."""
    both = _pairs(Counter(zip(truth, found, strict=True)))
    in_found, in_truth = _pairs(Counter(found)), _pairs(Counter(truth))
    return (both / in_found if in_found else 1.0, both / in_truth if in_truth else 1.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Measured:
    """What the run collects, article by article."""

    stats: StoryStats = field(default_factory=StoryStats)
    timings: list[float] = field(default_factory=list)  # wall ms
    cpu: list[float] = field(default_factory=list)  # this thread's CPU ms: load does not inflate it
    ids: list[int] = field(default_factory=list)


def _batch(
    engine: Engine,
    feed_id: int,
    first: int,
    chunk: list[tuple[str, str, int]],
    now: datetime,
    out: Measured,
) -> None:
    """One transaction: store `chunk` (as a poll would), then each article's story."""
    articles = [
        Article(
            item_key=f"a{first + n}",
            url=f"https://o{(first + n) % 97}.example/{first + n}",
            canonical_url=f"https://o{(first + n) % 97}.example/{first + n}",
            title=title,
            summary=text,
            content="",
            language="en",
            author="",
            published_at=now,
        )
        for n, (title, text, _) in enumerate(chunk)
    ]
    with session_scope(engine) as session:
        stored = insert_new_articles(session=session, feed_id=feed_id, articles=articles, now=now)
        for article in stored:
            began, began_cpu = time.perf_counter(), time.thread_time()
            prints = {article.id: article_fingerprint(article)}
            assign_stories(
                session=session, articles=[article], prints=prints, now=now, stats=out.stats
            )
            out.timings.append((time.perf_counter() - began) * 1000)
            out.cpu.append((time.thread_time() - began_cpu) * 1000)
        out.ids += [a.id for a in stored]


def run(count: int, workdir: Path) -> dict[str, object]:
    stream = Stream().articles(count)
    engine = create_engine(f"sqlite:///{workdir / 'stories.db'}")
    upgrade(engine)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="https://wire.example/rss", now=start)
    out = Measured()
    step = timedelta(hours=60) / max(1, count)  # the whole stream inside the window
    progress = Progress(
        TextColumn("stories"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[p50]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with progress:
        task = progress.add_task("articles", total=count, p50="")
        for first in range(0, count, BATCH):
            now = start + step * first
            _batch(engine, feed.id or 0, first, stream[first : first + BATCH], now, out)
            if first % 2000 == 0:
                progress.update(task, p50=f"p50 {_percentile(out.timings, 0.5):.3f} ms")
            progress.update(task, completed=min(count, first + BATCH))

    with session_scope(engine, readonly=True) as session:
        story_of = dict(session.execute(sa.text("SELECT id, story_id FROM articles")).all())
    engine.dispose()
    precision, recall = pair_scores([t for _, _, t in stream], [story_of[i] for i in out.ids])
    return {
        "articles": count,
        "per_article_ms_p50": round(_percentile(out.timings, 0.5), 3),
        "per_article_ms_p99": round(_percentile(out.timings, 0.99), 3),
        "cpu_ms_p50": round(_percentile(out.cpu, 0.5), 3),
        "cpu_ms_p99": round(_percentile(out.cpu, 0.99), 3),
        "candidates_per_article": round(out.stats.candidates / max(1, out.stats.articles), 3),
        "db_rows_per_article": round(out.stats.rows / max(1, out.stats.articles), 2),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as workdir:
        result = run(args.articles, Path(workdir))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
