"""One live writer per thread, shared with Codex: `thread-writer-locks/<id>.lock` flocks.

A "foreign writer" here is another process holding the lock file exactly as Codex
0.163+ does (an exclusive `flock` on the empty file), so no Codex binary is needed.
"""

from __future__ import annotations

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
    Conflict,
    CreateThreadParams,
    DeleteThreadParams,
    ReadThreadParams,
    ResumeThreadParams,
    ThreadNotFound,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local.writer_lock import WriterLock, writer_is_live

HOLD = """
import fcntl, os, sys
path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.read()  # hold until the parent closes stdin or kills us
"""


@contextmanager
def foreign_writer(home: Path, thread_id: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the thread's writer lock, as Codex does."""
    path = home / "thread-writer-locks" / f"{thread_id}.lock"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            proc.kill()
            proc.wait()


def rollout_names(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("rollout-*.jsonl"))


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home))


async def write_thread(home: Path, thread_id: str) -> None:
    async with store_at(home) as store:
        await store.create_thread(
            CreateThreadParams(thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/w"))
        )
        await store.persist_thread(thread_id)
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message("hi")])
        )
        await store.shutdown_thread(thread_id)


async def test_live_thread_holds_codex_lock_file_and_removes_it_on_release(
    tmp_path: Path,
) -> None:
    lock_file = tmp_path / "thread-writer-locks" / f"{tid(1)}.lock"
    async with store_at(tmp_path) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        assert lock_file.is_file() and lock_file.stat().st_size == 0
        assert writer_is_live(tmp_path, tid(1))
        assert (tmp_path / "thread-writer-locks" / ".coordination.lock").is_file()
        await store.persist_thread(tid(1))
        await store.shutdown_thread(tid(1))
        assert not lock_file.exists()
        assert not writer_is_live(tmp_path, tid(1))


async def test_thread_held_by_another_process_is_a_conflict_for_resume_and_delete(
    tmp_path: Path,
) -> None:
    await write_thread(tmp_path, tid(1))
    async with store_at(tmp_path) as store:
        with foreign_writer(tmp_path, tid(1)):
            with pytest.raises(Conflict, match="active writer"):
                await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
            with pytest.raises(Conflict, match="another process"):
                await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))
            # Reading is never blocked by a writer.
            assert (await store.read_thread(ReadThreadParams(thread_id=tid(1)))).thread_id
        # The holder died (kill -9): the kernel dropped its lock, the file may remain.
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await store.shutdown_thread(tid(1))
        await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))


async def test_archive_and_unarchive_wait_for_another_process_to_stop_writing(
    tmp_path: Path,
) -> None:
    """Codex would go on writing at the old path and record a path that no longer
    exists: the thread could no longer be listed, unarchived or resumed there."""
    await write_thread(tmp_path, tid(1))
    before = rollout_names(tmp_path)
    async with store_at(tmp_path) as store:
        with foreign_writer(tmp_path, tid(1)):
            with pytest.raises(Conflict, match=r"cannot archive .* another process"):
                await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))
            assert rollout_names(tmp_path) == before  # nothing moved
            assert not (await store.read_thread(ReadThreadParams(thread_id=tid(1)))).is_archived
        await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))
        with (
            foreign_writer(tmp_path, tid(1)),
            pytest.raises(Conflict, match=r"cannot unarchive .* another process"),
        ):
            await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1)))
        await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1)))


async def test_create_with_an_id_another_process_holds_is_a_conflict(tmp_path: Path) -> None:
    async with store_at(tmp_path) as store:
        with foreign_writer(tmp_path, tid(7)), pytest.raises(Conflict):
            await store.create_thread(CreateThreadParams(thread_id=tid(7)))
        with pytest.raises(ThreadNotFound):  # the refused create left no row behind
            await store.read_thread(ReadThreadParams(thread_id=tid(7)))


def test_stale_lock_file_left_by_a_killed_writer_is_not_a_held_lock(tmp_path: Path) -> None:
    stale = tmp_path / "thread-writer-locks" / f"{tid(2)}.lock"
    stale.parent.mkdir(parents=True)
    stale.touch()
    lock = WriterLock(tmp_path, tid(2))
    lock.acquire()
    assert lock.held and writer_is_live(tmp_path, tid(2))
    lock.release()
    assert not stale.exists()


def test_release_does_not_unlink_a_successors_lock_file(tmp_path: Path) -> None:
    """If our file was replaced (another writer re-created it after a cleanup), releasing
    must leave the new file alone: it may be someone else's held lock."""
    lock = WriterLock(tmp_path, tid(3))
    lock.acquire()
    lock.path.unlink()
    lock.path.touch()  # a successor's file
    lock.release()
    assert lock.path.exists()
