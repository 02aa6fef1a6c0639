"""The metadata journal stays bounded: compaction keeps one merged patch per thread."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    DeleteThreadParams,
    ReadThreadParams,
    ThreadMetadataPatch,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, journal


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home))


async def make(store: LocalThreadStore, thread_id: str) -> None:
    await store.create_thread(CreateThreadParams(thread_id=thread_id))
    await store.persist_thread(thread_id)
    await store.append_items(
        AppendThreadItemsParams(thread_id=thread_id, items=[user_message("x")])
    )
    await store.shutdown_thread(thread_id)


async def rename_many(store: LocalThreadStore, thread_id: str, count: int) -> None:
    for n in range(count):
        await store.update_thread_metadata(
            UpdateThreadMetadataParams(
                thread_id=thread_id,
                patch=ThreadMetadataPatch(name=f"name {n}", preview=f"preview {n}"),
            )
        )


def sizes(path: Path) -> int:
    return path.stat().st_size


async def test_compaction_keeps_every_threads_merged_patch(tmp_path: Path) -> None:
    async with store_at(tmp_path) as store:
        for n in (1, 2, 3):
            await make(store, tid(n))
        await rename_many(store, tid(1), 40)
        await rename_many(store, tid(2), 40)
        await store.delete_thread(DeleteThreadParams(thread_id=tid(3)))
        path = store.config.journal_path
        merged_before = journal.merged_patches(path)
        before, after = journal.compact(path)
        assert after < before / 10
        assert journal.merged_patches(path) == merged_before
        assert set(merged_before) == {tid(1), tid(2)}
        # A rebuild after compaction restores the same explicit metadata.
        await store.reindex()
        one = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
    assert (one.name, one.preview) == ("name 39", "preview 39")


async def test_opening_a_store_compacts_a_big_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with store_at(tmp_path) as store:
        await make(store, tid(1))
        await rename_many(store, tid(1), 30)
        path = store.config.journal_path
    grown = sizes(path)
    monkeypatch.setattr(journal, "COMPACT_AT_BYTES", grown - 1)
    async with store_at(tmp_path) as store:
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
    assert sizes(path) < grown / 10
    assert thread.name == "name 29"
