"""`index.record_write`: after a durable append, the rollout's size and the appended text
go into the index in one transaction; a thread still a live placeholder is left for the
longer first-write path."""

from __future__ import annotations

import asyncio
from pathlib import Path

from builders import tid
from codex_thread_store import CreateThreadParams, SearchThreadsParams
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, index
from codex_thread_store.local.index_file import open_index
from codex_thread_store.local.index_queries import search_threads


def test_record_write(tmp_path: Path) -> None:
    config = LocalThreadStoreConfig(codex_home=tmp_path / "home")

    async def create() -> None:
        async with LocalThreadStore(config) as store:
            await store.create_thread(CreateThreadParams(thread_id=tid(1)))
            await store.persist_thread(tid(1))
            await store.shutdown_thread(tid(1))

    asyncio.run(create())
    conn, _ = open_index(config.index_path)
    try:
        state = index.FileState(str(tmp_path / "r.jsonl"), tid(1), 123, 456)
        assert index.record_write(conn, tid(1), state, "zebra crossing")
        assert index.file_states(conn)[state.path] == state
        found, _ = search_threads(conn, SearchThreadsParams(search_term="zebra"))
        assert [thread.thread_id for thread, _ in found] == [tid(1)]
        # A placeholder row: nothing written, the caller takes the first-write path.
        conn.execute("UPDATE threads SET live_only = 1 WHERE thread_id = ?", (tid(1),))
        other = index.FileState(str(tmp_path / "s.jsonl"), tid(1), 7, 8)
        assert not index.record_write(conn, tid(1), other, "giraffe")
        assert other.path not in index.file_states(conn)
        conn.execute("UPDATE threads SET live_only = 0 WHERE thread_id = ?", (tid(1),))
        found, _ = search_threads(conn, SearchThreadsParams(search_term="giraffe"))
        assert found == []
    finally:
        conn.close()
