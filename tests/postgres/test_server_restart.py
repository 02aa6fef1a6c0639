"""A server restart in the middle of a run: every pooled connection dies at once, the
store reconnects and retries, and the history ends up complete, in order, without
duplicates. A server down for longer than the retry deadline is a typed error, and
the store recovers by itself once the server is back.

These tests own a dedicated server, so restarting it disturbs no other test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from builders import create_params, history, list_ids, tid, user_message
from codex_thread_store import AppendThreadItemsParams, ListThreadsParams
from codex_thread_store.postgres import StoreUnavailable
from pg_server import PgServer

from .helpers import StoreMaker


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    server = PgServer().start()
    yield server
    server.destroy()


@pytest.fixture
def dsn(own_server: PgServer) -> str:
    return own_server.create_database("restarts")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_restart_between_operations_is_invisible(
    make_store: StoreMaker, own_server: PgServer, dsn: str, mode: str
) -> None:
    store = make_store(dsn=dsn, pool_min_size=3)
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))
    await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=[user_message("a")]))

    await asyncio.to_thread(own_server.restart, mode)  # "immediate" is a crash + recovery

    await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=[user_message("b")]))
    assert (await history(store, tid(1)))[1:] == [user_message("a"), user_message("b")]
    assert await list_ids(store) == [tid(1)]
    assert store.db.retries >= 1


async def test_restart_in_the_middle_of_a_run_of_appends(
    make_store: StoreMaker, own_server: PgServer, dsn: str
) -> None:
    store = make_store(dsn=dsn, pool_min_size=2)
    reader = make_store(dsn=dsn)
    await store.create_thread(create_params(tid(2)))
    await store.persist_thread(tid(2))
    total, stop_at = 120, 30
    reached, stopped = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        for n in range(total):
            await store.append_items(
                AppendThreadItemsParams(thread_id=tid(2), items=[user_message(f"m{n}")])
            )
            if n == stop_at:
                # Hold here until the server is down, so the following appends are
                # certain to meet dead connections and a server that is starting up.
                reached.set()
                await stopped.wait()

    async def lister() -> int:
        pages = 0
        while not writing.done():
            await reader.list_threads(ListThreadsParams(page_size=10))
            pages += 1
        return pages

    writing = asyncio.create_task(writer())
    await reached.wait()
    listing = asyncio.create_task(lister())
    await asyncio.to_thread(own_server.stop, "fast")
    stopped.set()
    await asyncio.to_thread(own_server.start)  # appends and listings retry meanwhile
    await writing
    await listing

    assert store.db.retries >= 1
    assert (await history(store, tid(2)))[1:] == [user_message(f"m{n}") for n in range(total)]


async def test_outage_longer_than_the_deadline_is_typed_then_recovers(
    make_store: StoreMaker, own_server: PgServer, dsn: str
) -> None:
    store = make_store(dsn=dsn, retry_deadline_s=0.5)
    await store.create_thread(create_params(tid(3)))
    await store.persist_thread(tid(3))

    await asyncio.to_thread(own_server.stop, "fast")
    try:
        with pytest.raises(StoreUnavailable, match="nothing was half-written"):
            await store.append_items(
                AppendThreadItemsParams(thread_id=tid(3), items=[user_message("lost?")])
            )
    finally:
        await asyncio.to_thread(own_server.start)

    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(3), items=[user_message("after the outage")])
    )
    assert (await history(store, tid(3)))[1:] == [user_message("after the outage")]
