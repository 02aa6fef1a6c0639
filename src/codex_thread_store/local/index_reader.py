"""A read-only view of our SQLite index, for tools that must not write (doctor,
`reindex --check`) and for lookups the `ThreadStore` interface has no call for
(id prefixes, names, every id).

It opens the file with `mode=ro` on its own connection, so it never creates,
migrates or rebuilds anything; the store's own connection is untouched. It reads
only the `threads` and `files` tables and the `StoredThread` JSON in `data`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import msgspec

from ..codec import decode_json
from ..types import StoredThread

__all__ = ["IndexReader", "IndexRow"]


@dataclass(frozen=True, slots=True)
class IndexRow:
    thread_id: str
    rollout_path: str | None
    archived: bool
    live_only: bool


class IndexReader:
    """Read-only queries over `codex-thread-store-index.sqlite`. Raises `FileNotFoundError`
    when there is no index yet."""

    def __init__(self, index_path: Path) -> None:
        if not index_path.is_file():
            raise FileNotFoundError(index_path)
        self.path = index_path
        self._conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
        self._conn.execute("PRAGMA busy_timeout=10000")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- lookups ------------------------------------------------------------------
    def ids_with_prefix(self, prefix: str, limit: int = 50) -> list[str]:
        """Thread ids starting with `prefix` (lower-case), in id order."""
        prefix = prefix.lower()
        rows = self._conn.execute(
            "SELECT thread_id FROM threads WHERE thread_id >= ? AND thread_id < ?"
            " ORDER BY thread_id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        ).fetchall()
        return [row[0] for row in rows]

    def ids_named(self, name: str) -> list[str]:
        """Thread ids whose name equals `name`, ignoring case."""
        wanted = name.casefold()
        rows = self._conn.execute(
            "SELECT thread_id, json_extract(CAST(data AS TEXT), '$.name') AS name"
            " FROM threads WHERE name IS NOT NULL"
        ).fetchall()
        return sorted(tid for tid, value in rows if str(value).casefold() == wanted)

    def all_ids(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT thread_id FROM threads")]

    def thread(self, thread_id: str) -> StoredThread | None:
        row = self._conn.execute(
            "SELECT data FROM threads WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        return None if row is None else decode_json(row[0], StoredThread)

    # -- health -------------------------------------------------------------------
    def rows(self) -> dict[str, IndexRow]:
        return {
            tid: IndexRow(tid, path, bool(archived), bool(live_only))
            for tid, path, archived, live_only in self._conn.execute(
                "SELECT thread_id, rollout_path, archived, live_only FROM threads"
            )
        }

    def file_states(self) -> dict[str, tuple[str | None, int, int]]:
        """path -> (thread id, size, mtime_ns) as the index last saw the file."""
        return {
            path: (tid, size, mtime)
            for path, tid, size, mtime in self._conn.execute(
                "SELECT path, thread_id, size, mtime_ns FROM files"
            )
        }

    def problem(self) -> str | None:
        """What is wrong with the file itself (`quick_check`), or None."""
        try:
            result = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            return f"unreadable ({exc})"
        return None if result == "ok" else f"failed its integrity check ({result})"

    def undecodable_rows(self) -> int:
        """Rows whose stored thread cannot be read back (damage `quick_check`, which
        checks the file's structure only, does not see)."""
        bad = 0
        for (data,) in self._conn.execute("SELECT data FROM threads"):
            try:
                decode_json(data, StoredThread)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
                bad += 1
        return bad

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])
