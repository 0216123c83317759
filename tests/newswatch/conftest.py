"""The CLI in process (Typer's CliRunner) on a fresh SQLite database per test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from newswatch.settings import get_settings
from tests.support.databases import SqliteFactory


@pytest.fixture
def cli_env(sqlite_factory: SqliteFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_factory.new_database())
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("NEWSWATCH_LOG_LEVEL", "warning")
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    root_handlers = list(logging.getLogger().handlers)
    yield
    get_settings.cache_clear()
    # The CLI configures logging onto CliRunner's stderr, which is closed afterwards:
    # later tests must not log into it.
    structlog.reset_defaults()
    for handler in set(logging.getLogger().handlers) - set(root_handlers):
        logging.getLogger().removeHandler(handler)
