"""`newswatch rules add` tells of stored matches; `rules backfill` alerts them once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from click.testing import Result
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.settings import get_settings
from store import create_engine, session_scope
from store.articles import insert_new_articles
from store.feeds import add_feed
from tests.support.telegram_world import Story


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_rules_add_and_backfill(cli_env: None) -> None:
    """The add answer counts the backlog and names the command; backfill alerts it once."""
    assert _cli("users", "create", "desk").exit_code == 0
    engine = create_engine(get_settings().database_url)
    try:
        with session_scope(engine) as s:
            feed, _ = add_feed(session=s, url="https://w.example/rss", now=datetime.now(UTC))
            story = Story("k", "https://w.example/1", "https://w.example/1", "Huawei news")
            insert_new_articles(
                session=s, feed_id=feed.id or 0, articles=[story], now=datetime.now(UTC)
            )
    finally:
        engine.dispose()
    added = _cli("rules", "add", "hw", "Huawei", "--user", "desk")
    assert "1 stored article(s) of the last 24 h already match" in added.stdout
    match = re.search(r"newswatch rules backfill (\d+)", added.stdout)
    assert match is not None
    assert "alerted 1 stored article(s)" in _cli("rules", "backfill", match.group(1)).stdout
    assert "nothing to alert" in _cli("rules", "backfill", match.group(1)).stdout
    at_once = _cli("rules", "add", "hw2", "Huawei", "--user", "desk", "--backfill-hours", "1")
    assert "alerted 1 stored article(s) of the last 1 h" in at_once.stdout
    too_far = _cli("rules", "add", "hw3", "Huawei", "--user", "desk", "--backfill-hours", "48")
    assert too_far.exit_code == 2 and "ALERT_MAX_AGE_HOURS" in too_far.stdout
