"""Settings from the environment, as a container passes them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from newswatch.settings import Settings


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({}, "host", "127.0.0.1"),
        ({"NEWSWATCH_HOST": "0.0.0.0"}, "host", "0.0.0.0"),
        ({"NEWSWATCH_PORT": "9000"}, "port", 9000),
        ({"NEWSWATCH_ROLES": "poller,dispatcher"}, "roles", "poller,dispatcher"),
        # compose passes `${VAR:-}` through as an empty string: that means unset
        ({"NEWSWATCH_TELEGRAM_BOT_TOKEN": ""}, "telegram_bot_token", None),
        ({"NEWSWATCH_ADMIN_TOKEN": ""}, "admin_token", None),
        ({"NEWSWATCH_DB_POOL_TIMEOUT_SECONDS": "5"}, "db_pool_timeout_seconds", 5.0),
        ({"NEWSWATCH_DB_POOL_RECYCLE_SECONDS": "-1"}, "db_pool_recycle_seconds", -1),
    ],
)
def test_settings_from_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str, expected: object
) -> None:
    """Each variable lands in its setting; an empty one keeps the default."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert getattr(Settings(), field) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"NEWSWATCH_PORT": "70000"},
        {"NEWSWATCH_DB_POOL_SIZE": "0"},
        {"NEWSWATCH_DB_CONNECT_TIMEOUT_SECONDS": "1"},
    ],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Out-of-range values fail at start, not later."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings()
