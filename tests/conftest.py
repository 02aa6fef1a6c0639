"""The backend table: every ThreadStore implementation the conformance suite runs against.

To add a backend, write an async-generator factory that takes pytest's `tmp_path`,
yields a fresh, empty store built with `max_item_bytes=MAX_ITEM_BYTES`, and
cleans up after the yield; then add one entry to `BACKENDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import MAX_ITEM_BYTES
from codex_thread_store import InMemoryThreadStore, ThreadStore
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

StoreFactory = Callable[[Path], AsyncIterator[ThreadStore]]


async def memory_store(tmp_path: Path) -> AsyncIterator[ThreadStore]:
    store = InMemoryThreadStore(max_item_bytes=MAX_ITEM_BYTES)
    try:
        yield store
    finally:
        await store.aclose()


async def local_store(tmp_path: Path) -> AsyncIterator[ThreadStore]:
    store = LocalThreadStore(
        LocalThreadStoreConfig(codex_home=tmp_path / "codex-home", max_item_bytes=MAX_ITEM_BYTES)
    )
    try:
        yield store
    finally:
        await store.aclose()


async def postgres_store(tmp_path: Path) -> AsyncIterator[ThreadStore]:
    """A fresh owner in the shared throwaway server's database: an empty store per test."""
    from codex_thread_store.postgres import PostgresThreadStore, PostgresThreadStoreConfig
    from pg_server import conformance_dsn

    dsn = await asyncio.to_thread(conformance_dsn)
    store = PostgresThreadStore(
        PostgresThreadStoreConfig(
            conninfo=dsn, owner=f"conformance-{uuid.uuid4().hex}", max_item_bytes=MAX_ITEM_BYTES
        )
    )
    try:
        yield store
    finally:
        await store.aclose()


@dataclass(frozen=True)
class Backend:
    """A store factory and the optional operations its stores support (every other
    optional operation must raise `Unsupported`)."""

    factory: StoreFactory
    capabilities: frozenset[str] = frozenset()


BACKENDS: dict[str, Backend] = {
    "memory": Backend(memory_store),
    "local": Backend(local_store, frozenset({"fork_point"})),
    "postgres": Backend(postgres_store),
}


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_postgres() -> Iterator[None]:
    """Stop the shared PostgreSQL server (if a test started one) when the session ends."""
    yield
    from pg_server import stop_shared

    stop_shared()


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in `BACKENDS`."""
    return BACKENDS[request.param]


@pytest.fixture
async def store(backend: Backend, tmp_path: Path) -> AsyncIterator[ThreadStore]:
    """A fresh store of each backend in `BACKENDS`."""
    async with contextlib.asynccontextmanager(backend.factory)(tmp_path) as fresh:
        yield fresh
