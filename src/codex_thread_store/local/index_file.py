"""Our index's file: its schema and version, opening it (rebuilding it when it is
missing, old or damaged), the quick second connection, and moving a damaged file aside.

Schema version lives in `PRAGMA user_version`. An index from an older version, or one
that fails `PRAGMA quick_check`, is moved aside (never deleted) and rebuilt from the
rollouts.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path

from .index import set_watermark

__all__ = [
    "QUICK_BUSY_TIMEOUT_MS",
    "SCHEMA_VERSION",
    "connect_quick",
    "move_aside",
    "open_index",
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
