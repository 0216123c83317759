"""Full text through the real poll, page fetch and extract path, on loopback: which items
get their page, hits that only the page gives, politeness, and failures that lose nothing.
The politeness tests, about HTTP rather than the database, run on SQLite only."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from net.politeness import Politeness
from tests.support.feeds import Item, rss
from tests.support.pages import DripServer, Site, World, fast_config, page_html
from tests.support.servers import Reply

BODY = [
    "Jakarta's regulators met the company's representatives on Monday.",
    "The meeting covered data storage and content moderation in the country.",
    "Officials said the review of the Ascend 910B accelerator purchases would continue.",
    "Analysts at Mandiri Sekuritas expect a decision before the end of the quarter, "
    "citing the ministry's calendar and earlier statements by its spokesperson.",
]


def _item(site: Site, n: int, *, description: str = "", path: str = "", age_h: float = 0):
    return Item(
        guid=f"g{n}",
        title=f"Regulators meet platform {n}",
        description=description or "Regulators met the company on Monday.",
        link=site.url(path or f"/a/{n}"),
        published=datetime.now(UTC) - timedelta(hours=age_h),
    )


def _world(engine: Engine, site: Site, queries: list[str], **kw) -> World:  # type: ignore[no-untyped-def]
    kw.setdefault("config", fast_config())
    return World(engine, site, queries, **kw).setup()


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_body_only_rule_alerts_once_with_auto_and_never_with_never(
    engine: Engine, mode: str
) -> None:
    """A rule on words only in the page alerts once under `auto`, with a body snippet; a
    rule the feed text gives alerts as today; `never` fetches no page."""
    with Site() as site:
        site.routes["/feed.xml"] = Reply(200, rss([_item(site, 1)]))
        site.page("/a/1", page_html("Regulators meet platform", BODY, lang="id"))
        world = _world(engine, site, ['"Ascend 910B" AND Mandiri', "regulators"], mode=mode)
        asyncio.run(world.poll_and_fetch())
        (article,) = world.articles()
        hits = {h.rule_id: h for h in world.hits()}
        if mode == "never":
            assert site.hits_on("/a/1") == []
            assert set(hits) == {world.rule_ids[1]}
            assert (article.text_source, article.page_status) == ("feed", "skipped")
            return
        assert len(site.hits_on("/a/1")) == 1
        assert (article.text_source, article.page_status) == ("page", "ok")
        assert "Mandiri Sekuritas" in article.text and "Copyright" not in article.text
        assert set(hits) == set(world.rule_ids)  # each rule once: the feed-text hit is not redone
        assert "**Ascend 910B**" in hits[world.rule_ids[0]].snippet
        # The page's hit follows the poll closely (the fetcher is woken, not polled).
        assert hits[world.rule_ids[0]].created_at - article.fetched_at < timedelta(seconds=5)


def test_seed_case_huawei_ascend_from_an_indonesian_page(engine: Engine) -> None:
    """The issue's seed: headline and first sentence in the feed, "Ascend 910B" in the
    fourth paragraph of the page; `(华为 OR Huawei) AND "Ascend 910B"` alerts."""
    paragraphs = [
        "ByteDance, perusahaan induk TikTok, dilaporkan tengah menjajaki kerja sama baru "
        "dengan Huawei untuk pasokan chip kecerdasan buatan.",
        "Langkah ini muncul di tengah pembatasan ekspor Amerika Serikat terhadap chip "
        "canggih ke China yang terus diperketat.",
        "Menurut sumber yang mengetahui masalah ini, pembicaraan sudah berlangsung "
        "beberapa bulan dan melibatkan tim teknis kedua perusahaan.",
        "ByteDance disebut berencana memesan lebih dari 100.000 unit chip Ascend 910B "
        "buatan Huawei tahun ini, meski pasokannya masih terbatas.",
        "Huawei belum memberikan tanggapan resmi atas laporan tersebut.",
    ]
    with Site() as site:
        item = _item(site, 1, description=paragraphs[0])
        item = dataclasses.replace(item, title="ByteDance jajaki chip AI Huawei")
        site.routes["/feed.xml"] = Reply(200, rss([item]))
        site.page("/a/1", page_html("ByteDance jajaki chip AI Huawei", paragraphs, lang="id"))
        world = _world(engine, site, ['(华为 OR Huawei) AND "Ascend 910B"'])
        asyncio.run(world.poll_and_fetch())
        (hit,) = world.hits()
        assert hit.matched_terms == ["huawei", "ascend 910b"]
        (article,) = world.articles()
        assert article.language == "id"


def test_long_old_and_never_items_fetch_no_page(engine: Engine) -> None:
    """`auto` leaves a long feed text alone, and no item outside the alert window (the
    backlog of a first poll) costs a fetch; a teaser ending in "Read more" is fetched."""
    long_text = " ".join(f"word{n}" for n in range(200))
    with Site() as site:
        items = [
            _item(site, 1, description=long_text),
            _item(site, 2, age_h=48),
            _item(site, 3, description="Regulators met the company. Read more"),
        ]
        site.routes["/feed.xml"] = Reply(200, rss(items))
        for n in (1, 2, 3):
            site.page(f"/a/{n}", page_html("Regulators", BODY))
        world = _world(engine, site, ["Mandiri"])
        asyncio.run(world.poll_and_fetch())
        assert [bool(site.hits_on(f"/a/{n}")) for n in (1, 2, 3)] == [False, False, True]
        statuses = {a.url.rsplit("/", 1)[1]: a.page_status for a in world.articles()}
        assert statuses == {"1": "skipped", "2": "skipped", "3": "ok"}


def test_robots_disallow_is_honoured_and_feed_text_still_alerts(sqlite_engine: Engine) -> None:
    """A page under a robots.txt Disallow for our User-Agent is never fetched; the item
    keeps its feed text and matches on it."""
    with Site() as site:
        site.routes["/robots.txt"] = Reply(
            200, b"User-agent: *\nAllow: /\n\nUser-agent: newswatch\nDisallow: /private/\n"
        )
        site.routes["/feed.xml"] = Reply(
            200, rss([_item(site, 1, path="/private/1"), _item(site, 2)])
        )
        site.page("/private/1", page_html("Regulators", BODY))
        site.page("/a/2", page_html("Regulators", BODY))
        world = _world(sqlite_engine, site, ["regulators"])
        asyncio.run(world.poll_and_fetch())
        assert site.hits_on("/private/1") == [] and len(site.hits_on("/a/2")) == 1
        assert len(site.hits_on("/robots.txt")) == 1  # cached per host
        by_path = {a.url.rsplit("/", 2)[1]: a for a in world.articles()}
        assert by_path["private"].page_status == "failed: robots.txt disallows it"
        assert by_path["private"].text_source == "feed"
        assert len(world.hits()) == 2


def test_per_host_gap_holds(sqlite_engine: Engine) -> None:
    """Requests to one host start at least the minimum gap apart."""
    gap = 0.4
    with Site() as site:
        site.routes["/feed.xml"] = Reply(200, rss([_item(site, n) for n in range(4)]))
        for n in range(4):
            site.page(f"/a/{n}", page_html("Regulators", BODY))
        config = fast_config(politeness=Politeness(per_host=4, min_gap_seconds=gap))
        world = _world(sqlite_engine, site, ["Mandiri"], config=config)
        asyncio.run(world.poll_and_fetch())
        starts = sorted(t for t, path in site.times if path != "/feed.xml")
        assert len(starts) == 5  # robots.txt and four pages
        # Loose: a loaded machine delays arrivals unevenly.
        assert min(b - a for a, b in itertools.pairwise(starts)) >= gap * 0.6
        assert len(world.hits()) == 4


def test_429_retry_after_pauses_the_host(sqlite_engine: Engine) -> None:
    """A 429 with Retry-After: nothing goes to that host until it has passed; then the
    page is fetched and alerts."""
    answers = iter([Reply(429, b"slow down", {"retry-after": "1"})])

    def page(request):  # type: ignore[no-untyped-def]
        reply = next(answers, None)
        return reply or Reply(200, page_html("Regulators", BODY), {"content-type": "text/html"})

    with Site() as site:
        site.routes["/feed.xml"] = Reply(200, rss([_item(site, 1), _item(site, 2)]))
        site.routes["/a/1"] = site.routes["/a/2"] = page
        config = fast_config(politeness=Politeness(per_host=1, min_gap_seconds=0.0))
        world = _world(sqlite_engine, site, ["Mandiri"], config=config)
        asyncio.run(world.poll_and_fetch())
        pages = sorted(t for t, path in site.times if path.startswith("/a/"))
        assert len(pages) == 3  # the 429, then both pages
        assert pages[1] - pages[0] >= 0.95
        assert {a.page_status for a in world.articles()} == {"ok"}
        assert len(world.hits()) == 2


@pytest.mark.parametrize("failure", ["too_big", "drip", "hang", "private_redirect", "http_500"])
def test_refused_pages_keep_the_feed_text_alert(sqlite_engine: Engine, failure: str) -> None:
    """An over-cap page, a slow drip, a redirect to a private address and a server that
    answers 500 each fail the page (bounded retries) with a reason; the feed-text alert is
    recorded at the poll, before any page, and the other page still works."""
    with Site() as site, DripServer() as drip:
        site.routes["/feed.xml"] = Reply(200, rss([_item(site, 1), _item(site, 2)]))
        site.page("/a/2", page_html("Regulators", BODY))
        config = fast_config(max_attempts=2)
        if failure == "too_big":
            site.page("/a/1", page_html("Regulators", BODY * 2000))
            config = dataclasses.replace(
                config, limits=dataclasses.replace(config.limits, max_bytes=64 * 1024)
            )
        elif failure == "drip":
            site.routes["/a/1"] = Reply(302, b"", {"location": f"http://127.0.0.1:{drip.port}/"})
            config = dataclasses.replace(
                config, limits=dataclasses.replace(config.limits, timeout_seconds=1.0)
            )
        elif failure == "hang":
            site.routes["/a/1"] = lambda request: time.sleep(2.5) or Reply(200, b"late")
            config = dataclasses.replace(
                config, limits=dataclasses.replace(config.limits, timeout_seconds=1.0)
            )
        elif failure == "private_redirect":
            site.routes["/a/1"] = Reply(302, b"", {"location": "http://10.0.0.1/a/1"})
        else:
            site.routes["/a/1"] = Reply(500, b"down")
        world = _world(
            sqlite_engine, site, ["regulators", "Mandiri"], config=config, allow_ports=(drip.port,)
        )
        asyncio.run(world.poll_and_fetch(timeout=30))
        by_n = {a.url.rsplit("/", 1)[1]: a for a in world.articles()}
        status = by_n["1"].page_status
        expected = {
            "too_big": "limit",
            "drip": "within 1 s",
            "hang": "within 1 s",
            "private_redirect": "non-public address",
            "http_500": "HTTP 500",
        }[failure]
        assert status.startswith("failed: ") and expected in status, status
        assert by_n["1"].text_source == "feed" and by_n["1"].page_attempts >= 1
        assert by_n["2"].page_status == "ok"
        hits = {(h.rule_id, h.article_id) for h in world.hits()}
        assert (world.rule_ids[0], by_n["1"].id) in hits  # the feed-text alert
        assert (world.rule_ids[1], by_n["2"].id) in hits  # the page alert of the good page
        if failure in ("http_500", "drip", "hang"):
            assert by_n["1"].page_attempts == 2  # retried, boundedly
