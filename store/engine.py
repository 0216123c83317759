"""Engines and sessions: SQLite in WAL mode with foreign keys on, or PostgreSQL with a pool."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

# Per SQLite connection: page cache (KiB, filled only as pages are read) and WAL pages
# between automatic checkpoints.
SQLITE_CACHE_KIB = 32_768
SQLITE_CHECKPOINT_PAGES = 10_000
# Bound parameters a statement may take, on either database (PostgreSQL allows 65,535).
MAX_PARAMETERS = 32_766


@dataclass(frozen=True)
class PoolConfig:
    """PostgreSQL connection-pool settings (ignored on SQLite)."""

    size: int = 10
    max_overflow: int = 10
    timeout_seconds: float = 30.0
    recycle_seconds: int = 1800
    connect_timeout_seconds: int = 10


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for a plain `postgresql://` URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, pool: PoolConfig | None = None, echo: bool = False) -> Engine:
    """Create the one engine a process uses."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
            poolclass=sa.pool.QueuePool,
            # The connection used last is handed out first: its page cache is warm, and
            # the writer's next transaction finds the pages its last one wrote.
            pool_use_lifo=True,
        )
        _configure_sqlite(engine)
        return engine
    pool = pool or PoolConfig()
    return sa.create_engine(
        url,
        echo=echo,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.timeout_seconds,
        pool_recycle=pool.recycle_seconds,
        # A PostgreSQL restart leaves dead sockets in the pool; test them before use.
        pool_pre_ping=True,
        # An unreachable server fails a checkout quickly instead of hanging a worker thread.
        connect_args={"connect_timeout": max(2, pool.connect_timeout_seconds)},
    )


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure: a dropped or refused database connection."""
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or bool(
        getattr(exc, "connection_invalidated", False)
    )


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_conn.isolation_level = None
        # Ingest's statements take thousands of values (fewer statements, fewer waits for
        # the GIL): SQLite 3.32 raised the bound on them from 999 to 32,766.
        if dbapi_conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) < MAX_PARAMETERS:
            raise RuntimeError(
                f"SQLite {sqlite3.sqlite_version} binds too few parameters a statement;"
                " newswatch needs SQLite 3.32 or newer"
            )
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # Ingest's writer rewrites the same index pages (the recent story keys', the
        # newest articles' and links') in transaction after transaction. A cache that
        # holds them (SQLite's default is 2 MB), and checkpoints that copy such a page once
        # every ~40 MB of WAL instead of every 4 MB: bench.ingest wrote 1.6 GB instead of
        # 2.1, and its commits replayed alone took a sixth less time.
        cur.execute(f"PRAGMA cache_size={-SQLITE_CACHE_KIB}")
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
        cur.close()

    # SQLite has one writer. Writers of this process queue on a lock rather than in
    # SQLite's busy handler, which sleeps in steps of up to 100 ms and so leaves the
    # database idle while threads wait. Other processes still meet the busy handler.
    writers = threading.Lock()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY
        # without waiting; taking the write lock up front makes writers queue instead.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode == "IMMEDIATE":
            # Bounded: a nested writer in one thread falls back to the busy handler.
            conn.info["nw_writer"] = writers.acquire(timeout=30)
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _on_end(conn)
            raise

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(conn: sa.Connection) -> None:
        if conn.info.pop("nw_writer", False):
            writers.release()


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    bind = engine.execution_options(sqlite_begin="DEFERRED") if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
