"""Test databases: a migrated SQLite file or PostgreSQL database per test, made from a
template that is migrated once per session (PostgreSQL ones emptied and reused)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from monitor import story_index
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


# Everything a test could change in the schema (DDL gives catalogue rows new oids), and
# the migration the database is at: a reused database must show the template's value.
_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
  SELECT concat_ws(':', 'c', c.oid, c.relname, c.relkind, c.relnatts) FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'a', a.attrelid, a.attname, a.atttypid, a.attnotnull, a.atthasdef,
                   a.attisdropped)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'k', oid, conname) FROM pg_constraint
   WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 't', oid, typname) FROM pg_type
   WHERE typnamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'p', oid, proname) FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'g', t.oid, t.tgname) FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'v', version_num) FROM alembic_version
) AS s(t)
"""


class PostgresFactory:
    """Hands out databases cloned from one migrated template, and reuses them: a
    returned database whose schema is untouched is emptied (rows deleted, sequences
    restarted), which is far cheaper than dropping it and cloning another; any other is
    dropped."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"nwt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []
        self.free: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        engine = create_engine(self.url_for(self.template))
        upgrade(engine)
        engine.dispose()
        with psycopg.connect(_libpq(self.url_for(self.template))) as conn:
            self.fingerprint = _fetch(conn, _SCHEMA_FINGERPRINT)
            # Emptying without regard to foreign keys needs a superuser; else drop each.
            self.reusable = bool(
                _fetch(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            )

    def _execute(self, sql: str) -> None:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def new_database(self) -> str:
        """An empty, migrated database of this session's own."""
        if self.free:
            return self.url_for(self.free.pop())
        name = f"{self.prefix}_{len(self.created)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url_for(name)

    def release(self, url: str) -> None:
        """Take a database back after its test: empty it for the next, or drop it."""
        name = make_url(url).database
        assert name is not None
        if self.reusable and self._empty(name):
            # Its ids start again at 1: the story index's shingle cache (keyed by database
            # and article id) would give the next test this one's articles' shingles.
            story_index.CACHE.clear()
            self.free.append(name)
        else:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _empty(self, name: str) -> bool:
        """Delete every row and restart every sequence, if the schema is the template's.
        Other connections (a killed service's, a leaked pool's) are ended first."""
        try:
            with psycopg.connect(_libpq(self.url_for(name)), autocommit=True) as conn:
                others = (
                    "FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                conn.execute(f"SELECT pg_terminate_backend(pid) {others}")  # type: ignore[arg-type]
                deadline = time.monotonic() + 10
                while _fetch(conn, f"SELECT count(*) {others}") and time.monotonic() < deadline:
                    time.sleep(0.01)
                with conn.transaction():
                    if _fetch(conn, _SCHEMA_FINGERPRINT) != self.fingerprint:
                        return False
                    conn.execute("SET LOCAL session_replication_role = replica")  # no FK checks
                    statements = conn.execute(
                        "SELECT format('DELETE FROM %I', tablename) FROM pg_tables"
                        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        " UNION ALL SELECT format('ALTER SEQUENCE %I RESTART', sequencename)"
                        " FROM pg_sequences WHERE schemaname = 'public'"
                        " AND last_value IS NOT NULL"
                    ).fetchall()
                    for (statement,) in statements:
                        conn.execute(statement)
            return True
        except psycopg.Error:
            return False

    def close(self) -> None:
        for name in [*self.created, self.template]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fetch(conn: psycopg.Connection, sql: str) -> object:  # type: ignore[type-arg]
    row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    return row[0] if row else None


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
