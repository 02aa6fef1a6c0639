"""Our SQLite index of a Codex home: schema, migrations and queries (sync functions).

The rollout JSONL files are the truth; this file is derived and can be deleted at
any time. Each function takes an open connection and runs one transaction; the
store runs them on the single thread that owns the connection.

Schema version lives in `PRAGMA user_version`. An index from an older version,
or one that fails `PRAGMA quick_check`, is moved aside (never deleted) and
rebuilt from the rollouts.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ..codec import decode_json, encode_json
from ..cursors import decode_cursor, encode_cursor
from ..errors import InvalidRequest
from ..patch import ThreadMetadataPatch
from ..projection import apply_patch
from ..search_text import search_words
from ..timeutil import to_ms
from ..types import (
    ListThreadsParams,
    RelationKind,
    SearchThreadsParams,
    SortDirection,
    StoredThread,
    ThreadSortKey,
)
from .db import rollback
from .layout import rollout_generation

__all__ = [
    "SCHEMA_VERSION",
    "connect_quick",
    "FileState",
    "delete_thread",
    "get_thread",
    "list_threads",
    "move_aside",
    "open_index",
    "search_threads",
    "upsert_thread",
]

#: 2: `forked_from_id` column; search text stored as one FTS row per append.
#: 3: FTS rows index the casefolded text (`folded`) and keep the original for snippets.
#: 4: `history_mode` column (which rollouts Codex's projection must cover).
#: 5: revert rollouts (`<thread>_<rollout>.jsonl`) are indexed, `files` by thread.
SCHEMA_VERSION = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id TEXT PRIMARY KEY,
    archived INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    recency_at_ms INTEGER NOT NULL,
    source_text TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    model_provider TEXT NOT NULL,
    cwd TEXT NOT NULL,
    parent_thread_id TEXT,
    forked_from_id TEXT,
    meta_search TEXT NOT NULL,
    rollout_path TEXT,
    live_only INTEGER NOT NULL DEFAULT 0,
    history_mode TEXT NOT NULL DEFAULT 'legacy',
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_created ON threads(archived, created_at_ms, thread_id);
CREATE INDEX IF NOT EXISTS threads_updated ON threads(archived, updated_at_ms, thread_id);
CREATE INDEX IF NOT EXISTS threads_recency ON threads(archived, recency_at_ms, thread_id);
CREATE INDEX IF NOT EXISTS threads_parent ON threads(parent_thread_id);
CREATE INDEX IF NOT EXISTS threads_path ON threads(rollout_path);
CREATE INDEX IF NOT EXISTS threads_forked_from ON threads(forked_from_id);
-- Search text: one FTS row per append; `text_rows` maps FTS rowids to threads
-- (an FTS5 UNINDEXED column would make every per-thread lookup a full scan).
-- `folded` is `body.casefold()`: queries are casefolded in Python (ß → ss, full
-- Unicode), which neither SQLite's lower() nor the trigram tokenizer does.
CREATE VIRTUAL TABLE IF NOT EXISTS thread_text USING fts5(
    body UNINDEXED, folded, tokenize = 'trigram'
);
CREATE TABLE IF NOT EXISTS text_rows (
    id INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS text_rows_thread ON text_rows(thread_id, id);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    thread_id TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_thread ON files(thread_id);
CREATE TABLE IF NOT EXISTS watermarks (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dirs (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL
);
"""

_SORT_COLUMNS = {
    ThreadSortKey.CREATED_AT: "created_at_ms",
    ThreadSortKey.UPDATED_AT: "updated_at_ms",
    ThreadSortKey.RECENCY_AT: "recency_at_ms",
}


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    thread_id: str | None
    size: int
    mtime_ns: int


def open_index(
    path: Path, *, busy_timeout_ms: int = 10000
) -> tuple[sqlite3.Connection, str | None]:
    """Open (creating or replacing as needed) the index at `path`.

    Returns the connection and why it must be rebuilt (None when it is current).
    Several processes may open a home at once: an `flock` on `<index>.lock` makes the
    check, the move-aside and the schema creation one step, so no process ever sees
    another's half-created file (schema version 0) and moves it aside as "old".
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _open_index_locked(path, busy_timeout_ms)
    finally:
        os.close(fd)


def _open_index_locked(path: Path, busy_timeout_ms: int) -> tuple[sqlite3.Connection, str | None]:
    reason: str | None = None
    if not path.exists():
        reason = "no index yet"
    else:
        problem = _check(path)
        if problem is not None:
            aside = _move_aside(path, problem[0])
            reason = f"{problem[1]}; the old file was moved to {aside.name}"
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    if reason is not None:  # a current index is opened without a write: no lock to wait for
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    checked = conn.execute("SELECT value FROM watermarks WHERE key = 'quick_check_at'").fetchone()
    if reason is not None or checked is None or time.time() - checked[0] > QUICK_CHECK_EVERY_S:
        if reason is None:
            conn.execute(f"PRAGMA busy_timeout={QUICK_BUSY_TIMEOUT_MS}")
        try:
            set_watermark(conn, "quick_check_at", int(time.time()))  # just checked, or new
        except sqlite3.OperationalError:
            if reason is not None:
                raise
            # Another process holds the write lock: the check runs again next time.
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return conn, reason


#: How long a refresh (a write on behalf of a read) waits for another process's lock
#: before it gives up and lets the read go on from what the index holds.
QUICK_BUSY_TIMEOUT_MS = 50


def connect_quick(path: Path) -> sqlite3.Connection:
    """A second connection to an open index, for the refresh's writes: it waits for
    another process's lock only briefly (see `QUICK_BUSY_TIMEOUT_MS`)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={QUICK_BUSY_TIMEOUT_MS}")
    return conn


def move_aside(path: Path, kind: str) -> Path:
    """Move a damaged index (and its WAL files) aside, never deleting it, under the same
    lock as `open_index`; the next open builds a new one. Returns where it went."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _move_aside(path, kind)
    finally:
        os.close(fd)


def _move_aside(path: Path, kind: str) -> Path:
    aside = path.with_name(f"{path.name}.{kind}-{int(time.time())}")
    n = 1
    while aside.exists():  # two damages in one second: keep both
        aside = path.with_name(f"{path.name}.{kind}-{int(time.time())}-{n}")
        n += 1
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            src.rename(Path(str(aside) + suffix))
    return aside


#: `PRAGMA quick_check` reads the whole file (seconds at 100k threads), so opening a store
#: runs it at most this often; every open still reads the header, schema and a row.
QUICK_CHECK_EVERY_S = 24 * 3600


def _check(path: Path) -> tuple[str, str] | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                return "old", (
                    f"the index had schema version {version}, this library uses {SCHEMA_VERSION}"
                )
            conn.execute("SELECT thread_id FROM threads LIMIT 1").fetchall()
            row = conn.execute(
                "SELECT value FROM watermarks WHERE key = 'quick_check_at'"
            ).fetchone()
            ok = "ok"
            if row is None or time.time() - row[0] > QUICK_CHECK_EVERY_S:
                ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return "corrupt", f"the index was unreadable ({exc})"
    if ok != "ok":
        return "corrupt", f"the index failed its integrity check ({ok})"
    return None


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
            if state is not None:
                recorded = conn.execute(
                    "SELECT size, mtime_ns FROM files WHERE path = ?", (state.path,)
                ).fetchone()
                # Bigger *and* not older: a file replaced by a smaller one (compressed to
                # `.zst`, torn tail cut) has a newer mtime and is re-indexed as usual.
                if (
                    recorded is not None
                    and recorded[0] > state.size
                    and recorded[1] >= state.mtime_ns
                ):
                    continue
            if state is not None:
                current = _current_rollout(conn, thread.thread_id)
                if current is not None and current[0] != state.path:
                    preferred = (codex_current or {}).get(thread.thread_id)
                    if preferred in (state.path, current[0]) and os.path.exists(preferred):
                        # Codex's row names the current rollout: it wins over file names
                        # (whose local times a clock change can put out of order).
                        newer = preferred == state.path
                    else:
                        # The same rollout moved (archived, unarchived) is as new as before.
                        newer = rollout_generation(state.path) >= rollout_generation(current[0])
                    if not newer:  # an older rollout of a reverted thread: not listed
                        _set_once_fields(conn, current[1], older=thread)
                        _set_file(conn, state)
                        continue
                    thread = _kept_from_older(thread, current[1])
            if merge is not None:
                # Merged with the row as it is inside this transaction, not as it was
                # when the file was read: a rename committed meanwhile is kept.
                prior = get_thread(conn, thread.thread_id)
                if prior is not None:
                    thread = merge(thread, prior)
            _upsert(conn, thread, body=body, live_only=False)
            if state is not None:
                _set_file(conn, state)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def _current_rollout(conn: sqlite3.Connection, thread_id: str) -> tuple[str, StoredThread] | None:
    row = conn.execute(
        "SELECT rollout_path, data FROM threads WHERE thread_id = ? AND live_only = 0",
        (thread_id,),
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return str(row[0]), decode_json(row[1], StoredThread)


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


def _where(params: ListThreadsParams | SearchThreadsParams) -> tuple[list[str], list[Any]]:
    clauses = ["archived = ?"]
    args: list[Any] = [1 if params.archived else 0]
    if params.allowed_sources:
        clauses.append(f"source_text IN ({','.join('?' * len(params.allowed_sources))})")
        args.extend(s.to_db_text() for s in params.allowed_sources)
    return clauses, args


def _page(
    conn: sqlite3.Connection,
    clauses: list[str],
    args: list[Any],
    *,
    sort_key: ThreadSortKey,
    direction: SortDirection,
    page_size: int,
    cursor: str | None,
    kind: str,
) -> tuple[list[StoredThread], str | None]:
    column = _SORT_COLUMNS[sort_key]
    desc = direction is SortDirection.DESC
    if cursor is not None:
        value = decode_cursor(cursor, kind, s=sort_key.value, d=direction.value)
        anchor_v, anchor_id = value.get("v"), value.get("id")
        if not isinstance(anchor_v, int) or not isinstance(anchor_id, str):
            raise InvalidRequest("cursor is not valid; restart the listing without a cursor")
        op = "<" if desc else ">"
        clauses = [*clauses, f"({column}, thread_id) {op} (?, ?)"]
        args = [*args, anchor_v, anchor_id]
    order = "DESC" if desc else "ASC"
    sql = (
        f"SELECT data, {column} FROM threads WHERE {' AND '.join(clauses)}"
        f" ORDER BY {column} {order}, thread_id {order} LIMIT ?"
    )
    rows = conn.execute(sql, [*args, page_size + 1]).fetchall()
    threads = [decode_json(row[0], StoredThread) for row in rows[:page_size]]
    next_cursor = None
    if len(rows) > page_size:
        last_value = rows[page_size - 1][1]
        next_cursor = encode_cursor(
            kind,
            s=sort_key.value,
            d=direction.value,
            v=last_value,
            id=threads[-1].thread_id,
        )
    return threads, next_cursor


def list_threads(
    conn: sqlite3.Connection, params: ListThreadsParams
) -> tuple[list[StoredThread], str | None]:
    """One page, O(page) through the (archived, sort column, id) indexes."""
    clauses, args = _where(params)
    if params.source_kinds is not None:
        kinds = set(params.source_kinds)
        if "subAgent" in kinds:
            clauses.append(
                f"(source_kind LIKE 'subAgent%' OR source_kind IN ({','.join('?' * len(kinds))}))"
            )
        else:
            clauses.append(f"source_kind IN ({','.join('?' * len(kinds))})")
        args.extend(sorted(kinds))
    if params.model_providers:
        clauses.append(f"model_provider IN ({','.join('?' * len(params.model_providers))})")
        args.extend(params.model_providers)
    if params.cwd_filters is not None:
        clauses.append(f"cwd IN ({','.join('?' * len(params.cwd_filters))})")
        args.extend(params.cwd_filters)
    for word in search_words(params.search_term or ""):
        clauses.append("instr(meta_search, ?) > 0")
        args.append(word)
    if params.relation_filter is not None:
        root = params.relation_filter.thread_id
        if params.relation_filter.kind is RelationKind.DIRECT_CHILDREN_OF:
            clauses.append("parent_thread_id = ?")
            args.append(root)
        else:
            clauses.append(
                "thread_id IN (WITH RECURSIVE d(id) AS ("
                " SELECT thread_id FROM threads WHERE parent_thread_id = ?"
                " UNION SELECT t.thread_id FROM threads t JOIN d ON t.parent_thread_id = d.id)"
                " SELECT id FROM d WHERE id <> ?)"
            )
            args.extend([root, root])
    return _page(
        conn,
        clauses,
        args,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="threads",
    )


def search_threads(
    conn: sqlite3.Connection, params: SearchThreadsParams
) -> tuple[list[tuple[StoredThread, str]], str | None]:
    """Threads whose metadata or message text holds every word; returns (thread, body)."""
    clauses, args = _where(params)
    for word in search_words(params.search_term):
        if len(word) >= 3:
            phrase = '"' + word.replace('"', '""') + '"'
            clauses.append(
                "(instr(meta_search, ?) > 0 OR thread_id IN"
                " (SELECT thread_id FROM text_rows WHERE id IN"
                "  (SELECT rowid FROM thread_text WHERE thread_text MATCH ?)))"
            )
            args.extend([word, phrase])
        else:
            clauses.append(
                "(instr(meta_search, ?) > 0 OR thread_id IN"
                " (SELECT thread_id FROM text_rows WHERE id IN"
                "  (SELECT rowid FROM thread_text WHERE instr(folded, ?) > 0)))"
            )
            args.extend([word, word])
    threads, cursor = _page(
        conn,
        clauses,
        args,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="search",
    )
    return [(t, get_body(conn, t.thread_id)) for t in threads], cursor
