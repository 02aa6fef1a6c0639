"""A `sessions/` folder relocated to another file system by a link works for every
operation (issue: hardening, finding 5): archive and unarchive move rollouts across file
systems crash-safely, every path `list` returns reads back by path, and forks work.
CI runs as root, so a real second file system (a tmpfs) is mounted for them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ThreadManager,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local import moves as moves_module


@pytest.fixture
def relocated_home(tmp_path: Path) -> Iterator[Path]:
    """A home whose `sessions/` is a link to a folder on another file system."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root (CI runs as root)")
    disk = tmp_path / "other-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], check=True)
    try:
        home = tmp_path / "home"
        home.mkdir()
        (disk / "sessions").mkdir()
        (home / "sessions").symlink_to(disk / "sessions", target_is_directory=True)
        assert os.stat(disk).st_dev != os.stat(home).st_dev
        yield home
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))


async def write_thread(store: LocalThreadStore, n: int, mode: str = "legacy") -> None:
    await store.create_thread(
        CreateThreadParams(
            thread_id=tid(n), history_mode=mode, metadata=ThreadPersistenceMetadata(cwd="/w")
        )
    )
    await store.persist_thread(tid(n))
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(n), items=[user_message(f"hello {n}")])
    )
    await store.shutdown_thread(tid(n))


def rollouts(home: Path) -> list[str]:
    found = [*home.rglob("rollout-*.jsonl"), *(home / "sessions").rglob("rollout-*.jsonl")]
    return sorted({str(p.relative_to(home)) for p in found})


async def test_every_operation_works_in_a_relocated_sessions_folder(relocated_home: Path) -> None:
    home = relocated_home
    async with store_at(home) as store:
        await write_thread(store, 1)
        await write_thread(store, 2, "paginated")
        page = await store.list_threads(ListThreadsParams())
        for thread in page.items:  # every path list gives reads back
            assert thread.rollout_path is not None
            again = await store.read_thread_by_rollout_path(
                ReadThreadByRolloutPathParams(rollout_path=thread.rollout_path)
            )
            assert again.thread_id == thread.thread_id

        await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))  # across devices
        archived = await store.read_thread(
            ReadThreadParams(thread_id=tid(1), include_archived=True)
        )
        assert Path(archived.rollout_path or "").parent == home / "archived_sessions"
        await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1)))  # and back

        manager = ThreadManager(store, collect_git=False)
        fork = await manager.fork_thread(tid(2))
        await manager.aclose()
        history = await store.load_history(LoadThreadHistoryParams(thread_id=fork.thread_id))
        texts = [
            i.payload.get("message") for i in history.items if i.payload_type == "user_message"
        ]
        assert texts == ["hello 2"]  # the fork reads its source through the relocated folder

        await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))
    names = rollouts(home)
    assert not any(tid(1) in name for name in names)
    assert len([n for n in names if n.startswith("sessions/")]) == 2  # tid(2) and its fork


class Killed(BaseException):
    """A process killed at this point."""


@pytest.mark.parametrize(
    "crash_at", ["before the copy is in place", "before the source is removed"]
)
async def test_a_move_across_devices_cut_short_leaves_exactly_one_copy(
    relocated_home: Path, monkeypatch: pytest.MonkeyPatch, crash_at: str
) -> None:
    home = relocated_home
    async with store_at(home) as store:
        await write_thread(store, 1)
    real_rename, real_unlink = os.rename, os.unlink

    def rename(src: object, dst: object) -> None:
        if crash_at == "before the copy is in place" and ".move.tmp" in str(src):
            raise Killed
        real_rename(src, dst)  # type: ignore[arg-type]

    def unlink(path: object) -> None:
        if crash_at == "before the source is removed" and "rollout-" in str(path):
            raise Killed
        real_unlink(path)  # type: ignore[arg-type]

    monkeypatch.setattr(moves_module.os, "rename", rename)
    monkeypatch.setattr(moves_module.os, "unlink", unlink)
    async with store_at(home) as store:
        with pytest.raises(Killed):
            await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))
    monkeypatch.undo()

    async with store_at(home) as store:  # the next open finishes or undoes the move
        active = [t.thread_id for t in (await store.list_threads(ListThreadsParams())).items]
        archived = [
            t.thread_id for t in (await store.list_threads(ListThreadsParams(archived=True))).items
        ]
    copies = [n for n in rollouts(home) if tid(1) in n]
    assert len(copies) == 1, copies
    assert not [p for p in home.rglob(".*.move.tmp")]
    if crash_at == "before the copy is in place":
        assert (active, archived) == ([tid(1)], [])
    else:
        assert (active, archived) == ([], [tid(1)])
