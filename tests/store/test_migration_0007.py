"""Migration 0007 upgrades a database that already holds an outbox, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from store.migrate import _config, is_current, upgrade


def test_upgrade_keeps_existing_deliveries(engine: Engine) -> None:
    """Down to the revision before 0007, add a user, a webhook and a delivery, then up again: the row is kept,
    with no digest, and the new tables are there."""
    before = ScriptDirectory.from_config(_config()).get_revision("0007").down_revision
    command.downgrade(_config(engine), str(before))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (name, is_admin, created_at) VALUES ('u', false, :n)"),
            {"n": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO deliveries (user_id, channel_kind, channel_id, event_type, status,"
                " attempts, next_attempt_at, lease_owner, last_error, created_at, updated_at)"
                " VALUES (1, 'webhook', 1, 'ping', 'pending', 0, :n, '', '', :n, :n)"
            ),
            {"n": now},
        )
    upgrade(engine)
    assert is_current(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT event_type, status, digest_id FROM deliveries")).all()
        assert [tuple(r) for r in rows] == [("ping", "pending", None)]
        for table in ("channels", "channel_settings", "rule_mutes", "digests"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0
