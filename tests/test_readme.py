"""The README shows what the service really answers: health and poll answers, the CLI
example, the feed's intervals; and it cites no file missing from the repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from newswatch.cli import app
from store import session_scope
from store.feeds import add_feed, update_feed
from tests.conftest import auth, now

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _stated(pattern: str) -> str:
    match = re.search(pattern, README, re.DOTALL)
    assert match is not None, pattern
    return match.group(1)


def test_cited_files_exist() -> None:
    """Every `*.md` file the README names is in the repository."""
    for name in set(re.findall(r"\b([A-Z][A-Za-z_-]*\.md)\b", README)) - {"README.md"}:
        assert (ROOT / name).exists(), f"README cites {name}, which is not in the repository"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_health_and_poll_answers_are_the_real_ones(
    client: TestClient, engine: Engine, admin_token: str
) -> None:
    """/healthz, /readyz and POST /v1/feeds/{id}/poll answer byte for byte what is shown."""
    assert client.get("/healthz").text == _stated(r"\$API/healthz +# liveness: (\{.*?\})")
    assert client.get("/readyz").text == _stated(r"# readiness: 200 (\{.*?\})")
    with session_scope(engine) as session:
        feed, _ = add_feed(session=session, url="http://127.0.0.1:9/f.xml", now=now())
    poll = client.post(f"/v1/feeds/{feed.id}/poll", headers=auth(admin_token))
    assert poll.status_code == 202
    assert poll.text == _stated(r"# poll as soon as possible -> 202 (\{.*?\})\n")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_feed_answer_shows_the_asked_and_the_effective_interval(
    client: TestClient, engine: Engine, admin_token: str
) -> None:
    """A feed asked to poll every 600 s that the poller set to 3600 shows both."""
    with session_scope(engine) as session:
        feed, _ = add_feed(
            session=session, url="http://127.0.0.1:9/f.xml", now=now(), interval_seconds=600
        )
        update_feed(
            session=session, feed_id=feed.id or 0, changes={"effective_interval_seconds": 3600}
        )
    shown = client.get(f"/v1/feeds/{feed.id}", headers=auth(admin_token)).json()
    assert (shown["interval_seconds"], shown["effective_interval_seconds"]) == (600, 3600)
    assert "effective_interval_seconds" in README and "<ttl>" in README


def test_cli_example_is_what_the_cli_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `console` example in the README is the command's real output in a pipe."""
    block = _stated(r"```console\n(.*?)```")
    command, *expected = block.strip().splitlines()
    args = shlex.split(command.removeprefix("$ "))
    assert args[0] == "newswatch"
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, args[1:], catch_exceptions=False)
    assert result.stdout.splitlines() == expected
