"""archive_thread / unarchive_thread: archived_at set and cleared; archived threads
are hidden from ordinary reads and listings."""

from __future__ import annotations

import pytest

from builders import (
    list_ids,
    ms_floor,
    new_thread,
    now,
    patch,
    read,
    tid,
)
from codex_thread_store import ArchiveThreadParams, ThreadNotFound, ThreadStore


def params(n: int) -> ArchiveThreadParams:
    return ArchiveThreadParams(thread_id=tid(n))


async def closed_thread(store: ThreadStore, n: int) -> str:
    thread_id = await new_thread(store, tid(n))
    await store.shutdown_thread(thread_id)
    return thread_id


async def test_archive_sets_archived_at(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    before = ms_floor(now())

    await store.archive_thread(params(1))
    after = now()

    thread = await read(store, tid(1), include_archived=True)
    assert thread.archived_at is not None
    assert before <= thread.archived_at <= after
    assert thread.is_archived


async def test_archive_hides_the_thread_from_active_reads(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await closed_thread(store, 2)

    await store.archive_thread(params(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    assert await list_ids(store) == [tid(2)]
    assert await list_ids(store, archived=True) == [tid(1)]


async def test_archive_keeps_the_rest_of_the_summary(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    before = await patch(store, tid(1), name="keep me", preview="p")

    await store.archive_thread(params(1))

    after = await read(store, tid(1), include_archived=True)
    for field in ("name", "preview", "created_at", "model_provider", "cwd", "source"):
        assert getattr(after, field) == getattr(before, field), field


async def test_archive_of_a_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await store.archive_thread(params(1))


async def test_archive_twice_is_fine(store: ThreadStore) -> None:
    await closed_thread(store, 1)

    await store.archive_thread(params(1))
    await store.archive_thread(params(1))

    assert (await read(store, tid(1), include_archived=True)).archived_at is not None
    assert await list_ids(store, archived=True) == [tid(1)]
    assert await list_ids(store) == []


async def test_unarchive_clears_archived_at_and_returns_the_thread(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await patch(store, tid(1), name="back again")
    await store.archive_thread(params(1))

    returned = await store.unarchive_thread(params(1))

    assert returned.thread_id == tid(1)
    assert returned.archived_at is None
    assert returned.name == "back again"
    assert await read(store, tid(1)) == returned


async def test_unarchive_restores_active_listing(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await store.archive_thread(params(1))

    await store.unarchive_thread(params(1))

    assert await list_ids(store) == [tid(1)]
    assert await list_ids(store, archived=True) == []


async def test_unarchive_of_a_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await store.unarchive_thread(params(1))


async def test_archive_after_unarchive_archives_again(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    await store.archive_thread(params(1))
    await store.unarchive_thread(params(1))

    await store.archive_thread(params(1))

    assert await list_ids(store, archived=True) == [tid(1)]
    assert (await read(store, tid(1), include_archived=True)).archived_at is not None


async def test_unarchive_marks_the_thread_updated_now(store: ThreadStore) -> None:
    # Codex sorts an unarchived thread as just updated; archiving alone does not.
    await closed_thread(store, 1)
    await store.archive_thread(params(1))
    before = ms_floor(now())

    returned = await store.unarchive_thread(params(1))
    after = now()

    assert before <= returned.updated_at <= after
    assert (await read(store, tid(1))).updated_at == returned.updated_at


async def test_unarchive_of_an_active_thread_changes_nothing(store: ThreadStore) -> None:
    await closed_thread(store, 1)
    active = await read(store, tid(1))

    returned = await store.unarchive_thread(params(1))

    assert returned == active
