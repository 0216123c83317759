"""`newswatch users …` on a real SQLite: unique names, list, rename, disable, enable."""

from __future__ import annotations

import json

from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import create_app
from newswatch.cli import app
from newswatch.settings import get_settings
from store import create_engine
from tests.conftest import auth


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_users_commands(cli_env: None) -> None:
    """A taken name is a clear error (exit 2); list prints every user (TSV in a pipe, or
    JSON); a disabled user's token answers 401 until it is enabled again."""
    token = _cli("users", "create", "analyst").stdout.strip().splitlines()[-1]
    again = _cli("users", "create", "analyst")
    assert again.exit_code == 2 and "'analyst' exists already" in again.stderr

    assert _cli("users", "rename", "analyst", "desk").exit_code == 0
    users = json.loads(_cli("users", "list", "--json").stdout)
    assert [(u["name"], u["disabled"]) for u in users] == [("desk", False)]
    tsv = _cli("users", "list").stdout.splitlines()
    assert tsv[0] == "id\tname\tadmin\tdisabled\tcreated_at" and "\tdesk\tFalse\tFalse\t" in tsv[1]

    engine = create_engine(get_settings().database_url)
    try:
        with TestClient(create_app(engine=engine)) as client:
            assert _cli("users", "disable", "desk").exit_code == 0
            assert client.get("/v1/rules", headers=auth(token)).status_code == 401
            assert "active" in _cli("users", "enable", "desk").stdout
            assert client.get("/v1/rules", headers=auth(token)).status_code == 200
    finally:
        engine.dispose()
    missing = _cli("users", "disable", "nobody")
    assert missing.exit_code == 2 and "No user 'nobody'" in missing.stderr
