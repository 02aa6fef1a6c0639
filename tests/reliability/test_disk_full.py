"""A full disk never loses or duplicates an acknowledged item (issue: hardening, finding 1).

An append either is written whole and acknowledged, or leaves the rollout exactly as it
was and raises `ResourceExhausted`; the writer keeps working once space returns, and a
retry writes the items once. Once lines are durable, a failure of the index (or of
Codex's databases) is no failure of the write. Faults come from a real, tiny tmpfs (CI
runs as root) and from injection into the write path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    ResourceExhausted,
    ResumeThreadParams,
    SearchThreadsParams,
    ThreadPage,
    ThreadPersistenceMetadata,
)
from codex_thread_store.importer import import_rollout, parse_import
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, index, rollout_files
from codex_thread_store.local.doctor import examine
from codex_thread_store.local.rollout_files import read_rollout


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))


async def new_thread(store: LocalThreadStore, thread_id: str, mode: str = "legacy") -> Path:
    await store.create_thread(
        CreateThreadParams(
            thread_id=thread_id, history_mode=mode, metadata=ThreadPersistenceMetadata(cwd="/w")
        )
    )
    await store.persist_thread(thread_id)
    path = store.rollout_path_of(thread_id)
    assert path is not None
    return Path(path)


async def append(store: LocalThreadStore, thread_id: str, *texts: str) -> None:
    await store.append_items(
        AppendThreadItemsParams(thread_id=thread_id, items=[user_message(t) for t in texts])
    )


async def written_texts(store: LocalThreadStore, thread_id: str) -> list[str]:
    history = await store.load_history(LoadThreadHistoryParams(thread_id=thread_id))
    return [
        str(item.payload["message"])
        for item in history.items
        if item.type == "event_msg" and item.payload_type == "user_message"
    ]


def exists(path: Path) -> bool:
    return path.exists()


def assert_clean(path: Path) -> None:
    """Every line whole and readable."""
    result = read_rollout(path)
    assert (result.malformed, result.torn_tail) == (0, False)


# -- a real full disk ---------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (needs root, as CI runs): writes there meet a real ENOSPC."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk up to the last byte; returns the filler to delete later."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


async def test_appends_on_a_full_disk_fail_whole_and_resume_once_space_returns(
    small_disk: Path,
) -> None:
    home = small_disk / "home"
    acknowledged: list[str] = []
    refused = 0
    async with store_at(home) as store:
        path = await new_thread(store, tid(1))
        await append(store, tid(1), "before the disk filled")
        acknowledged.append("before the disk filled")
        await store.flush_thread(tid(1))
        filler = fill(small_disk)
        for n in range(40):
            text = f"item {n} " + "x" * (700 * (n % 7 + 1))  # sizes that straddle the gap
            try:
                await append(store, tid(1), text)
            except ResourceExhausted as exc:
                assert "nothing was appended" in str(exc)
                refused += 1
                filler_size = filler.stat().st_size
                os.truncate(filler, max(filler_size - 1500, 0)) if n % 5 == 0 else None
            else:
                acknowledged.append(text)
            assert_clean(path)  # never a fragment, whatever happened
        filler.unlink()
        await append(store, tid(1), "after space returned")
        acknowledged.append("after space returned")
        await store.shutdown_thread(tid(1))
    assert refused > 0  # the disk really was full
    async with store_at(home) as reopened:
        assert await written_texts(reopened, tid(1)) == acknowledged
    assert_clean(path)


# -- injected faults ------------------------------------------------------------------


class FaultyWrites:
    """`os.write` in the rollout appender: the next `fail` calls write half their buffer,
    then the call after it raises `errno_`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, errno_: int = errno.ENOSPC) -> None:
        self.fail = 0
        self.errno = errno_
        self._real = os.write
        self._half_written = False
        monkeypatch.setattr(rollout_files.os, "write", self.write)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.fail <= 0:
            return self._real(fd, data)
        if not self._half_written and len(data) > 1:
            self._half_written = True
            return self._real(fd, bytes(data[: len(data) // 2]))
        self.fail -= 1
        self._half_written = False
        raise OSError(self.errno, os.strerror(self.errno))


async def test_a_failed_append_leaves_the_file_as_it_was_and_a_retry_writes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultyWrites(monkeypatch)
    async with store_at(tmp_path) as store:
        path = await new_thread(store, tid(1), "paginated")
        await append(store, tid(1), "one")
        before = path.read_bytes()
        faults.fail = 1
        with pytest.raises(ResourceExhausted):
            await append(store, tid(1), "two", "three")
        assert path.read_bytes() == before
        await append(store, tid(1), "two", "three")  # the caller's retry
        await store.shutdown_thread(tid(1))
        assert await written_texts(store, tid(1)) == ["one", "two", "three"]
    ordinals = [line.ordinal for line in read_rollout(path).lines]
    assert ordinals == list(range(len(ordinals)))  # no gap where the failed lines were
    assert_clean(path)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
async def test_every_kind_of_full_is_resource_exhausted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    faults = FaultyWrites(monkeypatch, code)
    async with store_at(tmp_path) as store:
        await new_thread(store, tid(1))
        faults.fail = 1
        with pytest.raises(ResourceExhausted):
            await append(store, tid(1), "x")
        await store.shutdown_thread(tid(1))


async def test_a_failed_first_write_leaves_no_file_and_a_retry_writes_each_item_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultyWrites(monkeypatch)
    async with store_at(tmp_path) as store:
        await store.create_thread(
            CreateThreadParams(thread_id=tid(1), metadata=ThreadPersistenceMetadata(cwd="/w"))
        )
        await append(store, tid(1), "buffered before the first write")
        path = Path(store.rollout_path_of(tid(1)) or "")
        faults.fail = 1
        with pytest.raises(ResourceExhausted, match="the items are kept"):
            await store.flush_thread(tid(1))  # materializes the thread: fails
        assert not exists(path)
        await store.flush_thread(tid(1))
        await store.shutdown_thread(tid(1))
        assert await written_texts(store, tid(1)) == ["buffered before the first write"]
    assert [line.item.type for line in read_rollout(path).lines] == ["session_meta", "event_msg"]


async def test_a_fragment_that_could_not_be_cut_is_cut_before_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultyWrites(monkeypatch)
    real_truncate = os.ftruncate
    calls = {"n": 0}

    def truncate_fails_once(fd: int, size: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.EIO, "I/O error")
        real_truncate(fd, size)

    from codex_thread_store.local import recorder

    monkeypatch.setattr(recorder.os, "ftruncate", truncate_fails_once)
    async with store_at(tmp_path) as store:
        path = await new_thread(store, tid(1))
        faults.fail = 1
        with pytest.raises(ResourceExhausted):
            await append(store, tid(1), "lost to the full disk")
        assert read_rollout(path).torn_tail  # the fragment stayed, unterminated
        await append(store, tid(1), "written after")
        await store.shutdown_thread(tid(1))
        assert await written_texts(store, tid(1)) == ["written after"]
    assert_clean(path)


async def test_an_index_failure_after_a_durable_write_is_no_failure_of_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index.append_body
    failures = {"left": 1}

    def append_body_on_a_full_disk(conn: sqlite3.Connection, thread_id: str, text: str) -> None:
        if failures["left"]:
            failures["left"] -= 1
            error = sqlite3.OperationalError("database or disk is full")
            error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
            raise error
        real(conn, thread_id, text)

    monkeypatch.setattr(index, "append_body", append_body_on_a_full_disk)
    async with store_at(tmp_path) as store:
        path = await new_thread(store, tid(1))
        await append(store, tid(1), "a searchable needle")
        await store.flush_thread(tid(1))  # the lines are durable: no error
        assert "a searchable needle" in path.read_text()
        await store.flush_thread(tid(1))  # the index catches up at the next barrier
        found = await store.search_threads(SearchThreadsParams(search_term="needle"))
        assert [hit.thread.thread_id for hit in found.items] == [tid(1)]
        await store.shutdown_thread(tid(1))


async def test_an_index_still_behind_when_the_writer_closes_is_caught_up_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index.append_body

    def always_full(conn: sqlite3.Connection, thread_id: str, text: str) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
        raise error

    async with store_at(tmp_path) as store:
        await new_thread(store, tid(1))
        await store.shutdown_thread(tid(1))
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        monkeypatch.setattr(index, "append_body", always_full)
        await append(store, tid(1), "a searchable needle")
        await store.shutdown_thread(tid(1))  # durable; the index could not follow
        monkeypatch.setattr(index, "append_body", real)
        found = await store.search_threads(SearchThreadsParams(search_term="needle"))
        assert [hit.thread.thread_id for hit in found.items] == [tid(1)]


async def test_an_import_on_a_full_disk_leaves_nothing_behind(
    small_disk: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    async with store_at(source) as store:
        await new_thread(store, tid(1))
        await append(store, tid(1), *(f"line {n} " + "y" * 4000 for n in range(200)))
        await store.shutdown_thread(tid(1))
    [rollout] = list(source.rglob("rollout-*.jsonl"))
    home = small_disk / "home"
    async with store_at(home) as store:
        await store.list_threads(ListThreadsParams())
        fill(small_disk)
        with pytest.raises(ResourceExhausted, match="nothing was imported"):
            await import_rollout(store, parse_import(rollout.read_bytes(), rollout.name))
        assert await store.list_threads(ListThreadsParams()) == ThreadPage(items=[])
    assert [p.name for p in home.rglob("*") if p.is_file() and "rollout" in p.name] == []
    assert [f.kind for f in examine(home).findings] == []
