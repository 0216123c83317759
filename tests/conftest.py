"""Shared fixtures. DB-backed tests run once on SQLite and once on PostgreSQL; the
PostgreSQL run is skipped with a reason when no server is reachable (never in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import ApiConfig, create_app
from api.tokens import display_prefix, hash_token, new_token
from store import create_engine, session_scope
from store.users import add_token, create_user, ensure_admin
from tests.support.databases import PostgresFactory, SqliteFactory, postgres_admin_url


@pytest.fixture(scope="session")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> SqliteFactory:
    return SqliteFactory(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_factory() -> Iterator[PostgresFactory | str]:
    url, reason = postgres_admin_url()
    if url is None:
        yield reason
        return
    factory = PostgresFactory(url)
    yield factory
    factory.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(
    request: pytest.FixtureRequest,
    sqlite_factory: SqliteFactory,
    postgres_factory: PostgresFactory | str,
) -> Iterator[str]:
    """A fresh, migrated database for this test: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_factory.new_database()
        return
    if isinstance(postgres_factory, str):
        pytest.skip(postgres_factory)
    url = postgres_factory.new_database()
    yield url
    postgres_factory.release(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def make_user(engine: Engine, name: str, *, admin: bool = False) -> tuple[int, str]:
    """Create a user with a token; return (user_id, token)."""
    token = new_token()
    with session_scope(engine) as session:
        user = create_user(session=session, name=name, now=now(), is_admin=admin)
        add_token(
            session=session,
            user_id=user.id or 0,
            token_hash=hash_token(token),
            prefix=display_prefix(token),
            now=now(),
        )
    return user.id or 0, token


@pytest.fixture
def admin_token(engine: Engine) -> str:
    token = new_token()
    with session_scope(engine) as session:
        ensure_admin(
            session=session, token_hash=hash_token(token), prefix=display_prefix(token), now=now()
        )
    return token


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The API in process, with private networks allowed (test servers are on loopback)."""
    app = create_app(engine=engine, config=ApiConfig(allow_private_networks=True))
    with TestClient(app) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end runs go two at a time (`make test`), but those on PostgreSQL
    one after another on one worker: one of them restarts the server, and two services
    stressing one server at once would time each other's waits out."""
    for item in items:
        if item.get_closest_marker("slow") and (
            "postgres" in item.nodeid or "test_db_restart" in item.nodeid
        ):
            item.add_marker(pytest.mark.xdist_group("postgres"))
