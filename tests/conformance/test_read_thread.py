"""read_thread: the summary, with history only when asked for."""

from __future__ import annotations

import pytest

from builders import (
    agent_message,
    append,
    history,
    new_thread,
    read,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import ReadThreadParams, StoredThread, ThreadNotFound, ThreadStore


async def test_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound) as raised:
        await store.read_thread(ReadThreadParams(thread_id=tid(1)))

    assert raised.value.thread_id == tid(1)
    with pytest.raises(ThreadNotFound):
        await read(store, tid(1), include_history=True)


async def test_without_include_history_there_is_no_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("hi"))

    assert (await read(store, tid(1))).history is None


async def test_include_history_returns_the_loaded_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("hi"), agent_message("hello"))

    thread = await read(store, tid(1), include_history=True)

    assert thread.history is not None
    assert thread.history.thread_id == tid(1)
    assert thread.history.items == await history(store, tid(1))
    assert thread.history.items[1:] == [user_message("hi"), agent_message("hello")]


async def test_summary_is_the_same_with_and_without_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("hi"))

    plain = await read(store, tid(1))
    full = await read(store, tid(1), include_history=True)

    assert full.history is not None
    for name in StoredThread.__struct_fields__:
        if name != "history":
            assert getattr(full, name) == getattr(plain, name), name


async def test_archived_thread_needs_include_archived(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await shut_and_archive(store, tid(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    with pytest.raises(ThreadNotFound):
        await read(store, tid(1), include_history=True)

    thread = await read(store, tid(1), include_archived=True)
    assert thread.thread_id == tid(1)
    assert thread.archived_at is not None
    assert thread.is_archived


async def test_archived_thread_with_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("archived words"))
    await shut_and_archive(store, tid(1))

    thread = await read(store, tid(1), include_archived=True, include_history=True)

    assert thread.history is not None
    assert thread.history.items[1:] == [user_message("archived words")]


async def test_closed_thread_is_readable(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))

    thread = await read(store, tid(1), include_history=True)

    assert thread.thread_id == tid(1)
    assert thread.archived_at is None
    assert thread.history is not None
    assert [i.type for i in thread.history.items] == ["session_meta"]


async def test_read_does_not_change_the_thread(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    first = await read(store, tid(1))
    second = await read(store, tid(1))

    assert first == second
