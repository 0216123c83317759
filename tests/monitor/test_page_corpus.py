"""Full text on 121 real article pages (../shared/corpus/pages), served gzip from a
loopback server through the real poll, fetch and extract path: the stored text against the
hand-checked bodies (word-level F1), the time per page, and recall of rules on words that
only the page body holds."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.extract import extract_page
from net.politeness import Politeness
from store import create_engine
from tests.support.databases import SqliteFactory
from tests.support.feeds import Item, rss
from tests.support.pages import Site, World, fast_config
from tests.support.servers import Reply

_HERE = Path(__file__).resolve()
CORPUS = next(
    (
        p
        for p in (_HERE.parents[3] / "shared/corpus/pages", Path("/work/shared/corpus/pages"))
        if (p / "ground-truth.json").exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(CORPUS is None, reason="corpus pages not found (shared/corpus)")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"^(.{20,400}?[.!?。])(?:\s|$)", re.S)


def _tokens(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def f1(extracted: str, truth: str) -> float:
    """Word-level F1: lower-cased \\w+ tokens, multiset overlap."""
    got, want = _tokens(extracted), _tokens(truth)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _lead(body: str) -> tuple[str, str]:
    """A feed item's title and text: the first words, and the first sentence."""
    first = body.strip().split("\n", 1)[0]
    match = _SENTENCE.match(first)
    sentence = match.group(1) if match else first[:200]
    return " ".join(sentence.split()[:10])[:200], sentence


def _body_only_words(
    truth: dict[str, str], feed_text: dict[str, str], pages: dict[str, str]
) -> dict[str, str]:
    """Per page, a word of the body's opening paragraphs (after the feed's first sentence;
    where a detail like the seed's "Ascend 910B" sits, not in a closing spec table) that
    the body holds at least twice and no other page (its whole HTML) and no feed text
    holds, even inside a longer run (CJK): a rule on it can only alert through that page."""
    bodies = {key: body.lower() for key, body in truth.items()}
    feeds = "\n".join(feed_text.values()).lower()
    out = {}
    for key, body in bodies.items():
        start = len(_lead(truth[key])[1])
        opening = body[start : start + 1500]
        for word, n in _tokens(body).most_common():
            if n < 2:
                break
            if not (6 <= len(word) <= 20 and word.isalpha()) or word in feeds:
                continue
            if word not in opening:
                continue
            if all(word not in other for k, other in pages.items() if k != key):
                out[key] = word
                break
    return out


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[str, bytes]]:
    assert CORPUS is not None
    truth = json.loads((CORPUS / "ground-truth.json").read_text())
    return {
        key: (entry["articleBody"], (CORPUS / "html" / f"{key}.html.gz").read_bytes())
        for key, entry in truth.items()
    }


def _serve(site: Site, corpus: dict[str, tuple[str, bytes]], prefix: str) -> list[Item]:
    items = []
    for key, (body, page) in corpus.items():
        site.routes[f"/{prefix}/{key}"] = Reply(
            200, page, {"content-type": "text/html", "content-encoding": "gzip"}
        )
        title, sentence = _lead(body)
        items.append(
            Item(guid=key, title=title, description=sentence, link=site.url(f"/{prefix}/{key}"))
        )
    site.routes[f"/{prefix}.xml"] = Reply(200, rss(items, language=""))
    return items


def test_extraction_quality_and_recall_on_real_pages(
    sqlite_factory: SqliteFactory, corpus: dict[str, tuple[str, bytes]]
) -> None:
    """`auto`: every page is fetched and extracted with an average word F1 of at least
    0.93, each under 1 s; each rule on a body-only word alerts exactly once, on its own
    article, with the word in the snippet. `never`: none of them alerts."""
    _, sample = next(iter(corpus.values()))
    extract_page(gzip.decompress(sample), url="")  # trafilatura's lazy imports, not timed
    truth = {key: body for key, (body, _) in corpus.items()}
    feed_text = {key: " ".join(_lead(body)) for key, body in truth.items()}
    pages = {
        key: gzip.decompress(page).decode("utf-8", "replace").lower()
        for key, (_, page) in corpus.items()
    }
    words = _body_only_words(truth, feed_text, pages)
    assert len(words) >= 70  # enough pages to say something about recall
    results = {}
    for mode in ("never", "auto"):
        engine = create_engine(sqlite_factory.new_database())
        with Site() as site:
            _serve(site, corpus, mode)
            # One page at a time, so that each page's time is its own.
            config = fast_config(
                concurrency=1, politeness=Politeness(per_host=1, min_gap_seconds=0.0)
            )
            world = World(engine, site, list(words.values()), mode=mode, config=config)
            world.setup(f"/{mode}.xml")
            with capture_logs() as logs:
                asyncio.run(world.poll_and_fetch(timeout=240))
            results[mode] = (world, logs, site)
        if mode == "never":
            assert world.hits() == [] and len(site.times) == 1  # the feed only
    world, logs, _site = results["auto"]
    articles = {a.url.rsplit("/", 1)[1]: a for a in world.articles()}
    assert {a.page_status for a in articles.values()} == {"ok"}
    scores = [f1(articles[key].text, body) for key, body in truth.items()]
    assert sum(scores) / len(scores) >= 0.93, sorted(scores)[:10]
    times = [e["ms"] for e in logs if e["event"] == "page.done"]
    # Under 1 s each on an idle machine; on a shared one the wall clock stretches with the
    # load (seven suites on two cores), so the bound does too.
    limit = 1000 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    assert len(times) == len(truth), len(times)
    assert max(times) < limit, [(n, t) for n, t in enumerate(times) if t > 500]
    hits = world.hits()
    rule_of = dict(zip(words, world.rule_ids, strict=True))
    by_rule = Counter(h.rule_id for h in hits)
    missed = [key for key in words if by_rule[rule_of[key]] != 1]
    assert not missed, [(k, words[k]) for k in missed]
    for key, rule_id in rule_of.items():
        (hit,) = [h for h in hits if h.rule_id == rule_id]
        assert hit.article_id == articles[key].id
        assert "**" in hit.snippet and words[key] in hit.snippet.lower()
