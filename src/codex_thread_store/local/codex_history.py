"""Keep Codex's paginated-history projection (`thread_history_1.sqlite`) in step with rollouts.

Codex 0.169+ reads a paginated thread's turns and items from this database, never from the
JSONL: a paginated rollout without rows reads as an empty thread in Codex. So whenever the
store writes a paginated rollout, it projects the new lines here exactly as Codex would
(`catch_up`, Codex's `materialize_to_sqlite`): from the checkpoint Codex keeps per rollout
(`thread_history_projection_state`: byte offset and next ordinal) to the last complete
line, in one `BEGIN IMMEDIATE` transaction, with Codex's own statements and conflict
rules, so rows we write and rows Codex writes are indistinguishable. Rows are keyed by
rollout id (the UUID that ends the file name), not thread id.

The database is Codex's: it is never created, migrated or altered here; without it, or
without its tables, nothing is written (Codex catches the projection up itself the next
time it resumes the thread, and `LocalThreadStore` catches up lagging threads when it
next opens a home where the database exists). Failures are logged, never raised: the
rollout is the truth and was durable first.

Item JSON keeps numbers exactly as the rollout spells them (`2.50`, `1e+20`), as Codex's
`arbitrary_precision` JSON does.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec

from ..protocol.items.fields import ItemShapeError
from ..protocol.items.model import (
    AgentMessageItem,
    ThreadItem,
    UnknownThreadItem,
    UserMessageItem,
    encode_hook,
)
from ..protocol.items.paginated import TERMINAL, LineChanges, line_time_ms, project_line
from ..protocol.rollout import MalformedLine, RolloutItem, RolloutLine, decode_line
from .db import rollback
from .rollout_files import read_rollout_bytes

__all__ = ["CODEX_HISTORY_DB", "CodexHistoryDb", "ProjectionState", "detect_history_mode"]

log = logging.getLogger(__name__)

CODEX_HISTORY_DB: Final = "thread_history_1.sqlite"
BUSY_TIMEOUT_MS: Final = 5000
_TABLES: Final = (
    "thread_items",
    "thread_realtime_items",
    "thread_turns",
    "thread_history_projection_state",
)
_REQUIRED_COLUMNS: Final = {
    "thread_turns": {"root_turn_id", "rollout_byte_offset", "rollout_end_ordinal"},
    "thread_items": {"item_type", "updated_at_ordinal", "started_at_ms", "completed_at_ms"},
    "thread_history_projection_state": {"next_rollout_byte_offset", "next_rollout_ordinal"},
}

_UPSERT_TURN: Final = """
INSERT INTO thread_turns (thread_id, turn_id, root_turn_id, rollout_ordinal, rollout_byte_offset,
    rollout_end_ordinal, rollout_end_byte_offset, status, error_json, started_at, completed_at,
    duration_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(thread_id, turn_id) DO UPDATE SET
    root_turn_id = COALESCE(thread_turns.root_turn_id, excluded.root_turn_id),
    rollout_end_ordinal = excluded.rollout_end_ordinal,
    rollout_end_byte_offset = excluded.rollout_end_byte_offset,
    status = excluded.status,
    error_json = excluded.error_json,
    started_at = excluded.started_at,
    completed_at = excluded.completed_at,
    duration_ms = excluded.duration_ms
WHERE thread_turns.rollout_end_ordinal IS NULL
  AND thread_turns.status = 'inProgress'
"""

# "Review turns can persist completed items before their turn lifecycle record": the
# summary ids are (re)filled from item rows when a turn row is written.
_REFRESH_SUMMARY: Final = """
UPDATE thread_turns
SET
    first_user_item_id = COALESCE(
        first_user_item_id,
        (SELECT item_id FROM thread_items WHERE thread_id = ? AND turn_id = ?
           AND (item_type = 'userMessage'
                OR (item_type = '' AND json_extract(item_json, '$.type') = 'userMessage'))
         ORDER BY rollout_ordinal LIMIT 1)
    ),
    final_agent_item_id = COALESCE(
        (SELECT item_id FROM thread_items WHERE thread_id = ? AND turn_id = ?
           AND (item_type = 'agentMessage'
                OR (item_type = '' AND json_extract(item_json, '$.type') = 'agentMessage'))
           AND json_extract(item_json, '$.phase') = 'final_answer'
         ORDER BY rollout_ordinal DESC LIMIT 1),
        CASE WHEN status IN ('completed', 'interrupted', 'failed') THEN (
            SELECT item_id FROM thread_items WHERE thread_id = ? AND turn_id = ?
              AND (item_type = 'agentMessage'
                   OR (item_type = '' AND json_extract(item_json, '$.type') = 'agentMessage'))
              AND json_extract(item_json, '$.phase') IS NULL
            ORDER BY rollout_ordinal DESC LIMIT 1)
        END,
        final_agent_item_id
    )
WHERE thread_id = ? AND turn_id = ? AND (rollout_end_ordinal = ? OR status = 'inProgress')
"""

_UPSERT_ITEM: Final = """
INSERT INTO thread_items (thread_id, turn_id, item_id, rollout_ordinal, updated_at_ordinal,
    created_at_ms, started_at_ms, completed_at_ms, item_type, item_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, json_extract(?, '$.type'), ?)
ON CONFLICT(thread_id, turn_id, item_id) DO UPDATE SET
    updated_at_ordinal = excluded.updated_at_ordinal,
    started_at_ms = COALESCE(thread_items.started_at_ms, excluded.started_at_ms),
    completed_at_ms = COALESCE(thread_items.completed_at_ms, excluded.completed_at_ms),
    item_type = excluded.item_type,
    item_json = excluded.item_json
"""

_SET_FIRST_USER: Final = """
UPDATE thread_turns SET first_user_item_id = COALESCE(first_user_item_id, ?)
WHERE thread_id = ? AND turn_id = ? AND rollout_end_ordinal IS NULL AND status = 'inProgress'
"""

_SET_FINAL_AGENT: Final = """
UPDATE thread_turns SET final_agent_item_id = ?
WHERE thread_id = ? AND turn_id = ? AND rollout_end_ordinal IS NULL AND status = 'inProgress'
"""

_UPSERT_STATE: Final = """
INSERT INTO thread_history_projection_state (thread_id, next_rollout_byte_offset,
    next_rollout_ordinal)
VALUES (?, ?, ?)
ON CONFLICT(thread_id) DO UPDATE SET
    next_rollout_byte_offset = excluded.next_rollout_byte_offset,
    next_rollout_ordinal = excluded.next_rollout_ordinal
"""

_INSERT_REALTIME: Final = """
INSERT INTO thread_realtime_items (thread_id, item_id, rollout_ordinal, created_at_ms, item_type,
    item_json)
VALUES (?, ?, ?, ?, json_extract(?, '$.type'), ?)
ON CONFLICT(thread_id, item_id) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class ProjectionState:
    """How much of a rollout Codex's projection holds: bytes and the next ordinal."""

    next_byte_offset: int
    next_ordinal: int


def _encode(value: Any) -> str:
    return msgspec.json.encode(value, enc_hook=encode_hook).decode()


def _item_json(item: ThreadItem) -> str:
    """The item as Codex stores it: its JSON without the two time keys (own columns)."""
    if isinstance(item, msgspec.Struct):
        item = msgspec.structs.replace(
            item, started_at_ms=msgspec.UNSET, completed_at_ms=msgspec.UNSET
        )
    return _encode(item)


def _decode_exact(raw: bytes) -> RolloutLine:
    """A line decoded with fractional numbers kept as their source text (`msgspec.Raw`),
    so copied JSON values re-encode byte for byte. A line the store's reader (and Codex)
    rejects, such as a lone surrogate escape, `NaN` or nesting too deep, is malformed."""
    decode_line(raw)  # the reader's verdict first: what it skips, Codex skips too
    try:
        value = json.loads(
            raw,
            parse_float=lambda text: msgspec.Raw(text.encode()),
            parse_constant=_reject_constant,
        )
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise MalformedLine(str(exc)) from None
    if not isinstance(value, dict) or not isinstance(value.get("timestamp"), str):
        raise MalformedLine("not a rollout line")
    ordinal = value.get("ordinal")
    if ordinal is not None and (not isinstance(ordinal, int) or isinstance(ordinal, bool)):
        raise MalformedLine("a rollout line's `ordinal` must be an integer")
    return RolloutLine(value["timestamp"], RolloutItem.from_json(value), ordinal)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _lines(data: bytes, start: int) -> Iterator[tuple[int, int, bytes]]:
    """(start, end including the newline, line) of each complete line from `start`."""
    end_of_complete = data.rfind(b"\n") + 1
    position = start
    while position < end_of_complete:
        newline = data.index(b"\n", position)
        yield position, newline + 1, data[position:newline]
        position = newline + 1


def _subagent_start(data: bytes) -> int | None:
    first = data.split(b"\n", 1)[0]
    try:
        meta = json.loads(first).get("payload") or {}
    except (ValueError, AttributeError):
        return None
    value = meta.get("subagent_history_start_ordinal") if isinstance(meta, dict) else None
    return value if isinstance(value, int) else None


def detect_history_mode(codex_home: Path) -> str:
    """What a home's Codex writes: `paginated` when it has Codex's history database or a
    thread Codex recorded as paginated, else `legacy` (what every Codex reads in full,
    also a home no Codex has opened yet)."""
    if (codex_home / CODEX_HISTORY_DB).exists():
        return "paginated"
    state = codex_home / "state_5.sqlite"
    if state.exists():
        try:
            conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
            try:
                columns = {row[1] for row in conn.execute("PRAGMA table_info(threads)")}
                if (
                    "history_mode" in columns
                    and conn.execute(
                        "SELECT 1 FROM threads WHERE history_mode = 'paginated' LIMIT 1"
                    ).fetchone()
                ):
                    return "paginated"
            finally:
                conn.close()
        except sqlite3.Error as exc:
            log.warning("could not read %s: %s", state, exc)
    return "legacy"


class CodexHistoryDb:
    """Codex's `thread_history_1.sqlite` in one home, opened lazily. Methods are
    synchronous; run them on one thread at a time (the store's index thread)."""

    def __init__(self, codex_home: Path) -> None:
        self.path = codex_home / CODEX_HISTORY_DB
        self._conn: sqlite3.Connection | None = None

    @property
    def present(self) -> bool:
        return self.path.exists()

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            return None
        conn = sqlite3.connect(
            f"file:{self.path}?mode=rw", uri=True, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        for table, columns in _REQUIRED_COLUMNS.items():
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not columns <= present:
                # Not the schema this projection is written for (an older or newer Codex,
                # or Codex is still migrating it): leave it to Codex.
                log.info("%s lacks %s columns Codex 0.171 writes; not projecting", self.path, table)
                conn.close()
                return None
        self._conn = conn
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- reads ------------------------------------------------------------------------
    def states(self) -> dict[str, ProjectionState]:
        """Every rollout's checkpoint (empty without the database)."""
        try:
            conn = self._open()
            if conn is None:
                return {}
            rows = conn.execute(
                "SELECT thread_id, next_rollout_byte_offset, next_rollout_ordinal"
                " FROM thread_history_projection_state"
            ).fetchall()
        except sqlite3.Error as exc:
            log.warning("could not read %s: %s", self.path, exc)
            return {}
        return {str(r[0]): ProjectionState(int(r[1]), int(r[2])) for r in rows}

    # -- writes -----------------------------------------------------------------------
    def catch_up(self, rollout_id: str, path: Path, *, initial_ordinal: int = 0) -> bool:
        """Project the rollout's lines past Codex's checkpoint. Returns whether the
        projection now covers the file (False without a database or on a failure)."""
        try:
            return self._catch_up(rollout_id, path, initial_ordinal)
        except Exception as exc:  # never fails our write: Codex catches up when it resumes
            log.warning("could not project %s into %s: %s", path.name, self.path, exc)
            return False

    def _catch_up(self, rollout_id: str, path: Path, initial_ordinal: int) -> bool:
        conn = self._open()
        if conn is None:
            return False
        try:
            data = read_rollout_bytes(path)
        except FileNotFoundError:
            return False
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT next_rollout_byte_offset, next_rollout_ordinal"
                " FROM thread_history_projection_state WHERE thread_id = ?",
                (rollout_id,),
            ).fetchone()
            start, next_ordinal = (int(row[0]), int(row[1])) if row else (0, initial_ordinal)
            if start > len(data):
                # The checkpoint claims more than the file holds (a truncated or replaced
                # rollout): projecting from it would silently lose lines. Leave it.
                log.warning("%s: projection of %s is past the file's end", self.path, path.name)
                rollback(conn)
                return False
            offset = self._apply_lines(conn, rollout_id, data, start, next_ordinal)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        return offset == data.rfind(b"\n") + 1

    def _apply_lines(
        self, conn: sqlite3.Connection, rollout_id: str, data: bytes, start: int, next_ordinal: int
    ) -> int:
        subagent_start = _subagent_start(data)
        offset = start
        for line_start, line_end, raw in _lines(data, start):
            offset = line_end
            if not raw.strip():
                continue
            try:
                line = _decode_exact(raw)
                ordinal = line.ordinal
                if ordinal is None:
                    continue
                inherited = subagent_start is not None and ordinal < subagent_start
                # A sub-agent's copy of its parent's history is not projected again.
                changes = LineChanges() if inherited else project_line(line)
                if any(isinstance(c.item, UnknownThreadItem) for c in changes.items):
                    # An item type Codex 0.171 cannot read: it skips the line, so do we.
                    raise ItemShapeError("unknown item type")
            except (MalformedLine, ItemShapeError, ValueError, TypeError, RecursionError):
                continue  # Codex skips a line it cannot decode: only the offset moves
            if ordinal < next_ordinal:
                continue  # a repeated or regressed ordinal
            fallback = None
            if changes.realtime is not None or any(c.started_at_ms is None for c in changes.items):
                fallback = line_time_ms(line.timestamp)
                if fallback is None:
                    next_ordinal = ordinal + 1  # the line's changes are dropped
                    continue
            self._apply_changes(conn, rollout_id, ordinal, line_start, line_end, fallback, changes)
            next_ordinal = ordinal + 1
        if offset != start:
            conn.execute(_UPSERT_STATE, (rollout_id, offset, next_ordinal))
        return offset

    def _apply_changes(
        self,
        conn: sqlite3.Connection,
        rollout_id: str,
        ordinal: int,
        line_start: int,
        line_end: int,
        fallback_ms: int | None,
        changes: LineChanges,
    ) -> None:
        for turn in changes.turns:
            terminal = turn.status in TERMINAL
            conn.execute(
                _UPSERT_TURN,
                (
                    rollout_id,
                    turn.turn_id,
                    turn.root_turn_id,
                    ordinal,
                    line_start,
                    ordinal if terminal else None,
                    line_end if terminal else None,
                    turn.status,
                    None if turn.error is None else _encode(turn.error),
                    turn.started_at,
                    turn.completed_at,
                    turn.duration_ms,
                ),
            )
            key = (rollout_id, turn.turn_id)
            conn.execute(_REFRESH_SUMMARY, (*key, *key, *key, *key, ordinal))
        for change in changes.items:
            created = change.started_at_ms if change.started_at_ms is not None else fallback_ms
            item_json = _item_json(change.item)
            item_id = change.item.id
            conn.execute(
                _UPSERT_ITEM,
                (
                    rollout_id,
                    change.turn_id,
                    item_id,
                    ordinal,
                    ordinal,
                    created,
                    change.started_at_ms,
                    change.completed_at_ms,
                    item_json,
                    item_json,
                ),
            )
            if isinstance(change.item, UserMessageItem):
                conn.execute(_SET_FIRST_USER, (item_id, rollout_id, change.turn_id))
            elif isinstance(change.item, AgentMessageItem) and change.item.phase == "final_answer":
                conn.execute(_SET_FINAL_AGENT, (item_id, rollout_id, change.turn_id))
        if changes.realtime is not None and isinstance(changes.realtime.get("id"), str):
            item_json = _encode(changes.realtime)
            conn.execute(
                _INSERT_REALTIME,
                (rollout_id, changes.realtime["id"], ordinal, fallback_ms, item_json, item_json),
            )

    def delete(self, rollout_ids: list[str]) -> None:
        """Remove every projected row of these rollouts (a thread's delete)."""
        try:
            conn = self._open()
            if conn is None:
                return
            present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            conn.execute("BEGIN IMMEDIATE")
            try:
                for rollout_id in rollout_ids:
                    for table in _TABLES:
                        if table in present:
                            conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (rollout_id,))
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
        except sqlite3.Error as exc:
            log.warning("could not delete projection rows in %s: %s", self.path, exc)
