"""Fixtures of the PostgreSQL store's own tests: the shared throwaway server, databases,
stores that are closed after the test, and raw SQL access for inspecting rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from codex_thread_store.postgres import PostgresThreadStore, PostgresThreadStoreConfig
from pg_server import PgServer, shared_server

from .helpers import StoreMaker


@pytest.fixture(scope="session")
def pg() -> PgServer:
    return shared_server()


@pytest.fixture(scope="session")
def shared_dsn(pg: PgServer) -> str:
    """One database for tests that isolate themselves by owner."""
    return pg.create_database("codex_pgtests")


@pytest.fixture
def fresh_dsn(pg: PgServer) -> str:
    """A brand-new empty database (for migration tests)."""
    return pg.create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def owner() -> str:
    return f"owner-{uuid.uuid4().hex}"


@pytest.fixture
async def make_store(shared_dsn: str, owner: str) -> AsyncIterator[StoreMaker]:
    """`make_store(dsn=..., owner=..., **config)`: a store closed when the test ends.

    Defaults: the shared database and the test's `owner`."""
    made: list[PostgresThreadStore] = []
    default_owner = owner

    def make(
        *, dsn: str | None = None, owner: str | None = None, **config: Any
    ) -> PostgresThreadStore:
        store = PostgresThreadStore(
            PostgresThreadStoreConfig(
                conninfo=dsn or shared_dsn, owner=owner or default_owner, **config
            )
        )
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()
