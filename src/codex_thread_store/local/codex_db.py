"""Keep Codex's own `state_5.sqlite` `threads` rows in step with what this store writes.

Codex lists threads from that table once its backfill is complete, so a thread we
create in a home Codex already uses must get a row there, and a rename, archive or
delete must reach it too. The database is Codex's: we never create it, never run
migrations, never alter its schema, and write only columns that exist in the file
we find (the column set differs between Codex versions). When the file is absent we
do nothing; Codex back-fills rows from the JSONL when it next starts.

Failures here never fail the store operation: the JSONL is the truth, and Codex
repairs a stale row from the file (read-repair). They are logged instead.

Writes only touch the columns an operation changed, so a row Codex wrote keeps
every value we do not own (sandbox policy, approval mode, pins, sections...).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..codec import encode_json
from ..protocol.session_meta import GitInfo
from ..timeutil import to_ms
from ..types import StoredThread
from .db import rollback

__all__ = ["CODEX_STATE_DB", "PATCH_COLUMNS", "CodexFacts", "CodexStateDb", "row_for"]

log = logging.getLogger(__name__)

CODEX_STATE_DB = "state_5.sqlite"
#: Codex's own busy timeout on this file; we wait as long as Codex would, no longer.
BUSY_TIMEOUT_MS = 5000

#: Which `threads` columns a patch field (or store operation) changes.
PATCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "title": ("title",),
    "rollout_path": ("rollout_path",),
    "preview": ("preview",),
    "model_provider": ("model_provider",),
    "model": ("model",),
    "reasoning_effort": ("reasoning_effort",),
    "created_at": ("created_at", "created_at_ms"),
    "updated_at": ("updated_at", "updated_at_ms"),
    "advance_recency_at": ("recency_at", "recency_at_ms"),
    "source": ("source",),
    "thread_source": ("thread_source",),
    "agent_nickname": ("agent_nickname",),
    "agent_role": ("agent_role",),
    "agent_path": ("agent_path",),
    "cwd": ("cwd",),
    "cli_version": ("cli_version",),
    "approval_mode": ("approval_mode",),
    "permission_profile": ("sandbox_policy",),
    "token_usage": ("tokens_used",),
    "first_user_message": ("first_user_message",),
    "git_info": ("git_sha", "git_branch", "git_origin_url"),
    "memory_mode": ("memory_mode",),
    "history_mode": ("history_mode",),
    "originator": ("originator",),
    # store operations
    "archived": ("archived", "archived_at", "rollout_path", "updated_at", "updated_at_ms"),
}

#: Tables keyed by thread id that a hard delete clears, with their id column(s).
_DELETE_FROM: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("thread_dynamic_tools", ("thread_id",)),
    ("thread_spawn_edges", ("parent_thread_id", "child_thread_id")),
    ("thread_read_receipts", ("thread_id",)),
)


_FACT_COLUMNS = (
    "git_sha",
    "git_branch",
    "git_origin_url",
    "created_at_ms",
    "updated_at_ms",
    "recency_at_ms",
    "rollout_path",
    "archived",
    # Older Codex versions (0.144) keep whole seconds only.
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class CodexFacts:
    """A thread's facts as Codex's `threads` row holds them (None: no such column)."""

    git: GitInfo | None
    created_at_ms: int | None
    updated_at_ms: int | None
    recency_at_ms: int | None
    rollout_path: str | None = None
    archived: bool | None = None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ms(values: Mapping[str, Any], name: str) -> int | None:
    """A time column in ms: the `_ms` column, else the seconds one an older Codex keeps."""
    exact = _int_or_none(values.get(f"{name}_ms"))
    if exact is not None:
        return exact
    seconds = _int_or_none(values.get(name))
    return None if seconds is None else seconds * 1000


def _seconds(ms: int) -> int:
    return ms // 1000


def row_for(thread: StoredThread, *, explicit_name: str | None) -> dict[str, Any]:
    """Every `threads` column we can fill from a thread, under Codex's encodings."""
    created_ms = to_ms(thread.created_at)
    updated_ms = to_ms(thread.updated_at)
    recency_ms = to_ms(thread.recency_at)
    git = thread.git_info
    title = thread.title or thread.first_user_message or thread.preview or ""
    row: dict[str, Any] = {
        "id": thread.thread_id,
        "rollout_path": thread.rollout_path or "",
        "created_at": _seconds(created_ms),
        "updated_at": _seconds(updated_ms),
        "created_at_ms": created_ms,
        "updated_at_ms": updated_ms,
        "recency_at": _seconds(recency_ms),
        "recency_at_ms": recency_ms,
        "source": thread.source.to_db_text(),
        "model_provider": thread.model_provider,
        "cwd": thread.cwd,
        "title": title,
        # Codex's defaults when it back-fills a row from a rollout.
        "sandbox_policy": "read-only"
        if thread.permission_profile is None
        else encode_json(thread.permission_profile).decode(),
        "approval_mode": thread.approval_mode
        if isinstance(thread.approval_mode, str)
        else "on-request",
        "tokens_used": max(0, thread.token_usage.total_tokens) if thread.token_usage else 0,
        "archived": 1 if thread.is_archived else 0,
        "archived_at": _seconds(to_ms(thread.archived_at)) if thread.archived_at else None,
        "git_sha": git.commit_hash if git else None,
        "git_branch": git.branch if git else None,
        "git_origin_url": git.repository_url if git else None,
        "cli_version": thread.cli_version,
        "first_user_message": thread.first_user_message or "",
        "agent_nickname": thread.agent_nickname,
        "agent_role": thread.agent_role,
        "agent_path": thread.agent_path,
        "memory_mode": thread.memory_mode or "enabled",
        "model": thread.model,
        "reasoning_effort": thread.reasoning_effort,
        "thread_source": thread.thread_source,
        "preview": thread.preview,
        "history_mode": thread.history_mode,
        "name": explicit_name,
        "originator": thread.originator,
    }
    if thread.parent_thread_id and thread.source.subagent_kind == "thread_spawn":
        row["_spawn_parent"] = thread.parent_thread_id  # not a column: the spawn edge
    return row


class CodexStateDb:
    """Codex's `state_5.sqlite` in one home, opened lazily; every method is synchronous
    and must run on one thread at a time (the store runs them on its index thread)."""

    def __init__(self, codex_home: Path) -> None:
        self.path = codex_home / CODEX_STATE_DB
        self._conn: sqlite3.Connection | None = None
        self._columns: frozenset[str] = frozenset()

    @property
    def present(self) -> bool:
        return self.path.exists()

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            return None
        # mode=rw: never create the file when Codex has not.
        conn = sqlite3.connect(
            f"file:{self.path}?mode=rw", uri=True, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        columns = frozenset(row[1] for row in conn.execute("PRAGMA table_info(threads)"))
        if "id" not in columns:
            conn.close()
            log.warning("%s has no threads table; leaving it alone", self.path)
            return None
        self._conn, self._columns = conn, columns
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- writes ---------------------------------------------------------------------
    def sync(
        self,
        thread: StoredThread,
        *,
        changed: Iterable[str] | None,
        explicit_name: str | None = None,
    ) -> None:
        """Insert the thread's row if Codex has none; else update only `changed` columns
        (None: every column we own). No-op without a Codex database."""
        self._guarded("sync", thread.thread_id, self._sync, thread, changed, explicit_name)

    def _sync(
        self, thread: StoredThread, changed: Iterable[str] | None, explicit_name: str | None
    ) -> None:
        conn = self._open()
        if conn is None:
            return
        row = row_for(thread, explicit_name=explicit_name)
        conn.execute("BEGIN IMMEDIATE")
        try:
            exists = conn.execute("SELECT 1 FROM threads WHERE id = ?", (thread.thread_id,))
            if exists.fetchone() is None:
                self._insert(conn, row)
            else:
                columns = set(row) - {"id"} if changed is None else set(changed)
                if explicit_name is None:
                    columns.discard("name")  # names only change through `set_name`
                self._update(conn, thread.thread_id, {c: row[c] for c in columns if c in row})
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

    def set_name(self, thread_id: str, name: str | None) -> None:
        """An explicit rename (`None` clears), as Codex writes it next to `session_index`."""
        self._guarded("rename", thread_id, self._set_name, thread_id, name)

    def _set_name(self, thread_id: str, name: str | None) -> None:
        conn = self._open()
        if conn is None:
            return
        self._update(conn, thread_id, {"name": name})

    def delete(self, thread_id: str) -> None:
        """Remove the thread's row, its edges, tools and receipts (the history projection
        is `CodexHistoryDb.delete`'s)."""
        self._guarded("delete", thread_id, self._delete, thread_id)

    def _delete(self, thread_id: str) -> None:
        conn = self._open()
        if conn is not None:
            tables = _tables(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table, keys in _DELETE_FROM:
                    if table in tables:
                        where = " OR ".join(f"{k} = ?" for k in keys)
                        conn.execute(f"DELETE FROM {table} WHERE {where}", (thread_id,) * len(keys))
                conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise

    # -- reads ----------------------------------------------------------------------
    def changed_since(self, updated_at_ms: int) -> list[tuple[str, str, int]]:
        """`(id, rollout_path, updated_at_ms)` of rows Codex touched after the watermark:
        how the store notices Codex appending to an old rollout without rescanning."""
        try:
            conn = self._open()
            if conn is None or "updated_at_ms" not in self._columns:
                return []
            rows = conn.execute(
                "SELECT id, rollout_path, updated_at_ms FROM threads WHERE updated_at_ms > ?",
                (updated_at_ms,),
            ).fetchall()
        except sqlite3.Error as exc:
            log.warning("could not read %s: %s", self.path, exc)
            return []
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def facts_by_thread(self, thread_ids: Iterable[str] | None = None) -> dict[str, CodexFacts]:
        """What Codex's rows say that the rollouts do not (or not as Codex reports it), for
        `thread_ids` (None: every thread, for a rebuild): git facts, which Codex updates
        only here for paginated threads, and the times the app-server answers with
        (`created_at_ms`, `updated_at_ms`, `recency_at_ms`), which Codex bumps without
        touching the rollout."""
        try:
            conn = self._open()
            if conn is None:
                return {}
            wanted = [c for c in _FACT_COLUMNS if c in self._columns]
            if not wanted:
                return {}
            sql = f"SELECT id, {', '.join(wanted)} FROM threads"
            if thread_ids is None:
                rows = conn.execute(sql).fetchall()
            else:
                rows = [
                    row
                    for thread_id in thread_ids
                    for row in conn.execute(sql + " WHERE id = ?", (thread_id,)).fetchall()
                ]
        except sqlite3.Error as exc:
            log.warning("could not read %s: %s", self.path, exc)
            return {}
        out = {}
        for row in rows:
            values = dict(zip(wanted, row[1:], strict=True))
            git = GitInfo(
                commit_hash=values.get("git_sha"),
                branch=values.get("git_branch"),
                repository_url=values.get("git_origin_url"),
            )
            out[str(row[0])] = CodexFacts(
                git=None if git.is_empty() else git,
                created_at_ms=_ms(values, "created_at"),
                updated_at_ms=_ms(values, "updated_at"),
                recency_at_ms=_ms(values, "recency_at"),
                rollout_path=values.get("rollout_path"),
                archived=None if values.get("archived") is None else bool(values["archived"]),
            )
        return out

    # -- helpers --------------------------------------------------------------------
    def _insert(self, conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
        values = {c: v for c, v in row.items() if c in self._columns}
        names = ", ".join(values)
        marks = ", ".join("?" * len(values))
        conn.execute(f"INSERT INTO threads ({names}) VALUES ({marks})", list(values.values()))
        parent = row.get("_spawn_parent")
        if parent and "thread_spawn_edges" in _tables(conn):
            # As Codex does for thread-spawn sub-agents; an existing edge wins.
            conn.execute(
                "INSERT INTO thread_spawn_edges (parent_thread_id, child_thread_id, status)"
                " VALUES (?, ?, 'open') ON CONFLICT(child_thread_id) DO NOTHING",
                (parent, row["id"]),
            )

    def _update(self, conn: sqlite3.Connection, thread_id: str, values: Mapping[str, Any]) -> None:
        present = {c: v for c, v in values.items() if c in self._columns and c != "id"}
        if not present:
            return
        assignments = ", ".join(f"{c} = ?" for c in present)
        conn.execute(
            f"UPDATE threads SET {assignments} WHERE id = ?", [*present.values(), thread_id]
        )

    def _guarded(self, what: str, thread_id: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except sqlite3.Error as exc:
            # Codex re-derives a stale row from the rollout; never fail our write for it.
            log.warning("could not %s thread %s in %s: %s", what, thread_id, self.path, exc)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
