"""Turns of a paginated thread, as Codex's projection derives them.

Codex 0.169+ does not rebuild a paginated thread's turns by replaying events. Each rollout
line is *projected* once into rows (Codex keeps them in `thread_history_1.sqlite`): only
four `event_msg` payloads change anything (`task_started`, `task_complete`,
`turn_aborted`, `item_completed`); every other line just uses up its ordinal. A turn row is
frozen once it ends; an item seen twice keeps its first position and takes the newest
content; a turn's summary (first user message, final agent message) is fixed as it goes.

`project_line` is that per-line step, shared with the local store's writer of Codex's own
database. `Projection` applies the same rules to rows held in memory, and `read_turns`
reads them back the way the app-server does, across a fork's lineage of rollouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from ...timeutil import parse_timestamp, to_ms
from ..rollout import RolloutLine
from .conversion import thread_item_from_core
from .errors import turn_error
from .fields import ItemShapeError
from .model import (
    AgentMessageItem,
    ThreadItem,
    Turn,
    TurnError,
    TurnItemsView,
    TurnStatus,
    UnknownThreadItem,
    UserMessageItem,
)

__all__ = [
    "ItemChange",
    "ItemRow",
    "LineChanges",
    "Projection",
    "Segment",
    "TurnChange",
    "TurnRow",
    "line_time_ms",
    "project_line",
    "read_turns",
]

TERMINAL: Final = frozenset({"completed", "interrupted", "failed"})


@dataclass(frozen=True, slots=True)
class TurnChange:
    """A turn lifecycle line's effect on its turn row."""

    turn_id: str
    status: str
    error: TurnError | None
    started_at: int | None
    completed_at: int | None
    duration_ms: int | None
    root_turn_id: str | None


@dataclass(frozen=True, slots=True)
class ItemChange:
    """A completed item (times in Unix ms; a completion time of 0 means unknown)."""

    turn_id: str
    item: ThreadItem
    started_at_ms: int | None
    completed_at_ms: int | None


@dataclass(frozen=True, slots=True)
class LineChanges:
    turns: tuple[TurnChange, ...] = ()
    items: tuple[ItemChange, ...] = ()
    realtime: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not self.turns and not self.items and self.realtime is None


NO_CHANGES: Final = LineChanges()


def _opt_int(payload: dict[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ItemShapeError(f"`{key}` must be an integer")
    return value


def _opt_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise ItemShapeError(f"`{key}` must be a string")
    return value


def _turn_id(payload: dict[str, Any]) -> str:
    value = payload.get("turn_id")
    if not isinstance(value, str):
        raise ItemShapeError("missing field `turn_id`")
    return value


def project_line(line: RolloutLine) -> LineChanges:
    """What one rollout line changes in the projection.

    Raises:
        ItemShapeError: Codex cannot decode the line; it is skipped (its ordinal is spent).
    """
    item = line.item
    payload = item.payload
    if item.type == "realtime_item":
        return LineChanges(realtime=payload) if isinstance(payload, dict) else NO_CHANGES
    if item.type != "event_msg" or not isinstance(payload, dict):
        return NO_CHANGES
    tag = payload.get("type")
    if tag in ("task_started", "turn_started"):
        change = TurnChange(
            turn_id=_turn_id(payload),
            status="inProgress",
            error=None,
            started_at=_opt_int(payload, "started_at"),
            completed_at=None,
            duration_ms=None,
            root_turn_id=_opt_str(payload, "root_turn_id"),
        )
        return LineChanges(turns=(change,))
    if tag in ("task_complete", "turn_complete"):
        error = payload.get("error")
        change = TurnChange(
            turn_id=_turn_id(payload),
            status="completed" if error is None else "failed",
            error=None if error is None else turn_error(error),
            started_at=_opt_int(payload, "started_at"),
            completed_at=_opt_int(payload, "completed_at"),
            duration_ms=_opt_int(payload, "duration_ms"),
            root_turn_id=_opt_str(payload, "root_turn_id"),
        )
        return LineChanges(turns=(change,))
    if tag == "turn_aborted":
        turn_id = payload.get("turn_id")
        if turn_id is None:
            return NO_CHANGES
        change = TurnChange(
            turn_id=_turn_id(payload),
            status="interrupted",
            error=None,
            started_at=_opt_int(payload, "started_at"),
            completed_at=_opt_int(payload, "completed_at"),
            duration_ms=_opt_int(payload, "duration_ms"),
            root_turn_id=_opt_str(payload, "root_turn_id"),
        )
        return LineChanges(turns=(change,))
    if tag == "item_completed":
        if not isinstance(payload.get("thread_id"), str):
            raise ItemShapeError("missing field `thread_id`")
        completed = _opt_int(payload, "completed_at_ms")
        change_item = ItemChange(
            turn_id=_turn_id(payload),
            item=thread_item_from_core(payload.get("item")),
            started_at_ms=_opt_int(payload, "started_at_ms"),
            completed_at_ms=completed or None,
        )
        return LineChanges(items=(change_item,))
    return NO_CHANGES


def line_time_ms(timestamp: str) -> int | None:
    """A line's RFC 3339 timestamp in Unix ms (sub-millisecond digits dropped), or None."""
    parsed = parse_timestamp(timestamp)
    return None if parsed is None else to_ms(parsed)


# -- rows in memory -----------------------------------------------------------------------------


@dataclass(slots=True)
class TurnRow:
    turn_id: str
    ordinal: int
    status: str
    error: TurnError | None
    started_at: int | None
    completed_at: int | None
    duration_ms: int | None
    root_turn_id: str | None
    end_ordinal: int | None = None
    first_user_item_id: str | None = None
    final_agent_item_id: str | None = None


@dataclass(slots=True)
class ItemRow:
    turn_id: str
    item_id: str
    ordinal: int
    updated_ordinal: int
    created_at_ms: int
    started_at_ms: int | None
    completed_at_ms: int | None
    item: ThreadItem


def _item_id(item: ThreadItem) -> str:
    return item.id


def _is_agent_message(item: ThreadItem, phase: str | object | None = ...) -> bool:
    if not isinstance(item, AgentMessageItem):
        return False
    return phase is ... or item.phase == phase


class Projection:
    """One rollout's projected rows, kept in memory with Codex's upsert rules."""

    def __init__(self) -> None:
        self.turns: dict[str, TurnRow] = {}
        self.items: dict[tuple[str, str], ItemRow] = {}
        self._items_by_turn: dict[str, list[ItemRow]] = {}

    def apply(self, ordinal: int, changes: LineChanges, fallback_ms: int | None) -> None:
        for turn in changes.turns:
            self._apply_turn(ordinal, turn)
        for change in changes.items:
            self._apply_item(ordinal, change, fallback_ms)

    def pass_through(self, ordinal: int, changes: LineChanges, fallback_ms: int | None) -> None:
        """Keep items of types this library does not know, where no item has their key."""
        for change in changes.items:
            if (change.turn_id, _item_id(change.item)) not in self.items:
                self._apply_item(ordinal, change, fallback_ms)

    def _apply_turn(self, ordinal: int, change: TurnChange) -> None:
        terminal = change.status in TERMINAL
        row = self.turns.get(change.turn_id)
        if row is None:
            row = TurnRow(
                turn_id=change.turn_id,
                ordinal=ordinal,
                status=change.status,
                error=change.error,
                started_at=change.started_at,
                completed_at=change.completed_at,
                duration_ms=change.duration_ms,
                root_turn_id=change.root_turn_id,
                end_ordinal=ordinal if terminal else None,
            )
            self.turns[change.turn_id] = row
        elif row.end_ordinal is None and row.status == "inProgress":
            # Only an open turn changes: a finished one is frozen.
            row.root_turn_id = row.root_turn_id or change.root_turn_id
            row.end_ordinal = ordinal if terminal else None
            row.status = change.status
            row.error = change.error
            row.started_at = change.started_at
            row.completed_at = change.completed_at
            row.duration_ms = change.duration_ms
        if row.end_ordinal == ordinal or row.status == "inProgress":
            self._refresh_summary(row)

    def _refresh_summary(self, row: TurnRow) -> None:
        items = sorted(self._items_by_turn.get(row.turn_id, ()), key=lambda r: r.ordinal)
        if row.first_user_item_id is None:
            for r in items:
                if isinstance(r.item, UserMessageItem):
                    row.first_user_item_id = r.item_id
                    break
        final = None
        for r in reversed(items):
            if _is_agent_message(r.item, "final_answer"):
                final = r.item_id
                break
        if final is None and row.status in TERMINAL:
            for r in reversed(items):
                if _is_agent_message(r.item, None):
                    final = r.item_id
                    break
        if final is not None:
            row.final_agent_item_id = final

    def _apply_item(self, ordinal: int, change: ItemChange, fallback_ms: int | None) -> None:
        item_id = _item_id(change.item)
        key = (change.turn_id, item_id)
        row = self.items.get(key)
        if row is None:
            created = change.started_at_ms if change.started_at_ms is not None else fallback_ms
            row = ItemRow(
                turn_id=change.turn_id,
                item_id=item_id,
                ordinal=ordinal,
                updated_ordinal=ordinal,
                created_at_ms=created or 0,
                started_at_ms=change.started_at_ms,
                completed_at_ms=change.completed_at_ms,
                item=change.item,
            )
            self.items[key] = row
            self._items_by_turn.setdefault(change.turn_id, []).append(row)
        else:
            row.updated_ordinal = ordinal
            if row.started_at_ms is None:
                row.started_at_ms = change.started_at_ms
            if row.completed_at_ms is None:
                row.completed_at_ms = change.completed_at_ms
            row.item = change.item
        turn = self.turns.get(change.turn_id)
        if turn is None or turn.end_ordinal is not None or turn.status != "inProgress":
            return
        if isinstance(change.item, UserMessageItem) and turn.first_user_item_id is None:
            turn.first_user_item_id = item_id
        elif _is_agent_message(change.item, "final_answer"):
            turn.final_agent_item_id = item_id

    def items_of(self, turn_id: str, start: int, end: int | None) -> list[ItemRow]:
        """The turn's item rows whose ordinal lies in `[start, end)`, in ordinal order."""
        rows = [
            r
            for r in self._items_by_turn.get(turn_id, ())
            if r.ordinal >= start and (end is None or r.ordinal < end)
        ]
        rows.sort(key=lambda r: r.ordinal)
        return rows

    @classmethod
    def of_lines(cls, lines: Iterable[RolloutLine], initial_ordinal: int = 0) -> Projection:
        """Project a rollout's lines in order, skipping what Codex skips: lines with no
        ordinal, a repeated or regressed ordinal, an undecodable payload, or an item with
        no time of its own and an unreadable line timestamp."""
        projection = cls()
        next_ordinal = initial_ordinal
        subagent_start: int | None = None
        for index, line in enumerate(lines):
            if index == 0 and line.item.type == "session_meta":
                subagent_start = _subagent_start(line.item.payload)
            ordinal = line.ordinal
            if ordinal is None:
                continue
            try:
                # A sub-agent's copy of its parent's history is not projected again.
                inherited = subagent_start is not None and ordinal < subagent_start
                changes = NO_CHANGES if inherited else project_line(line)
            except ItemShapeError:
                continue
            if ordinal < next_ordinal:
                continue
            if any(isinstance(c.item, UnknownThreadItem) for c in changes.items):
                # Codex 0.171 cannot decode the line: it skips it without spending its
                # ordinal. A newer item type still passes through to readers, but never
                # over an item Codex shows.
                projection.pass_through(ordinal, changes, line_time_ms(line.timestamp))
                continue
            fallback = None
            if changes.realtime is not None or any(c.started_at_ms is None for c in changes.items):
                fallback = line_time_ms(line.timestamp)
                if fallback is None:
                    next_ordinal = ordinal + 1
                    continue
            projection.apply(ordinal, changes, fallback)
            next_ordinal = ordinal + 1
        return projection


def _subagent_start(meta: Any) -> int | None:
    value = meta.get("subagent_history_start_ordinal") if isinstance(meta, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- reading, as the app-server reads ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A rollout of a thread's lineage and the ordinal range of it the thread reads:
    `[start, end)` (`end` None: to the end). Oldest segment first."""

    rollout_id: str
    projection: Projection
    start: int
    end: int | None = None

    def holds(self, ordinal: int) -> bool:
        return ordinal >= self.start and (self.end is None or ordinal < self.end)


@dataclass(frozen=True, slots=True)
class ReadItem:
    """An item as a page shows it, with its position in its rollout."""

    turn_id: str
    ordinal: int
    created_at_ms: int
    item: ThreadItem


def _timed(row: ItemRow) -> ThreadItem:
    if isinstance(row.item, msgspec.Struct):
        return msgspec.structs.replace(
            row.item, started_at_ms=row.started_at_ms, completed_at_ms=row.completed_at_ms
        )
    return row.item


def _summary_rows(segment: Segment, row: TurnRow) -> list[ItemRow]:
    wanted = {i for i in (row.first_user_item_id, row.final_agent_item_id) if i is not None}
    return [
        r
        for r in segment.projection.items_of(row.turn_id, segment.start, segment.end)
        if r.item_id in wanted
    ]


def read_turns(
    segments: Sequence[Segment], items_view: str = "full", *, running: bool = False
) -> list[Turn]:
    """Every visible turn of a lineage, oldest first, with items per `items_view`
    (`notLoaded`, `summary` or `full`). A turn redefined by a newer segment is hidden in
    the older one. Unless the thread is `running` (a writer has it open), a turn still
    open reads as `interrupted`: nothing runs it any more."""
    out: list[Turn] = []
    for index, segment in enumerate(segments):
        newer = segments[index + 1 :]
        rows = sorted(
            (r for r in segment.projection.turns.values() if segment.holds(r.ordinal)),
            key=lambda r: r.ordinal,
        )
        for row in rows:
            if any(
                (other := s.projection.turns.get(row.turn_id)) is not None
                and s.holds(other.ordinal)
                for s in newer
            ):
                continue
            if items_view == "full":
                items = [
                    _timed(r)
                    for r in segment.projection.items_of(row.turn_id, segment.start, segment.end)
                ]
            elif items_view == "summary":
                items = [_timed(r) for r in _summary_source(segments, segment, row)]
            else:
                items = []
            out.append(
                Turn(
                    id=row.turn_id,
                    root_turn_id=row.root_turn_id,
                    items=items,
                    items_view=TurnItemsView(items_view),
                    status=TurnStatus.INTERRUPTED
                    if row.status == "inProgress" and not running
                    else TurnStatus(row.status),
                    error=row.error,
                    started_at=row.started_at,
                    completed_at=row.completed_at,
                    duration_ms=row.duration_ms,
                )
            )
    return out


def _summary_source(segments: Sequence[Segment], segment: Segment, row: TurnRow) -> list[ItemRow]:
    # A synthetic fork-boundary turn (interrupted, no summary of its own) borrows the
    # summary of the same turn in the oldest segment that has it.
    if (
        row.status == "interrupted"
        and row.first_user_item_id is None
        and row.final_agent_item_id is None
    ):
        for older in segments:
            source = older.projection.turns.get(row.turn_id)
            if source is not None and older.holds(source.ordinal):
                return _summary_rows(older, source)
    return _summary_rows(segment, row)


def read_items(segments: Sequence[Segment], turn_id: str | None = None) -> list[ReadItem]:
    """Every item of a lineage (or of one turn), in creation order."""
    out: list[ReadItem] = []
    for segment in segments:
        rows = [
            r
            for r in segment.projection.items.values()
            if segment.holds(r.ordinal) and (turn_id is None or r.turn_id == turn_id)
        ]
        rows.sort(key=lambda r: r.ordinal)
        out.extend(ReadItem(r.turn_id, r.ordinal, r.created_at_ms, _timed(r)) for r in rows)
    return out
