"""Dropped connections at exact protocol points (through `DropProxy`): retried where the
operation can tell whether its first attempt committed, typed errors otherwise, and
never a duplicate or a half-written thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from builders import agent_message, create_params, history, patch, read, tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    DeleteThreadParams,
    ReadThreadParams,
    ThreadNotFound,
)
from codex_thread_store.postgres import PostgresThreadStore, StoreUnavailable
from codex_thread_store.postgres.migrations import MIGRATIONS
from pg_server import PgServer

from .helpers import StoreMaker, sql
from .proxy import DropProxy


@pytest.fixture
async def proxy(pg: PgServer) -> AsyncIterator[DropProxy]:
    running = await DropProxy(upstream_port=pg.port).start()
    yield running
    await running.close()


@pytest.fixture
async def store(proxy: DropProxy, make_store: StoreMaker) -> PostgresThreadStore:
    # `proxy` first, so it is torn down last: the store closes while it can still talk.
    opened = make_store(dsn=proxy.dsn("codex_pgtests"))
    await opened.open()
    return opened


def items_of(dsn: str, owner: str, thread_id: str) -> int:
    ((count,),) = sql(
        dsn,
        "SELECT count(*) FROM thread_items WHERE owner = %s AND thread_id = %s",
        (owner, thread_id),
    )
    return int(count)


async def test_append_retried_after_the_connection_dropped_just_after_commit(
    store: PostgresThreadStore, proxy: DropProxy
) -> None:
    await store.create_thread(create_params(tid(1)))
    retries_before = store.db.retries

    proxy.drop_after(b"COMMIT")
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("exactly once")])
    )

    assert proxy.drops == 1
    assert store.db.retries > retries_before
    assert (await history(store, tid(1)))[1:] == [user_message("exactly once")]


async def test_append_retried_after_the_connection_dropped_before_commit(
    store: PostgresThreadStore, proxy: DropProxy
) -> None:
    await store.create_thread(create_params(tid(1)))

    proxy.drop_after(b"INSERT")  # mid-transaction: the server rolls it back
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("one"), agent_message("two")])
    )

    assert proxy.drops == 1
    assert (await history(store, tid(1)))[1:] == [user_message("one"), agent_message("two")]


async def test_caller_retry_with_its_key_after_a_typed_failure(
    proxy: DropProxy, make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    # With retries off the store cannot know whether the commit landed: it says so with
    # a typed error, and the caller's own retry under the same key is then safe.
    store = make_store(dsn=proxy.dsn("codex_pgtests"), retry_deadline_s=0.0)
    await store.create_thread(create_params(tid(1)))
    params = AppendThreadItemsParams(
        thread_id=tid(1), items=[user_message("keyed")], idempotency_key="request-42"
    )

    proxy.drop_after(b"COMMIT")
    with pytest.raises(StoreUnavailable, match="could not reach PostgreSQL"):
        await store.append_items(params)
    assert items_of(shared_dsn, owner, tid(1)) == 2  # it did commit

    await store.append_items(params)

    assert (await history(store, tid(1)))[1:] == [user_message("keyed")]


async def test_failed_append_before_commit_leaves_nothing(
    proxy: DropProxy, make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store(dsn=proxy.dsn("codex_pgtests"), retry_deadline_s=0.0)
    await store.create_thread(create_params(tid(1)))

    proxy.drop_after(b"INSERT")
    with pytest.raises(StoreUnavailable):
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("a"), user_message("b")])
        )

    assert items_of(shared_dsn, owner, tid(1)) == 1  # only the session_meta
    await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=[user_message("c")]))
    assert (await history(store, tid(1)))[1:] == [user_message("c")]


async def test_create_retried_after_commit_is_not_a_conflict(
    store: PostgresThreadStore, proxy: DropProxy
) -> None:
    proxy.drop_after(b"COMMIT")
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))

    assert proxy.drops == 1
    assert [i.type for i in await history(store, tid(1))] == ["session_meta"]


async def test_delete_retried_after_commit_is_not_a_not_found(
    store: PostgresThreadStore, proxy: DropProxy
) -> None:
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))

    proxy.drop_after(b"COMMIT")
    await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))

    assert proxy.drops == 1
    with pytest.raises(ThreadNotFound):
        await store.read_thread(ReadThreadParams(thread_id=tid(1)))


async def test_metadata_update_retried_after_commit_records_one_rename(
    store: PostgresThreadStore, proxy: DropProxy, shared_dsn: str, owner: str
) -> None:
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))

    proxy.drop_after(b"COMMIT")
    updated = await patch(store, tid(1), name="Renamed once")

    assert proxy.drops == 1
    assert updated.name == "Renamed once"
    assert (await read(store, tid(1))).name == "Renamed once"
    names = sql(
        shared_dsn,
        "SELECT name FROM thread_names WHERE owner = %s AND thread_id = %s",
        (owner, tid(1)),
    )
    assert names == [("Renamed once",)]


async def test_unreachable_server_is_a_typed_error_naming_the_server(
    proxy: DropProxy, make_store: StoreMaker
) -> None:
    await proxy.close()  # nothing listens on its port any more
    store = make_store(
        dsn=f"postgresql://postgres:s3cret@127.0.0.1:{proxy.port}/x?connect_timeout=1",
        retry_deadline_s=0.3,
        connect_timeout_s=0.3,
    )

    with pytest.raises(StoreUnavailable) as caught:
        await store.read_thread(ReadThreadParams(thread_id=tid(1)))

    message = str(caught.value)
    assert f"127.0.0.1:{proxy.port}" in message
    assert "s3cret" not in message


async def test_migration_retried_after_the_connection_dropped_mid_way(
    proxy: DropProxy, make_store: StoreMaker, fresh_dsn: str
) -> None:
    # A fresh database has no pg_trgm yet: the first migration creates it, and the
    # connection dies right after (before COMMIT). That is a fault to retry, not a
    # missing extension.
    database = fresh_dsn.rsplit("/", 1)[1].split("?")[0]
    store = make_store(dsn=proxy.dsn(database))

    proxy.drop_after(b"CREATE EXTENSION")
    await store.open()

    assert proxy.drops == 1
    applied = sql(fresh_dsn, "SELECT count(*) FROM schema_migrations")
    assert applied == [(len(MIGRATIONS),)]  # every migration, each exactly once


async def test_a_failed_open_leaves_no_pool_behind_and_a_later_open_works(
    proxy: DropProxy, make_store: StoreMaker
) -> None:
    store = make_store(
        dsn=f"postgresql://postgres@127.0.0.1:{proxy.port}/x?connect_timeout=1",
        retry_deadline_s=0.3,
        connect_timeout_s=0.3,
    )
    await proxy.close()

    with pytest.raises(StoreUnavailable):
        await store.open()

    assert store.db._pool is None  # no connection attempts go on in the background
