"""delete_thread: history and metadata go; the id is free again."""

from __future__ import annotations

import pytest

from builders import (
    append,
    create_params,
    history,
    list_ids,
    new_thread,
    patch,
    read,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    DeleteThreadParams,
    ListTurnsParams,
    ThreadNotFound,
    ThreadStore,
)


def params(n: int) -> DeleteThreadParams:
    return DeleteThreadParams(thread_id=tid(n))


async def closed_thread(store: ThreadStore, n: int) -> str:
    thread_id = await new_thread(store, tid(n))
    await append(store, thread_id, user_message(f"message {n}"))
    await store.shutdown_thread(thread_id)
    return thread_id


async def test_delete_of_a_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound) as raised:
        await store.delete_thread(params(1))

    assert raised.value.thread_id == tid(1)


async def test_deleted_thread_is_gone_from_every_read(store: ThreadStore) -> None:
    await closed_thread(store, 1)

    await store.delete_thread(params(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    with pytest.raises(ThreadNotFound):
        await read(store, tid(1), include_archived=True, include_history=True)
    with pytest.raises(ThreadNotFound):
        await history(store, tid(1), include_archived=True)
    with pytest.raises(ThreadNotFound):
        await store.list_turns(ListTurnsParams(thread_id=tid(1), include_archived=True))
    with pytest.raises(ThreadNotFound):
        await patch(store, tid(1), include_archived=True, name="x")
    assert await list_ids(store) == []


async def test_delete_twice_is_not_found(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await store.delete_thread(params(1))

    with pytest.raises(ThreadNotFound):
        await store.delete_thread(params(1))


async def test_deleted_id_can_be_created_again_from_scratch(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await patch(store, tid(1), name="old name", preview="old preview")
    await store.delete_thread(params(1))

    await store.create_thread(create_params(tid(1), model_provider="fresh"))

    thread = await read(store, tid(1))
    assert (thread.name, thread.preview, thread.model_provider) == (None, "", "fresh")
    items = await history(store, tid(1))
    assert [i.type for i in items] == ["session_meta"]
    assert items[0].payload["model_provider"] == "fresh"


async def test_delete_of_an_archived_thread(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await shut_and_archive(store, tid(1))

    await store.delete_thread(params(1))

    assert await list_ids(store, archived=True) == []
    with pytest.raises(ThreadNotFound):
        await read(store, tid(1), include_archived=True)


async def test_delete_leaves_other_threads(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await closed_thread(store, 2)

    await store.delete_thread(params(1))

    assert await list_ids(store) == [tid(2)]
    assert (await history(store, tid(2)))[1:] == [user_message("message 2")]


async def test_delete_of_a_discarded_unpersisted_thread_is_not_found(
    store: ThreadStore,
) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.discard_thread(tid(1))

    with pytest.raises(ThreadNotFound):
        await store.delete_thread(params(1))
