"""Test databases: a migrated SQLite file or PostgreSQL database per test, made from a
template that is migrated once per session."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from store import create_engine
from store.migrate import upgrade

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/newswatch_test"

# For tests of several processes on one database (replicas, leases): the `db_url` and
# `engine` fixtures on PostgreSQL alone, skipped with the usual reason without a server.
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def postgres_admin_url() -> tuple[str | None, str]:
    """The PostgreSQL URL to run tests on, or (None, reason) when there is none."""
    url = os.environ.get("NEWSWATCH_TEST_POSTGRES_URL")
    required = url is not None
    url = url or DEFAULT_PG_URL
    try:
        _ensure_database(url)
    except psycopg.OperationalError as exc:
        if required:
            raise RuntimeError(
                f"NEWSWATCH_TEST_POSTGRES_URL is set but unreachable: {exc}"
            ) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"no PostgreSQL at {make_url(url).render_as_string()}: {first}"
    return url, ""


def _ensure_database(url: str) -> None:
    """Connect, creating the test database first when the server lacks it."""
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3, autocommit=True):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    maintenance = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_libpq(maintenance), connect_timeout=3, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{make_url(url).database}"')  # type: ignore[arg-type]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresFactory:
    """Creates throwaway databases from one migrated template."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"nwt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        engine = create_engine(self.url_for(self.template))
        upgrade(engine)
        engine.dispose()

    def _execute(self, sql: str) -> None:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def new_database(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in [*self.created, self.template]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SqliteFactory:
    """Copies one migrated SQLite file per test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        engine = create_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        engine.dispose()
        self.count = 0

    def new_database(self) -> str:
        self.count += 1
        path = self.directory / f"test{self.count}.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"
