"""load_history: persisted items in replay order."""

from __future__ import annotations

import pytest

from builders import (
    agent_message,
    append,
    compacted,
    history,
    new_thread,
    shut_and_archive,
    task_complete,
    task_started,
    tid,
    turn_context,
    user_message,
)
from codex_thread_store import (
    ArchiveThreadParams,
    LoadThreadHistoryParams,
    ThreadNotFound,
    ThreadStore,
)


async def test_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))


async def test_history_names_its_thread_and_replays_in_order(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    items = [
        task_started("turn-1"),
        turn_context(),
        user_message("question"),
        agent_message("answer"),
        task_complete("turn-1", last_agent_message="answer"),
        compacted(),
    ]
    await append(store, tid(1), *items)

    loaded = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))

    assert loaded.thread_id == tid(1)
    assert loaded.items[0].type == "session_meta"
    assert loaded.items[1:] == items


async def test_history_of_a_fresh_thread_is_only_session_meta(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    items = await history(store, tid(1))

    assert [i.type for i in items] == ["session_meta"]
    assert items[0].payload["id"] == tid(1)


async def test_history_survives_shutdown(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("kept"))
    await store.shutdown_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("kept")]


async def test_archived_history_needs_include_archived(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("old"))
    await shut_and_archive(store, tid(1))

    with pytest.raises(ThreadNotFound):
        await history(store, tid(1))

    assert (await history(store, tid(1), include_archived=True))[1:] == [user_message("old")]


async def test_include_archived_also_reads_active_threads(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("active"))

    assert (await history(store, tid(1), include_archived=True))[1:] == [user_message("active")]


async def test_unarchived_history_is_readable_again(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await shut_and_archive(store, tid(1))

    await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1)))

    assert [i.type for i in await history(store, tid(1))] == ["session_meta"]
