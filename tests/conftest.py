"""The backend table: every ThreadStore implementation the conformance suite runs against.

To add a backend, write an async-generator factory that takes pytest's `tmp_path`,
yields a fresh, empty store built with `max_item_bytes=MAX_ITEM_BYTES`, and
cleans up after the yield; then add one entry to `BACKENDS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
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


BACKENDS: dict[str, StoreFactory] = {
    "memory": memory_store,
    "local": local_store,
}


@pytest.fixture(params=list(BACKENDS.values()), ids=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ThreadStore]:
    """A fresh store of each backend in `BACKENDS`."""
    factory: StoreFactory = request.param
    async with contextlib.asynccontextmanager(factory)(tmp_path) as fresh:
        yield fresh
