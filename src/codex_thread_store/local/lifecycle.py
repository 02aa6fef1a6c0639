"""Archive, unarchive and delete in a Codex home: the rollout moves between (or leaves)
`sessions/` and `archived_sessions/`, then the index, Codex's row and its projection
follow."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ..errors import Conflict
from ..timeutil import utc_now
from ..types import StoredThread
from . import index, journal, names
from .codex_db import PATCH_COLUMNS
from .db import IndexDb
from .lineage import history_base_of, rollout_id_of
from .rollout_files import compressed_sibling, existing_rollout, read_lines_if_exists
from .writer_lock import writer_is_live

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["delete_thread", "set_archived"]


async def set_archived(store: LocalThreadStore, thread_id: str, *, archived: bool) -> StoredThread:
    """Move the rollout between the two folders, then the index row and Codex's row."""
    thread = await store._get(thread_id, include_archived=True)
    if thread.is_archived == archived:
        return thread
    db = await store._index()
    new_path = await _move(store, thread, to_archive=archived)
    now = utc_now()
    moved = msgspec.structs.replace(
        thread,
        archived_at=now if archived else None,
        rollout_path=str(new_path) if new_path else None,
        # Codex sorts an unarchived thread as just updated (it also touches the file).
        updated_at=thread.updated_at if archived else max(thread.updated_at, now),
    )
    await db.run(index.upsert_thread, moved)
    if new_path is not None:
        await store._record_file(db, thread_id, new_path)
    await db.call(store.codex_db.sync, moved, changed=PATCH_COLUMNS["archived"])
    return moved


async def _move(store: LocalThreadStore, thread: StoredThread, *, to_archive: bool) -> Path | None:
    """Atomically rename the rollout between `sessions/` and `archived_sessions/`."""
    if not thread.rollout_path:
        return None
    src = Path(thread.rollout_path)
    home = store.home
    dst = home.archived_path_for(src) if to_archive else home.active_path_for(src)
    live = store._live.get(thread.thread_id)

    def move() -> None:
        actual = existing_rollout(src)
        if actual is None:
            return
        target = dst if actual == src else compressed_sibling(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(actual, target)
        if not to_archive:
            os.utime(target)  # an unarchived thread sorts as recently updated

    await asyncio.to_thread(move)
    if live is not None:
        live.recorder.path = dst  # its open descriptor follows the rename
    return dst


async def delete_thread(store: LocalThreadStore, thread_id: str) -> None:
    """Remove the rollout, then every trace of the thread: index, names, Codex's row and
    projection. Refused while another process writes it or a fork references it."""
    thread = await store._get(thread_id, include_archived=True)
    db = await store._index()
    await _check_deletable(store, db, thread_id)
    await store.discard_thread(thread_id)
    if thread.rollout_path:
        path = Path(thread.rollout_path)

        def remove() -> None:
            for candidate in (path, compressed_sibling(path)):
                with contextlib.suppress(FileNotFoundError):
                    candidate.unlink()

        await asyncio.to_thread(remove)
        await db.run(index.forget_file, str(path))
        await db.call(store.codex_history.delete, [rollout_id_of(path)])
    await asyncio.to_thread(names.remove_names, store.home.session_index, thread_id)
    await asyncio.to_thread(journal.append_delete, store.config.journal_path, thread_id)
    await db.run(index.delete_thread, thread_id)
    await db.call(store.codex_db.delete, thread_id)


async def _check_deletable(store: LocalThreadStore, db: IndexDb, thread_id: str) -> None:
    """Refuse while another process writes the thread, or a fork reads its bytes."""
    if thread_id not in store._live and await asyncio.to_thread(
        writer_is_live, store.home.root, thread_id
    ):
        raise Conflict(
            f"cannot delete thread {thread_id}: another process (Codex or another store) "
            "is writing it; close it there first"
        )
    for fork in await db.run(index.forks_of, thread_id):
        if not fork.rollout_path:
            continue
        lines = await asyncio.to_thread(read_lines_if_exists, Path(fork.rollout_path))
        base = history_base_of(lines)
        if base is not None and base["thread_id"] == thread_id:
            raise Conflict(
                f"cannot delete thread {thread_id}: forked history of thread "
                f"{fork.thread_id} still references it; delete that fork first"
            )
