"""Pages of a thread's typed turns and items (`list_turns`, `list_items`), for every store.

A store hands over the thread's history as rollout lines (`ThreadHistoryView`); the turns
and items are derived from them exactly as Codex's app-server derives them
(`protocol/items`), then paged here with keyset cursors, so every store pages alike.

Stores that keep items without line envelopes (memory, PostgreSQL) build the view with
`history_view`: each item's write time becomes its line timestamp and, in a paginated
thread, its position its ordinal, as a rollout file would have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cursors import decode_cursor, encode_cursor
from .errors import InvalidRequest
from .gc_pause import paused_gc
from .protocol.items import ThreadHistoryView, Turn, TurnItemsView
from .protocol.rollout import RolloutItem, RolloutLine
from .timeutil import format_rfc3339_ms, from_ms, parse_timestamp, to_ms
from .types import (
    ItemPage,
    ListItemsParams,
    ListTurnsParams,
    SortDirection,
    StoredThreadHistory,
    StoredThreadItem,
    TurnPage,
)

if TYPE_CHECKING:
    from .store import ThreadStore

__all__ = [
    "all_turns",
    "TimedItem",
    "history_view",
    "line_time_ms",
    "page_items",
    "page_turns",
    "stored_history",
    "timed_lines",
]


@dataclass(frozen=True, slots=True)
class TimedItem:
    """A history item with the time it was written (Unix ms)."""

    created_at_ms: int
    item: RolloutItem


def stored_history(thread_id: str, items: Sequence[TimedItem]) -> StoredThreadHistory:
    """A `StoredThreadHistory` with each item's write time."""
    return StoredThreadHistory(
        thread_id=thread_id,
        items=[t.item for t in items],
        item_created_at_ms=[t.created_at_ms for t in items],
    )


def timed_lines(lines: Sequence[RolloutLine]) -> list[TimedItem]:
    """Rollout lines as timed items; a line whose timestamp does not parse takes the time
    of the line before it."""
    out = []
    fallback = 0
    with paused_gc():  # one object per line, none of them garbage
        for line in lines:
            fallback = line_time_ms(line.timestamp, fallback)
            out.append(TimedItem(fallback, line.item))
    return out


def history_view(
    history_mode: str, items: Sequence[TimedItem], *, running: bool = False
) -> ThreadHistoryView:
    """The typed view of a history kept as timed items (ordinals are positions);
    `running`: a writer has the thread open."""
    paginated = history_mode == "paginated"
    lines = [
        RolloutLine(format_rfc3339_ms(from_ms(t.created_at_ms)), t.item, i if paginated else None)
        for i, t in enumerate(items)
    ]
    return ThreadHistoryView.of_lines(history_mode, lines, running=running)


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
    value: dict[str, Any] = decode_cursor(cursor, kind, s=scope)
    pos = value.get("p")
    if not isinstance(pos, int) or pos < 0 or pos >= max(count, 1) + 1:
        raise InvalidRequest("cursor points outside this thread's history; restart the listing")
    return pos


def page_turns(thread_id: str, view: ThreadHistoryView, params: ListTurnsParams) -> TurnPage:
    """One page of turns, oldest first for `asc`, with items per `params.items_view`."""
    turns = view.turns(params.items_view.value)
    anchor = _anchor(params.cursor, "turns", thread_id, len(turns))
    positions = _window(len(turns), anchor, params.page_size, params.sort_direction)
    nxt, back = _cursors("turns", thread_id, positions, len(turns), params.sort_direction)
    return TurnPage(turns=[turns[p] for p in positions], next_cursor=nxt, backwards_cursor=back)


def page_items(thread_id: str, view: ThreadHistoryView, params: ListItemsParams) -> ItemPage:
    """Items of the whole thread, or of one turn (an unknown turn id gives an empty page)."""
    items = view.items(params.turn_id)
    scope = f"{thread_id}/{params.turn_id or ''}"
    anchor = _anchor(params.cursor, "items", scope, len(items))
    positions = _window(len(items), anchor, params.page_size, params.sort_direction)
    page = [
        StoredThreadItem(
            turn_id=items[p].turn_id,
            item_key=f"{items[p].turn_id}:{items[p].item.id}",
            item_ordinal=items[p].ordinal,
            item_created_at_ms=items[p].created_at_ms,
            item=items[p].item,
        )
        for p in positions
    ]
    nxt, back = _cursors("items", scope, positions, len(items), params.sort_direction)
    return ItemPage(items=page, next_cursor=nxt, backwards_cursor=back)


_SECONDS: dict[str, int | None] = {}


def line_time_ms(timestamp: str, fallback_ms: int = 0) -> int:
    """Unix ms of a rollout line's timestamp, or `fallback_ms` when it does not parse.

    Lines in Codex's own form (`2026-12-02T10:24:14.632Z`) come in runs that share their
    second: each second is parsed once (a long history's reading spent a fifth of its
    time here), its milliseconds added."""
    if len(timestamp) == 24 and timestamp[19] == "." and timestamp[23] == "Z":
        millis = timestamp[20:23]
        if millis.isascii() and millis.isdigit():
            second = timestamp[:19]
            base = _SECONDS.get(second, -1)
            if base == -1:
                if len(_SECONDS) > 4096:
                    _SECONDS.clear()
                parsed = parse_timestamp(second + "Z")
                base = _SECONDS[second] = None if parsed is None else to_ms(parsed)
            return fallback_ms if base is None else base + int(millis)
    parsed = parse_timestamp(timestamp)
    return fallback_ms if parsed is None else to_ms(parsed)


_ALL_TURNS_PAGE = 500


async def all_turns(store: ThreadStore, thread_id: str) -> list[Turn]:
    """Every turn of a thread (archived or not), oldest first, with all of its items:
    what `codex-threads show`, `export` and the MCP server's reads are made of."""
    turns: list[Turn] = []
    cursor: str | None = None
    while True:
        page = await store.list_turns(
            ListTurnsParams(
                thread_id=thread_id,
                include_archived=True,
                cursor=cursor,
                page_size=_ALL_TURNS_PAGE,
                items_view=TurnItemsView.FULL,
            )
        )
        turns.extend(page.turns)
        cursor = page.next_cursor
        if cursor is None:
            return turns
