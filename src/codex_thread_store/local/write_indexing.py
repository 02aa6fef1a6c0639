"""Bringing the index (and Codex's databases) up to lines a live writer has made durable.

A failure here is no failure of the write: the lines are already in the rollout. It is
logged, marked (`index_behind`) and redone at the next barrier, or by a rescan of the file
once the writer is gone.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ThreadStoreError
from . import codex_mirror, index
from .db import IndexDb
from .rollout_files import existing_rollout

if TYPE_CHECKING:
    from .store import LocalThreadStore, _Live

__all__ = ["after_write", "pending_text", "record_file"]

log = logging.getLogger(__name__)


async def after_write(store: LocalThreadStore, db: IndexDb, thread_id: str, live: _Live) -> None:
    """Index what `live` has made durable; never raises for an index failure."""
    try:
        await _index_written(store, db, thread_id, live)
    except (ThreadStoreError, OSError) as exc:
        live.index_behind = True
        log.warning("indexing thread %s after a durable write failed: %s", thread_id, exc)
    else:
        live.index_behind = False


async def _index_written(store: LocalThreadStore, db: IndexDb, thread_id: str, live: _Live) -> None:
    if not live.recorder.materialized:
        await pending_text(db, thread_id, live)
        return
    # The common case, one hop to the index thread and one transaction: the file's new
    # size and the text together.
    text = "\n".join(live.pending_text) if live.pending_text else None
    if await db.run(_record_write, thread_id, live.recorder.path, text):
        live.pending_text = []  # only once indexed: a failed attempt is redone whole
    else:  # the first write after materializing: the row stops being a placeholder
        thread = await db.run(index.get_thread, thread_id)
        if thread is not None:
            await db.run(index.upsert_thread, thread, live_only=False)
            await codex_mirror.sync_row(store, db, thread)
        # The size first, then the text: a refresh in another process that read the file
        # earlier then sees the bigger size and leaves this thread's rows alone.
        await record_file(db, thread_id, live.recorder.path)
        await pending_text(db, thread_id, live)
    if live.history_mode == "paginated":
        await codex_mirror.project(store, db, live.recorder.path)


async def pending_text(db: IndexDb, thread_id: str, live: _Live) -> None:
    """Index the message text appended since the last time (for search)."""
    if live.pending_text:
        await db.run(index.append_body, thread_id, "\n".join(live.pending_text))
        live.pending_text = []  # only once indexed: a failed attempt is redone whole


async def record_file(db: IndexDb, thread_id: str, path: Path) -> None:
    """Record the rollout's size and mtime as the index's watermark for it."""
    state = await asyncio.to_thread(_file_state, thread_id, path)
    if state is not None:
        await db.run(index.set_file, state)


def _file_state(thread_id: str, path: Path) -> index.FileState | None:
    actual = existing_rollout(path)
    if actual is None:
        return None
    st = actual.stat()
    return index.FileState(str(path), thread_id, st.st_size, st.st_mtime_ns)


def _record_write(conn: sqlite3.Connection, thread_id: str, path: Path, text: str | None) -> bool:
    """`index.record_write` with the file's state read on the index thread (saving a hop
    per durable append)."""
    return index.record_write(conn, thread_id, _file_state(thread_id, path), text)
