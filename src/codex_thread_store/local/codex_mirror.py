"""Keeping Codex's own databases in step with what the local store writes: the thread's row
in `state_5.sqlite` (`codex_db.py`) and the paginated-history projection in
`thread_history_1.sqlite` (`codex_history.py`). Neither is ever created here."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from ..types import StoredThread
from . import index, names
from .db import IndexDb
from .forks import initial_ordinal
from .layout import rollout_id_of
from .writer_lock import writer_is_live

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["catch_up_projections", "project", "sync_row"]


async def sync_row(store: LocalThreadStore, db: IndexDb, thread: StoredThread) -> None:
    """Codex's whole row for `thread`, with the explicit name (if any) from
    `session_index.jsonl`, which is read only when the home has Codex's database."""
    if not store.codex_db.present:
        return
    explicit = await asyncio.to_thread(names.read_names, store.home.session_index)
    await db.call(
        store.codex_db.sync, thread, changed=None, explicit_name=explicit.get(thread.thread_id)
    )


async def project(store: LocalThreadStore, db: IndexDb, path: Path) -> None:
    """Bring Codex's projection of a paginated rollout up to the file's end."""
    if not store.codex_history.present:
        return
    initial = await asyncio.to_thread(initial_ordinal, path)
    await db.call(store.codex_history.catch_up, rollout_id_of(path), path, initial_ordinal=initial)


async def catch_up_projections(store: LocalThreadStore, db: IndexDb) -> int:
    """Project every paginated rollout Codex's projection lags behind (written while the home
    had no Codex database, or by a writer that died first), skipping threads a live writer
    holds: that writer projects them itself. Returns how many."""
    if not store.codex_history.present:
        return 0
    states = await db.call(store.codex_history.states)
    files = await db.run(index.paginated_files)
    caught = 0
    for thread_id, path_text, size in files:
        path = Path(path_text)
        state = states.get(rollout_id_of(path))
        if state is not None and state.next_byte_offset >= size:
            continue
        if thread_id in store._live or await asyncio.to_thread(
            writer_is_live, store.home.root, thread_id
        ):
            continue
        await project(store, db, path)
        if state is None:
            # Never projected: written while the home had no Codex database. Codex
            # back-filled its row from the file, which holds no name: give it ours (Codex
            # reads a paginated thread's name from its row only).
            thread = await db.run(index.get_thread, thread_id)
            if thread is not None and thread.name is not None:
                await db.call(store.codex_db.set_name, thread_id, thread.name)
        caught += 1
    return caught
