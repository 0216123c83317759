"""All SQL lives here: tables, engine and sessions, migrations, and the query functions.

Query functions take keyword-only arguments and a `session`; they never commit.
The caller's `session_scope` decides the transaction.
"""

from store.engine import PoolConfig, create_engine, is_sqlite, is_transient, session_scope

__all__ = ["PoolConfig", "create_engine", "is_sqlite", "is_transient", "session_scope"]
