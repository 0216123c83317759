"""`newswatch feeds add|list|import|export` against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from newswatch.cli import app
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.servers import FeedServer


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_feeds_import_list_export(cli_env: None, tmp_path: Path) -> None:
    """Import counts added/existing/invalid; list and export show the imported feeds."""
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="A" xmlUrl="http://127.0.0.1:9/a.xml"/>'
        '<outline text="B" xmlUrl="http://127.0.0.1:9/b.xml"/>'
        '<outline text="bad" xmlUrl="file:///etc/passwd"/></body></opml>'
    )
    output = _run("feeds", "import", str(opml))
    assert "added 2, existing 0, invalid 1" in output
    assert "importing" in output  # the progress bar
    assert "added 0, existing 2, invalid 1" in _run("feeds", "import", str(opml))
    listing = _run("feeds", "list")
    assert "127.0.0.1:9/a.xml" in listing and "127.0.0.1:9/b.xml" in listing
    out = tmp_path / "out.opml"
    _run("feeds", "export", str(out))
    exported = out.read_text()
    assert 'xmlUrl="http://127.0.0.1:9/a.xml"' in exported and "passwd" not in exported


def test_feeds_add_discovers_the_feed(cli_env: None) -> None:
    """`feeds add <page>` stores the feed the page advertises."""
    with FeedServer() as server:
        server.set_feed("/rss.xml", rss([HUAWEI_ONLY]))
        page = b'<html><head><link rel="alternate" type="application/rss+xml" href="rss.xml"></head></html>'
        server.set_feed("/", page, "text/html")
        output = _run("feeds", "add", server.url("/"))
    assert "added" in output and "rss.xml" in output


def test_lists_print_full_values_in_a_pipe(cli_env: None, tmp_path: Path) -> None:
    """In a pipe, `feeds list` and `rules list` print tab-separated full values (a long
    URL whole), and `--json` prints objects."""
    import json

    long_url = "http://127.0.0.1:9/" + "very-long-path/" * 12 + "feed.xml"
    opml = tmp_path / "in.opml"
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body><outline text="A" xmlUrl="{long_url}"/>'
        "</body></opml>"
    )
    _run("feeds", "import", str(opml))
    header, row = _run("feeds", "list").splitlines()
    assert header.split("\t")[:3] == ["id", "title", "url"]
    assert row.split("\t")[2] == long_url
    [feed] = json.loads(_run("feeds", "list", "--json"))
    assert (feed["url"], feed["interval"], feed["effective_interval"]) == (long_url, 600, 600)

    _run("users", "create", "desk")
    query = "(ByteDance OR 字节跳动) AND (Huawei OR 华为) AND " + " AND ".join(["chip"] * 20)
    _run("rules", "add", "long", query, "--user", "desk")
    assert _run("rules", "list", "--user", "desk").splitlines()[1].split("\t")[4] == query
    [rule] = json.loads(_run("rules", "list", "--user", "desk", "--json"))
    assert rule["query"] == query and rule["feed_ids"] == "all"


def test_feeds_add_full_text_and_prune_dry_run(cli_env: None) -> None:
    """`feeds add --full-text never` stores the mode (and OPML export carries it);
    `prune --dry-run` counts and `prune` runs on an empty catalogue."""
    _run("migrate")
    with FeedServer() as server:
        url = server.set_feed("/f.xml", rss([HUAWEI_ONLY]))
        _run("feeds", "add", url, "--full-text", "never")
    assert 'newswatch:fullText="never"' in _run("feeds", "export")
    refused = CliRunner().invoke(app, ["feeds", "add", url, "--full-text", "sometimes"])
    assert refused.exit_code == 2
    assert "would delete: 0 hits, 0 finished deliveries, 0 articles" in _run("prune", "--dry-run")
    assert "deleted: 0 hits" in _run("prune")
