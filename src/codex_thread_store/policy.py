"""The rollout persistence policy: which items become durable history.

Every store applies `persisted_rollout_items` inside `append_items`, and
`LiveThread` applies it to decide which items to derive metadata from, so the
two can never disagree. The lists follow Codex's `codex-rs/rollout` policy,
widened by what the real CLI 0.169 writes (`thread_settings_applied`, and every
`item_completed` in paginated threads).

Item kinds this library does not know are *kept*: they come from a newer
writer, and dropping them would lose data on a copy or import. Unknown
`event_msg` and `response_item` kinds are dropped, as Codex drops them (streaming
deltas, begin events, ...); `LiveThread.append_items` counts what was dropped. A
`response_item` in the Responses API's short form (`{"role": "user", "content": "Hi"}`)
is not unknown: it is kept as the `message` it stands for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from .protocol.rollout import RolloutItem
from .protocol.rollout_kinds import (
    ALWAYS_PERSISTED_KINDS,
    PERSISTED_EVENTS,
    PERSISTED_RESPONSE_ITEMS,
)
from .protocol.short_form import expand_short_form, is_short_form

__all__ = [
    "EXEC_OUTPUT_LIMIT_BYTES",
    "is_persisted_rollout_item",
    "persisted_rollout_items",
    "sanitize_rollout_item",
]

EXEC_OUTPUT_LIMIT_BYTES: Final = 10_000

# In legacy history only plan (and sleep) items are kept from item lifecycle events.
_LEGACY_ITEM_COMPLETED: Final = frozenset({"Plan", "plan", "Sleep", "sleep"})


def is_persisted_rollout_item(item: RolloutItem, history_mode: str = "legacy") -> bool:
    """Whether `item` belongs in durable history for a thread of `history_mode`."""
    kind = item.type
    if kind in ALWAYS_PERSISTED_KINDS:
        return True
    if kind == "response_item":
        return item.payload_type in PERSISTED_RESPONSE_ITEMS or is_short_form(item.payload)
    if kind == "event_msg":
        tag = item.payload_type
        if tag == "item_completed":
            if history_mode == "paginated":
                return True
            inner = item.payload.get("item") if isinstance(item.payload, dict) else None
            return isinstance(inner, dict) and inner.get("type") in _LEGACY_ITEM_COMPLETED
        return tag in PERSISTED_EVENTS
    # A kind from a newer writer: keep it rather than lose it.
    return True


def sanitize_rollout_item(item: RolloutItem) -> RolloutItem:
    """Shrink what is kept of an `exec_command_end`: no stdout/stderr/formatted output, and
    `aggregated_output` middle-truncated to at most 10,000 UTF-8 bytes. A short-form
    message becomes the `message` it stands for (`protocol/short_form.py`)."""
    if item.type == "response_item" and is_short_form(item.payload):
        return RolloutItem(item.type, expand_short_form(item.payload), item.extra)
    if item.type != "event_msg" or item.payload_type != "exec_command_end":
        return item
    payload: dict[str, Any] = dict(item.payload)
    for key in ("stdout", "stderr", "formatted_output"):
        if key in payload:
            payload[key] = ""
    aggregated = payload.get("aggregated_output")
    if isinstance(aggregated, str):
        payload["aggregated_output"] = _middle_truncate(aggregated, EXEC_OUTPUT_LIMIT_BYTES)
    return RolloutItem(item.type, payload, item.extra)


def persisted_rollout_items(
    items: Iterable[RolloutItem], history_mode: str = "legacy"
) -> list[RolloutItem]:
    """The canonical items of `items`, in order, sanitized."""
    return [
        sanitize_rollout_item(item)
        for item in items
        if is_persisted_rollout_item(item, history_mode)
    ]


def _middle_truncate(text: str, limit: int) -> str:
    if len(text.encode()) <= limit:
        return text
    marker = "\n…\n"
    budget = limit - len(marker.encode())
    head, tail = [], []
    used = 0
    # Take characters alternately from both ends until the byte budget is spent.
    i, j = 0, len(text) - 1
    take_head = True
    while i <= j:
        ch = text[i] if take_head else text[j]
        size = len(ch.encode())
        if used + size > budget:
            break
        used += size
        if take_head:
            head.append(ch)
            i += 1
        else:
            tail.append(ch)
            j -= 1
        take_head = not take_head
    return "".join(head) + marker + "".join(reversed(tail))
