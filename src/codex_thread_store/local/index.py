"""Our SQLite index of a Codex home: its rows (threads, search text, files, folders,
watermarks) and the writes that keep them (sync functions).

The rollout JSONL files are the truth; this file is derived and can be deleted at
any time. Each function takes an open connection and runs one transaction; the
store runs them on the single thread that owns the connection. The file itself
(schema, opening, moving aside) is `index_file.py`; listing and search are
`index_queries.py`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ..codec import decode_json, encode_json
from ..patch import ThreadMetadataPatch
from ..projection import apply_patch
from ..timeutil import to_ms
from ..types import (
    StoredThread,
)
from .db import rollback
from .layout import rollout_generation

__all__ = [
    "FileState",
    "delete_thread",
    "get_thread",
    "upsert_thread",
]


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    thread_id: str | None
    size: int
    mtime_ns: int


def _meta_search(thread: StoredThread) -> str:
    parts = [thread.name or "", thread.preview, thread.first_user_message or ""]
    return "\n".join(parts).casefold()


def upsert_thread(
    conn: sqlite3.Connection,
    thread: StoredThread,
    *,
    body: str | None = None,
    live_only: bool = False,
) -> None:
    """Insert or replace a thread's row (and its search text when `body` is given)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _upsert(conn, thread, body=body, live_only=live_only)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def upsert_many(
    conn: sqlite3.Connection,
    rows: Iterable[tuple[StoredThread, str, FileState | None]],
    *,
    merge: Callable[[StoredThread, StoredThread], StoredThread] | None = None,
    codex_current: Mapping[str, str | None] | None = None,
) -> None:
    """Bulk insert (rebuilds, refreshes): one transaction for the whole batch.

    A row read from a file that has since grown (another process's live writer recorded
    a bigger size first) is skipped: rollouts only grow, so that writer's own index
    writes are fresher than this reader's view, and replacing them would drop the
    search text it indexed meanwhile.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        for thread, body, state in rows:
            if state is not None and _grown_since(conn, state):
                continue
            row = conn.execute(
                "SELECT rollout_path, live_only, data FROM threads WHERE thread_id = ?",
                (thread.thread_id,),
            ).fetchone()
            prior = None if row is None else decode_json(row[2], StoredThread)
            current = None if row is None or row[1] or not row[0] else str(row[0])
            if state is not None and prior is not None and current not in (None, state.path):
                assert current is not None
                preferred = (codex_current or {}).get(thread.thread_id)
                if not _is_newer(state.path, current, preferred):
                    # An older rollout of a reverted thread: recorded, never listed.
                    _set_once_fields(conn, prior, older=thread)
                    _set_file(conn, state)
                    continue
                thread = _kept_from_older(thread, prior)
            if merge is not None and prior is not None:
                # Merged with the row as it is inside this transaction, not as it was
                # when the file was read: a rename committed meanwhile is kept.
                thread = merge(thread, prior)
            _upsert(conn, thread, body=body, live_only=False)
            if state is not None:
                _set_file(conn, state)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def _grown_since(conn: sqlite3.Connection, state: FileState) -> bool:
    """Whether the file was recorded bigger (and not older) than `state` saw it."""
    recorded = conn.execute(
        "SELECT size, mtime_ns FROM files WHERE path = ?", (state.path,)
    ).fetchone()
    # Bigger *and* not older: a file replaced by a smaller one (compressed to `.zst`, torn
    # tail cut) has a newer mtime and is re-indexed as usual.
    return recorded is not None and recorded[0] > state.size and recorded[1] >= state.mtime_ns


def _is_newer(path: str, current: str, preferred: str | None) -> bool:
    """Whether `path` rather than `current` is the current rollout of their thread: the one
    Codex's row names (it wins over file names, whose local times a clock change can put
    out of order), else the newest by name (the same rollout moved is as new as before)."""
    if preferred in (path, current) and preferred is not None and os.path.exists(preferred):
        return preferred == path
    return rollout_generation(path) >= rollout_generation(current)


def _kept_from_older(newer: StoredThread, older: StoredThread) -> StoredThread:
    """A reverted thread's newer rollout keeps what Codex sets once per thread (its row
    survives the revert): title, preview and first message, when the older had them."""
    return msgspec.structs.replace(
        newer,
        title=older.title or newer.title,
        preview=older.preview or newer.preview,
        first_user_message=older.first_user_message or newer.first_user_message,
    )


def _set_once_fields(
    conn: sqlite3.Connection, current: StoredThread, *, older: StoredThread
) -> None:
    """An older rollout read after the current one still supplies those values."""
    kept = _kept_from_older(current, older)
    if kept != current:
        _upsert(conn, kept, body=None, live_only=False)


def _upsert(
    conn: sqlite3.Connection, thread: StoredThread, *, body: str | None, live_only: bool
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO threads (thread_id, archived, created_at_ms, updated_at_ms,"
        " recency_at_ms, source_text, source_kind, model_provider, cwd, parent_thread_id,"
        " forked_from_id, meta_search, rollout_path, live_only, history_mode, data)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            thread.thread_id,
            1 if thread.is_archived else 0,
            to_ms(thread.created_at),
            to_ms(thread.updated_at),
            to_ms(thread.recency_at),
            thread.source.to_db_text(),
            thread.source.kind,
            thread.model_provider,
            thread.cwd,
            thread.parent_thread_id,
            thread.forked_from_id,
            _meta_search(thread),
            thread.rollout_path,
            1 if live_only else 0,
            thread.history_mode,
            encode_json(thread),
        ),
    )
    if body is not None:
        _delete_text(conn, thread.thread_id)
        _insert_text(conn, thread.thread_id, body)


def append_body(conn: sqlite3.Connection, thread_id: str, text: str) -> None:
    """Add message text to a thread's searchable body: one more FTS row, so an append
    costs O(text appended), never a rewrite of the thread's whole body."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _insert_text(conn, thread_id, text)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def record_write(
    conn: sqlite3.Connection, thread_id: str, state: FileState | None, text: str | None
) -> bool:
    """After a durable append by this store's writer, in one transaction: the rollout's
    new size (with the text, so a refresh elsewhere that read the file earlier sees the
    bigger size and leaves the thread alone) and the appended message text.

    Returns False, writing nothing, while the thread's row is still the live placeholder
    of a thread not yet materialized: its first write takes the longer way."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT live_only FROM threads WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        if row is not None and row[0]:
            conn.execute("COMMIT")
            return False
        if state is not None:
            _set_file(conn, state)
        if text:
            _insert_text(conn, thread_id, text)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return True


def _insert_text(conn: sqlite3.Connection, thread_id: str, text: str) -> None:
    row_id = conn.execute("INSERT INTO text_rows (thread_id) VALUES (?)", (thread_id,)).lastrowid
    conn.execute(
        "INSERT INTO thread_text (rowid, body, folded) VALUES (?, ?, ?)",
        (row_id, text, text.casefold()),
    )


def _delete_text(conn: sqlite3.Connection, thread_id: str) -> None:
    conn.execute(
        "DELETE FROM thread_text WHERE rowid IN (SELECT id FROM text_rows WHERE thread_id = ?)",
        (thread_id,),
    )
    conn.execute("DELETE FROM text_rows WHERE thread_id = ?", (thread_id,))


def get_body(conn: sqlite3.Connection, thread_id: str) -> str:
    rows = conn.execute(
        "SELECT t.body FROM text_rows r JOIN thread_text t ON t.rowid = r.id"
        " WHERE r.thread_id = ? ORDER BY r.id",
        (thread_id,),
    ).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def forks_of(conn: sqlite3.Connection, thread_id: str) -> list[StoredThread]:
    """Threads whose `forked_from_id` is this one (candidates for a byte-offset base)."""
    rows = conn.execute(
        "SELECT data FROM threads WHERE forked_from_id = ?", (thread_id,)
    ).fetchall()
    return [decode_json(row[0], StoredThread) for row in rows]


def get_thread(conn: sqlite3.Connection, thread_id: str) -> StoredThread | None:
    row = conn.execute("SELECT data FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
    return None if row is None else decode_json(row[0], StoredThread)


def get_threads(conn: sqlite3.Connection, thread_ids: list[str]) -> list[StoredThread]:
    """The rows of these threads (those the index has), in one round trip."""
    found = []
    for thread_id in thread_ids:
        row = conn.execute("SELECT data FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
        if row is not None:
            found.append(decode_json(row[0], StoredThread))
    return found


def is_live_only(conn: sqlite3.Connection, thread_id: str) -> bool:
    row = conn.execute("SELECT live_only FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
    return bool(row and row[0])


def thread_by_path(conn: sqlite3.Connection, path: str) -> StoredThread | None:
    """The thread a rollout belongs to: the one it is the current rollout of, else (an
    older rollout of a reverted thread) the one it was indexed for."""
    row = conn.execute("SELECT data FROM threads WHERE rollout_path = ?", (path,)).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT threads.data FROM files JOIN threads ON threads.thread_id = files.thread_id"
            " WHERE files.path = ?",
            (path,),
        ).fetchone()
    return None if row is None else decode_json(row[0], StoredThread)


def rollouts_of(conn: sqlite3.Connection, thread_id: str) -> list[str]:
    """Every indexed rollout file of a thread: its current one and, for a reverted
    thread, the older ones (which Codex keeps, archives and deletes with it)."""
    rows = conn.execute("SELECT path FROM files WHERE thread_id = ?", (thread_id,)).fetchall()
    return sorted(str(r[0]) for r in rows)


def delete_thread(conn: sqlite3.Connection, thread_id: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,))
        _delete_text(conn, thread_id)
        conn.execute("DELETE FROM files WHERE thread_id = ?", (thread_id,))
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def _set_file(conn: sqlite3.Connection, state: FileState) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO files (path, thread_id, size, mtime_ns) VALUES (?,?,?,?)",
        (state.path, state.thread_id, state.size, state.mtime_ns),
    )


def set_file(conn: sqlite3.Connection, state: FileState) -> None:
    _set_file(conn, state)


def file_states(conn: sqlite3.Connection) -> dict[str, FileState]:
    return {
        row[0]: FileState(row[0], row[1], row[2], row[3])
        for row in conn.execute("SELECT path, thread_id, size, mtime_ns FROM files")
    }


def file_states_under(conn: sqlite3.Connection, folders: Iterable[str]) -> dict[str, FileState]:
    """Recorded watermarks of the files in `folders` (range scans of the primary key)."""
    out: dict[str, FileState] = {}
    for folder in folders:
        # Every path under `folder/` sorts between `folder/` and `folder0` ('0' follows '/').
        for row in conn.execute(
            "SELECT path, thread_id, size, mtime_ns FROM files WHERE path > ? AND path < ?",
            (folder + "/", folder + "0"),
        ):
            out[row[0]] = FileState(row[0], row[1], row[2], row[3])
    return out


def file_states_for(conn: sqlite3.Connection, paths: Iterable[str]) -> dict[str, FileState]:
    out: dict[str, FileState] = {}
    for path in paths:
        row = conn.execute(
            "SELECT path, thread_id, size, mtime_ns FROM files WHERE path = ?", (path,)
        ).fetchone()
        if row is not None:
            out[row[0]] = FileState(row[0], row[1], row[2], row[3])
    return out


def forget_files(
    conn: sqlite3.Connection,
    gone: list[FileState],
    dirs: dict[str, int],
    *,
    keep_threads: frozenset[str],
) -> None:
    """One transaction: drop vanished files, the rows of threads whose rollout vanished
    (unless live here, or moved: the row then names another path), and record folders."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for state in gone:
            conn.execute("DELETE FROM files WHERE path = ?", (state.path,))
            if state.thread_id and state.thread_id not in keep_threads:
                row = conn.execute(
                    "SELECT rollout_path FROM threads WHERE thread_id = ?", (state.thread_id,)
                ).fetchone()
                if row is not None and row[0] == state.path:
                    conn.execute("DELETE FROM threads WHERE thread_id = ?", (state.thread_id,))
                    _delete_text(conn, state.thread_id)
                    conn.execute("DELETE FROM files WHERE thread_id = ?", (state.thread_id,))
        for path, mtime_ns in dirs.items():
            conn.execute(
                "INSERT OR REPLACE INTO dirs (path, mtime_ns) VALUES (?,?)", (path, mtime_ns)
            )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def paginated_files(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """`(thread id, rollout path, size)` of every written paginated rollout, a reverted
    thread's older ones included (Codex reads the part they keep from their rows)."""
    rows = conn.execute(
        "SELECT threads.thread_id, files.path, files.size FROM threads"
        " JOIN files ON files.thread_id = threads.thread_id"
        " WHERE threads.history_mode = 'paginated' AND threads.live_only = 0"
        " ORDER BY files.path"
    ).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def forget_file(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("DELETE FROM files WHERE path = ?", (path,))


def dir_states(conn: sqlite3.Connection) -> dict[str, int]:
    return {row[0]: row[1] for row in conn.execute("SELECT path, mtime_ns FROM dirs")}


def get_watermark(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT value FROM watermarks WHERE key = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


def set_watermark(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO watermarks (key, value) VALUES (?, ?)", (key, value))


def update_threads(
    conn: sqlite3.Connection,
    facts: dict[str, Any],
    update: Callable[[StoredThread, dict[str, Any]], StoredThread],
) -> None:
    """Rewrite the rows of these threads as `update(thread, facts)` says, in one
    transaction (rows that do not exist are skipped)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for thread_id in facts:
            row = conn.execute(
                "SELECT data, live_only FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row is None:
                continue
            thread = decode_json(row[0], StoredThread)
            updated = update(thread, facts)
            if updated != thread:
                _upsert(conn, updated, body=None, live_only=bool(row[1]))
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def apply_overlays(
    conn: sqlite3.Connection,
    names: dict[str, str | None],
    patches: dict[str, ThreadMetadataPatch] | None = None,
) -> int:
    """Over the rows of the listed threads, set names from `session_index.jsonl`, then
    apply journaled patches, in one transaction; returns how many rows changed."""
    changed = 0
    patches = patches or {}
    conn.execute("BEGIN IMMEDIATE")
    try:
        for thread_id in names.keys() | patches.keys():
            row = conn.execute(
                "SELECT data, live_only FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row is None:
                continue
            thread = decode_json(row[0], StoredThread)
            updated = thread
            if thread_id in names:
                updated = msgspec.structs.replace(updated, name=names[thread_id])
            patch = patches.get(thread_id)
            if patch is not None:
                updated = apply_patch(updated, patch)
            if updated != thread:
                _upsert(conn, updated, body=None, live_only=bool(row[1]))
                changed += 1
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return changed
