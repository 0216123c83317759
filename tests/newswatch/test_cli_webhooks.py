"""`newswatch webhooks add|list|test|deliveries|retry` on a real SQLite database."""

from __future__ import annotations

import json

from click.testing import Result
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.settings import get_settings
from store import create_engine, session_scope
from store.deliveries import claim_due_deliveries, mark_dead
from tests.support.outbox import utcnow


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_webhooks_commands(cli_env: None) -> None:
    """add prints the secret last; list, test, deliveries and retry work on it."""
    assert _cli("users", "create", "desk").exit_code == 0
    added = _cli("webhooks", "add", "http://127.0.0.1:9/hook", "--user", "desk", "--rule", "3")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip().splitlines()[-1].startswith("whsec_")
    [hook] = json.loads(_cli("webhooks", "list", "--user", "desk", "--json").stdout)
    assert (hook["url"], hook["rule_ids"], hook["active"]) == ("http://127.0.0.1:9/hook", [3], True)

    assert "ping queued as delivery" in _cli("webhooks", "test", str(hook["id"])).stdout
    listed = _cli("webhooks", "deliveries", str(hook["id"])).stdout.splitlines()
    assert listed[0].startswith("id\tevent\tstatus") and "\tping\tpending\t0\t" in listed[1]
    delivery_id = listed[1].split("\t")[0]
    not_dead = _cli("webhooks", "retry", delivery_id)
    assert not_dead.exit_code == 2 and "pending" in not_dead.stderr

    engine = create_engine(get_settings().database_url)
    try:
        with session_scope(engine) as s:
            [job] = claim_due_deliveries(
                session=s, owner="t", now=utcnow(), lease_seconds=60, limit=10
            )
            mark_dead(
                session=s, delivery_id=job.id, owner="t", now=utcnow(), error="x", status_code=500
            )
    finally:
        engine.dispose()
    assert _cli("webhooks", "retry", delivery_id).exit_code == 0
    [row] = json.loads(_cli("webhooks", "deliveries", str(hook["id"]), "--json").stdout)
    assert row["status"] == "pending"


def test_webhooks_add_refuses_a_blocked_url(cli_env: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the guard on, a loopback URL is refused, naming the settings that open it."""
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", "false")
    get_settings.cache_clear()
    assert _cli("users", "create", "desk").exit_code == 0
    refused = _cli("webhooks", "add", "http://127.0.0.1:9/hook", "--user", "desk")
    assert refused.exit_code == 1 and "NEWSWATCH_FETCH_ALLOWLIST" in refused.stderr
