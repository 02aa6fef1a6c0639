"""Archive, unarchive and delete in a Codex home: the rollout moves between (or leaves)
`sessions/` and `archived_sessions/`, then the index, Codex's row and its projection
follow.

A reverted thread has older rollouts beside its current one (see `layout.py`); as in
Codex, they move and go with it. They are handled first and the current rollout last,
so a crash in between leaves the thread as it was, with nothing lost: every rollout is
found in either folder, and repeating the operation finishes it.
"""

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
from . import index, journal, names, write_indexing
from .codex_db import PATCH_COLUMNS
from .db import IndexDb
from .layout import CodexHome, rollout_id_of
from .lineage import history_base_of
from .moves import move_rollout
from .rollout_files import compressed_sibling, read_lines_if_exists
from .writer_lock import writer_is_live

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["delete_thread", "set_archived"]


async def set_archived(store: LocalThreadStore, thread_id: str, *, archived: bool) -> StoredThread:
    """Move the rollouts between the two folders, then the index row and Codex's row."""
    thread = await store._get(thread_id, include_archived=True)
    if thread.is_archived == archived:
        return thread
    await _check_no_other_writer(store, thread_id, "archive" if archived else "unarchive")
    db = await store._index()
    for older in await _older_rollouts(db, thread):
        moved = await asyncio.to_thread(
            _move_file, store.home, older, _intents(store), to_archive=archived
        )
        if moved is not None:
            await db.run(index.forget_file, str(older))
            await write_indexing.record_file(db, thread_id, moved)
    new_path = await _move(store, thread, to_archive=archived)
    now = utc_now()
    moved_thread = msgspec.structs.replace(
        thread,
        archived_at=now if archived else None,
        rollout_path=str(new_path) if new_path else None,
        # Codex sorts an unarchived thread as just updated (it also touches the file).
        updated_at=thread.updated_at if archived else max(thread.updated_at, now),
    )
    await db.run(index.upsert_thread, moved_thread)
    if new_path is not None:
        if thread.rollout_path:
            await db.run(index.forget_file, thread.rollout_path)
        await write_indexing.record_file(db, thread_id, new_path)
    await db.call(store.codex_db.sync, moved_thread, changed=PATCH_COLUMNS["archived"])
    return moved_thread


async def _older_rollouts(db: IndexDb, thread: StoredThread) -> list[Path]:
    """The rollouts of a reverted thread other than its current one."""
    paths = await db.run(index.rollouts_of, thread.thread_id)
    return [Path(p) for p in paths if p != thread.rollout_path]


async def _move(store: LocalThreadStore, thread: StoredThread, *, to_archive: bool) -> Path | None:
    """Atomically rename the current rollout between `sessions/` and `archived_sessions/`."""
    if not thread.rollout_path:
        return None
    src = Path(thread.rollout_path)
    live = store._live.get(thread.thread_id)
    guard = live.mutex if live is not None else contextlib.nullcontext()
    async with guard:  # no append of this store's writer lands in between
        dst = await asyncio.to_thread(
            _move_file, store.home, src, _intents(store), to_archive=to_archive, touch=True
        )
        if dst is None:
            dst = (
                store.home.archived_path_for(src) if to_archive else store.home.active_path_for(src)
            )
        if live is not None:
            # A rename keeps the open file; a copy to another disk does not: reopen.
            await asyncio.to_thread(live.recorder.move_to, dst)
    return dst


def _move_file(
    home: CodexHome, src: Path, intents: Path, *, to_archive: bool, touch: bool = False
) -> Path | None:
    """Move one rollout (plain or `.zst`, or a link as a link) into the other folder: flat
    under `archived_sessions/`, or back under the date its own name carries (see
    `moves.py` for folders on other file systems). `touch` marks it as just updated when
    it comes back, as Codex does. None when it is not there."""
    dst = home.archived_path_for(src) if to_archive else home.active_path_for(src)
    if os.path.lexists(src):
        actual = src
    elif os.path.lexists(compressed_sibling(src)):
        actual = compressed_sibling(src)
    else:
        return None
    target = dst if actual == src else compressed_sibling(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    move_rollout(actual, target, intents)
    if touch and not to_archive:
        # An unarchived thread sorts as recently updated (a link's own time: its target
        # is never touched).
        os.utime(target, follow_symlinks=False)
    return dst


def _intents(store: LocalThreadStore) -> Path:
    return store.config.own_dir / "moves"


async def delete_thread(store: LocalThreadStore, thread_id: str) -> None:
    """Remove the rollouts, then every trace of the thread: index, names, Codex's row and
    projection. Refused while another process writes it or a fork references it."""
    thread = await store._get(thread_id, include_archived=True)
    db = await store._index()
    paths = await _older_rollouts(db, thread)
    if thread.rollout_path:
        paths.append(Path(thread.rollout_path))  # the current one last
    await _check_deletable(store, db, thread_id, {rollout_id_of(p) for p in paths})
    await store.discard_thread(thread_id)
    for path in paths:

        def remove(path: Path = path) -> None:
            for candidate in (path, compressed_sibling(path)):
                with contextlib.suppress(FileNotFoundError):
                    candidate.unlink()

        # The file's index record stays until the thread's row goes (below): if this
        # process dies in between, the next refresh sees the file gone and drops the row.
        await asyncio.to_thread(remove)
    if paths:
        await db.call(store.codex_history.delete, sorted({rollout_id_of(p) for p in paths}))
    await asyncio.to_thread(names.remove_names, store.home.session_index, thread_id)
    await asyncio.to_thread(journal.append_delete, store.config.journal_path, thread_id)
    await db.run(index.delete_thread, thread_id)
    await db.call(store.codex_db.delete, thread_id)


async def _check_deletable(
    store: LocalThreadStore, db: IndexDb, thread_id: str, rollout_ids: set[str]
) -> None:
    """Refuse while another process writes the thread, or a fork reads its bytes (from
    any of its rollouts)."""
    await _check_no_other_writer(store, thread_id, "delete")
    wanted = rollout_ids or {thread_id}
    for fork in await db.run(index.forks_of, thread_id):
        # Every rollout of the fork: after a revert of the fork, only an older one of its
        # rollouts may still reference this thread (through its current one's base).
        paths = set(await db.run(index.rollouts_of, fork.thread_id))
        if fork.rollout_path:
            paths.add(fork.rollout_path)
        for path in sorted(paths):
            lines = await asyncio.to_thread(read_lines_if_exists, Path(path))
            base = history_base_of(lines[:1])
            if base is not None and base["thread_id"] in wanted:
                raise Conflict(
                    f"cannot delete thread {thread_id}: forked history of thread "
                    f"{fork.thread_id} still references it; delete that fork first"
                )


async def _check_no_other_writer(store: LocalThreadStore, thread_id: str, verb: str) -> None:
    """Refuse while another process (Codex or another store) holds the thread's writer
    lock: it would keep writing the file at its old place and record a stale path."""
    if thread_id not in store._live and await asyncio.to_thread(
        writer_is_live, store.home.root, thread_id
    ):
        raise Conflict(
            f"cannot {verb} thread {thread_id}: another process (Codex or another store) "
            "is writing it; close it there first"
        )
