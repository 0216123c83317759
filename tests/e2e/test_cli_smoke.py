"""The operator's CLI end to end: `newswatch …` subprocesses on a temporary SQLite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api import create_app
from store import create_engine
from tests.conftest import auth
from tests.support.feeds import HUAWEI_ONLY, rss
from tests.support.servers import FeedServer


def newswatch(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `newswatch` command (or `python -m newswatch`) on `db`."""
    script = shutil.which("newswatch", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "newswatch"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update(
        NEWSWATCH_DATABASE_URL=f"sqlite:///{db}",
        NEWSWATCH_LOG_FORMAT="json",
        NEWSWATCH_ALLOW_PRIVATE_NETWORKS="true",  # the feed server is on loopback
        COLUMNS="200",
    )
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_smoke(tmp_path: Path) -> None:
    """Migrate, create a user, add a feed, add and list a rule, test rules against text."""
    db = tmp_path / "cli.db"
    assert newswatch(db, "migrate").returncode == 0

    created = newswatch(db, "users", "create", "alice")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("nw_")
    second = newswatch(db, "users", "token", "alice", "--name", "laptop")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1] not in ("", token)

    with FeedServer() as feeds:
        url = feeds.set_feed("/berita.xml", rss([HUAWEI_ONLY]))
        feed = newswatch(db, "feeds", "add", url)
    assert feed.returncode == 0, feed.stderr
    feed_id = int(feed.stdout.split()[1])  # "feed 1 added http://…"
    assert url in newswatch(db, "feeds", "list").stdout

    added = newswatch(
        db,
        "rules", "add", "bd-hw", "ByteDance AND Huawei",
        "--user", "alice", "--feed", str(feed_id),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    # The rule is alice's, as her second token sees over the API.
    engine = create_engine(f"sqlite:///{db}")
    try:
        with TestClient(create_app(engine=engine)) as client:
            [rule] = client.get("/v1/rules", headers=auth(second.stdout.split()[-1])).json()[
                "items"
            ]
    finally:
        engine.dispose()
    assert (rule["name"], rule["query"], rule["feed_ids"]) == (
        "bd-hw",
        "ByteDance AND Huawei",
        [feed_id],
    )

    listed = newswatch(db, "rules", "list", "--user", "alice")
    assert listed.returncode == 0 and "ByteDance AND Huawei" in listed.stdout

    matched = newswatch(
        db, "rules", "test", "ByteDance AND Huawei",
        "--title", "Deal", "--text", "On Monday ByteDance and Huawei signed a chip deal.",
    )  # fmt: skip
    assert matched.returncode == 0, matched.stderr
    assert "matched terms: bytedance, huawei" in matched.stdout
    assert "ByteDance and Huawei signed a chip deal" in matched.stdout

    missed = newswatch(db, "rules", "test", "ByteDance AND Huawei", "--text", "Only Huawei.")
    assert (missed.returncode, missed.stdout.strip()) == (1, "no match")

    bad = newswatch(db, "rules", "add", "bad", "ByteDance AND", "--user", "alice")
    assert bad.returncode == 2
    assert "expected a term after AND" in bad.stdout and "             ^" in bad.stdout
