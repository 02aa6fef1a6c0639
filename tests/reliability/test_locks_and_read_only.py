"""Reads never wait on writers, and read-only homes can be read (issue: hardening,
findings 8 and 9).

Another process holding the index's write lock must not stop a list, a search or a
read (they are served from the last committed index); a write that cannot get the lock
fails with a retryable `Unavailable` naming who holds it. A home that cannot be written
(a read-only mount) lists, searches, shows and exports, with the index in the user's
cache; writes there raise `PermissionDenied`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ListTurnsParams,
    PermissionDenied,
    ReadThreadParams,
    ResumeThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    Unavailable,
    UpdateThreadMetadataParams,
)
from codex_thread_store.export import render_markdown
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

HOLD_WRITE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
"""


async def make_home(home: Path, threads: int = 3) -> None:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        for n in range(1, threads + 1):
            await store.create_thread(
                CreateThreadParams(thread_id=tid(n), metadata=ThreadPersistenceMetadata(cwd="/w"))
            )
            await store.persist_thread(tid(n))
            await store.append_items(
                AppendThreadItemsParams(
                    thread_id=tid(n),
                    items=[
                        RolloutItem.response_item({"role": "user", "content": f"needle {n}"}),
                        user_message(f"needle {n}"),
                    ],
                )
            )
            await store.shutdown_thread(tid(n))


@contextmanager
def write_lock_held(index: Path) -> Iterator[int]:
    """Another process inside a write transaction on our index; yields its pid."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(index)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
            yield proc.pid
        finally:
            proc.kill()
            proc.wait()


async def test_reads_go_on_while_another_process_holds_the_index_write_lock(
    tmp_path: Path,
) -> None:
    await make_home(tmp_path)
    config = LocalThreadStoreConfig(codex_home=tmp_path, refresh_interval_s=0.0, lock_timeout_s=0.5)
    with write_lock_held(config.index_path) as holder:
        async with LocalThreadStore(config) as store:
            page = await store.list_threads(ListThreadsParams())
            assert len(page.items) == 3
            found = await store.search_threads(SearchThreadsParams(search_term="needle"))
            assert len(found.items) == 3
            assert (await store.read_thread(ReadThreadParams(thread_id=tid(1)))).thread_id
            with pytest.raises(Unavailable, match=f"locked by pid {holder}") as refused:
                await store.update_thread_metadata(
                    UpdateThreadMetadataParams(
                        thread_id=tid(1), patch=ThreadMetadataPatch(name="renamed")
                    )
                )
            assert refused.value.retryable
    async with LocalThreadStore(config) as store:  # the holder is gone: nothing half-done
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        assert thread.name is None
        await store.update_thread_metadata(
            UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="x"))
        )


@pytest.fixture
def read_only_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home with threads on a file system then mounted read-only (needs root, as CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root (CI runs as root)")
    mount = tmp_path / "ro"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        import asyncio

        asyncio.run(make_home(mount / "home"))
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield mount / "home"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_read_only_home_reads_fully_and_refuses_writes(
    read_only_home: Path, tmp_path: Path
) -> None:
    config = LocalThreadStoreConfig(codex_home=read_only_home)
    assert config.own_dir.is_relative_to(tmp_path / "cache")  # the index lives elsewhere
    async with LocalThreadStore(config) as store:
        assert store.read_only
        page = await store.list_threads(ListThreadsParams())
        assert len(page.items) == 3
        found = await store.search_threads(SearchThreadsParams(search_term="needle"))
        assert len(found.items) == 3
        turns = await store.list_turns(ListTurnsParams(thread_id=tid(1)))
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        assert "needle 1" in render_markdown(thread, turns.turns)
        writes = [
            store.create_thread(CreateThreadParams(thread_id=tid(9))),
            store.resume_thread(ResumeThreadParams(thread_id=tid(1))),
            store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="n"))
            ),
            store.archive_thread(ArchiveThreadParams(thread_id=tid(1))),
            store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1))),
            store.delete_thread(DeleteThreadParams(thread_id=tid(1))),
        ]
        for write in writes:
            with pytest.raises(PermissionDenied, match="cannot be written"):
                await write
    assert (config.own_dir / "codex-thread-store-index.sqlite").is_file()


async def test_a_conversation_reads_a_read_only_home_and_refuses_to_write(
    read_only_home: Path,
) -> None:
    from codex_thread_store import Conversation
    from codex_thread_store.agents_sdk import ThreadSession

    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=read_only_home)) as store:
        convo = await Conversation.resume(store, tid(1))
        assert await convo.items() == [{"role": "user", "content": "needle 1"}]  # no writer
        with pytest.raises(PermissionDenied, match="cannot be written"):
            await convo.append([{"role": "user", "content": "more"}])
        await convo.close()
        session = ThreadSession(tid(2), store)
        assert await session.get_items() == [{"role": "user", "content": "needle 2"}]
        await session.close()
