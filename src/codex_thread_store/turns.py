"""Turns and items derived from a thread's history, and their keyset paging.

A turn runs from its start event (`task_started`, or a `user_message` in old
files that have no start events) to its `task_complete` / `turn_aborted`, or to
the next turn's start. Its status: `completed`, `failed` (a completion that
carries an `error`), `interrupted` (aborted, or superseded by a new turn) and
`inProgress` (the last turn, still open). Every store that keeps history as
rollout items pages turns and items with these functions, so they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .cursors import decode_cursor, encode_cursor
from .errors import InvalidRequest
from .protocol.rollout import RolloutItem
from .timeutil import parse_timestamp, to_ms
from .types import (
    ItemPage,
    ListItemsParams,
    ListTurnsParams,
    SortDirection,
    StoredThreadItem,
    StoredTurn,
    StoredTurnError,
    StoredTurnItemsView,
    StoredTurnStatus,
    TurnPage,
)

__all__ = ["TimedItem", "TurnSpan", "page_items", "page_turns", "split_turns"]

_START_EVENTS = frozenset({"task_started", "turn_started"})
_END_EVENTS = frozenset({"task_complete", "turn_complete"})


@dataclass(frozen=True, slots=True)
class TimedItem:
    """A history item with the time it was written (Unix ms)."""

    created_at_ms: int
    item: RolloutItem


@dataclass(slots=True)
class TurnSpan:
    turn_id: str
    start: int
    end: int  # exclusive
    status: StoredTurnStatus = StoredTurnStatus.IN_PROGRESS
    error: StoredTurnError | None = None
    created_at_ms: int | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    indices: list[int] = field(default_factory=list)


def _payload(item: RolloutItem) -> dict[str, Any]:
    return item.payload if isinstance(item.payload, dict) else {}


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def split_turns(items: Sequence[TimedItem]) -> tuple[list[TurnSpan], list[str | None]]:
    """The turns of a history, and the turn id of each item (None outside any turn)."""
    spans: list[TurnSpan] = []
    owner: list[str | None] = [None] * len(items)
    has_start_events = any(
        t.item.type == "event_msg" and t.item.payload_type in _START_EVENTS for t in items
    )
    current: TurnSpan | None = None
    for index, timed in enumerate(items):
        item = timed.item
        tag = item.payload_type if item.type == "event_msg" else None
        opens = tag in _START_EVENTS or (
            not has_start_events and tag == "user_message" and current is None
        )
        if opens:
            if current is not None:
                current.status = StoredTurnStatus.INTERRUPTED
                current.end = index
            payload = _payload(item)
            turn_id = payload.get("turn_id")
            current = TurnSpan(
                turn_id=turn_id if isinstance(turn_id, str) else f"turn-{index}",
                start=index,
                end=len(items),
                created_at_ms=timed.created_at_ms,
                started_at=_opt_int(payload.get("started_at")) or timed.created_at_ms // 1000,
            )
            spans.append(current)
        if current is None:
            continue
        owner[index] = current.turn_id
        current.indices.append(index)
        if tag in _END_EVENTS or tag == "turn_aborted":
            payload = _payload(item)
            error = payload.get("error")
            if tag == "turn_aborted":
                current.status = StoredTurnStatus.INTERRUPTED
            elif error:
                current.status = StoredTurnStatus.FAILED
                current.error = _turn_error(error)
            else:
                current.status = StoredTurnStatus.COMPLETED
            current.completed_at = (
                _opt_int(payload.get("completed_at")) or timed.created_at_ms // 1000
            )
            current.duration_ms = _opt_int(payload.get("duration_ms"))
            current.end = index + 1
            current = None
    return spans, owner


def _turn_error(error: Any) -> StoredTurnError:
    if isinstance(error, dict):
        message = error.get("message")
        details = error.get("additional_details") or error.get("codex_error_info")
        return StoredTurnError(
            message=message if isinstance(message, str) else str(error),
            additional_details=None if details is None else str(details),
        )
    return StoredTurnError(message=str(error))


def _is_summary_item(item: RolloutItem) -> bool:
    if item.type != "event_msg":
        return False
    tag = item.payload_type
    if tag in ("user_message", "agent_message"):
        return True
    if tag == "item_completed":
        inner = _payload(item).get("item")
        return isinstance(inner, dict) and inner.get("type") in ("UserMessage", "AgentMessage")
    return False


def _window(
    count: int, cursor_pos: int | None, page_size: int, direction: SortDirection
) -> list[int]:
    """Positions of one page over `range(count)` after the exclusive anchor `cursor_pos`."""
    if direction is SortDirection.ASC:
        start = 0 if cursor_pos is None else cursor_pos + 1
        return list(range(start, min(count, start + page_size)))
    start = count - 1 if cursor_pos is None else cursor_pos - 1
    stop = max(-1, start - page_size)
    return list(range(start, stop, -1))


def _cursors(
    kind: str, scope: str, positions: list[int], count: int, direction: SortDirection
) -> tuple[str | None, str | None]:
    if not positions:
        return None, None
    last, first = positions[-1], positions[0]
    more_after = last < count - 1 if direction is SortDirection.ASC else last > 0
    more_before = first > 0 if direction is SortDirection.ASC else first < count - 1
    nxt = encode_cursor(kind, s=scope, p=last) if more_after else None
    back = encode_cursor(kind, s=scope, p=first) if more_before else None
    return nxt, back


def _anchor(cursor: str | None, kind: str, scope: str, count: int) -> int | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor, kind, s=scope)
    pos = value.get("p")
    if not isinstance(pos, int) or pos < 0 or pos >= max(count, 1) + 1:
        raise InvalidRequest("cursor points outside this thread's history; restart the listing")
    return pos


def page_turns(thread_id: str, items: Sequence[TimedItem], params: ListTurnsParams) -> TurnPage:
    spans, _ = split_turns(items)
    anchor = _anchor(params.cursor, "turns", thread_id, len(spans))
    positions = _window(len(spans), anchor, params.page_size, params.sort_direction)
    turns = []
    for pos in positions:
        span = spans[pos]
        if params.items_view is StoredTurnItemsView.FULL:
            chosen = [items[i].item for i in span.indices]
        elif params.items_view is StoredTurnItemsView.SUMMARY:
            chosen = [items[i].item for i in span.indices if _is_summary_item(items[i].item)]
        else:
            chosen = []
        turns.append(
            StoredTurn(
                turn_id=span.turn_id,
                items=chosen,
                items_view=params.items_view,
                status=span.status,
                error=span.error,
                turn_created_at_ms=span.created_at_ms,
                started_at=span.started_at,
                completed_at=span.completed_at,
                duration_ms=span.duration_ms,
            )
        )
    nxt, back = _cursors("turns", thread_id, positions, len(spans), params.sort_direction)
    return TurnPage(turns=turns, next_cursor=nxt, backwards_cursor=back)


def page_items(thread_id: str, items: Sequence[TimedItem], params: ListItemsParams) -> ItemPage:
    """Items of the whole history, or of one turn (an unknown turn id gives an empty page)."""
    _, owner = split_turns(items)
    if params.turn_id is None:
        selected = list(range(len(items)))
    else:
        selected = [i for i, t in enumerate(owner) if t == params.turn_id]
    scope = f"{thread_id}/{params.turn_id or ''}"
    anchor = _anchor(params.cursor, "items", scope, len(selected))
    positions = _window(len(selected), anchor, params.page_size, params.sort_direction)
    page = [
        StoredThreadItem(
            turn_id=owner[selected[pos]],
            item_key=f"{thread_id}:{selected[pos]}",
            item_ordinal=selected[pos],
            item_created_at_ms=items[selected[pos]].created_at_ms,
            item=items[selected[pos]].item,
        )
        for pos in positions
    ]
    nxt, back = _cursors("items", scope, positions, len(selected), params.sort_direction)
    return ItemPage(items=page, next_cursor=nxt, backwards_cursor=back)


def line_time_ms(timestamp: str, fallback_ms: int = 0) -> int:
    """Unix ms of a rollout line's timestamp, or `fallback_ms` when it does not parse."""
    parsed = parse_timestamp(timestamp)
    return fallback_ms if parsed is None else to_ms(parsed)
