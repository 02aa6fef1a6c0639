"""`StoredThread` ↔ `threads` row, and rollout item ↔ `thread_items` row.

Timestamps are kept as `timestamptz`; every value the store writes is already cut
to milliseconds, so what comes back compares equal to what went in, and keyset
cursors (which carry Unix milliseconds) convert back exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from psycopg.types.json import Jsonb

from ..memory.listing import metadata_texts
from ..patch import TokenUsage
from ..protocol.messages import message_texts
from ..protocol.rollout import RolloutItem
from ..protocol.session_meta import GitInfo
from ..protocol.sources import SessionSource
from ..timeutil import truncate_ms
from ..types import StoredThread

__all__ = [
    "ITEM_COLUMNS",
    "THREAD_COLUMNS",
    "decode_item",
    "item_row",
    "meta_search",
    "search_text",
    "thread_from_row",
    "thread_values",
]

# Order matters: `thread_from_row` reads rows selected with exactly these columns.
THREAD_COLUMNS: tuple[str, ...] = (
    "thread_id",
    "session_id",
    "rollout_path",
    "forked_from_id",
    "parent_thread_id",
    "preview",
    "name",
    "title",
    "model_provider",
    "model",
    "reasoning_effort",
    "created_at",
    "updated_at",
    "recency_at",
    "archived_at",
    "cwd",
    "cli_version",
    "source",
    "history_mode",
    "thread_source",
    "originator",
    "agent_nickname",
    "agent_role",
    "agent_path",
    "git_info",
    "approval_mode",
    "permission_profile",
    "token_usage",
    "first_user_message",
    "memory_mode",
)

# Written beside the StoredThread fields; derived, never read back into a thread.
DERIVED_COLUMNS: tuple[str, ...] = ("source_kind", "meta_search")

ITEM_COLUMNS: tuple[str, ...] = (
    "owner",
    "thread_id",
    "seq",
    "kind",
    "payload_type",
    "created_at",
    "payload",
    "search_text",
)

_JSON_COLUMNS = frozenset({"git_info", "approval_mode", "permission_profile", "token_usage"})


def meta_search(thread: StoredThread) -> str:
    """The case-folded text `search_term` matches: name, preview, first user message.

    Python's `casefold` (not SQL `lower`) so every store folds the same way.
    """
    return "\n".join(metadata_texts(thread)).casefold()


def _json(value: Any) -> Jsonb | None:
    if value is None:
        return None
    return Jsonb(msgspec.to_builtins(value))


def thread_values(thread: StoredThread) -> dict[str, Any]:
    """Column → value for every column of `THREAD_COLUMNS` and `DERIVED_COLUMNS`."""
    values: dict[str, Any] = {}
    for name in THREAD_COLUMNS:
        # The `session_id` column keeps the session the thread belongs to (its root's).
        attribute = "root_session_id" if name == "session_id" else name
        value = getattr(thread, attribute)
        if name == "source":
            value = thread.source.to_db_text()
        elif name in _JSON_COLUMNS:
            value = _json(value)
        elif isinstance(value, datetime):
            value = truncate_ms(value)
        values[name] = value
    values["source_kind"] = thread.source.kind
    values["meta_search"] = meta_search(thread)
    return values


def thread_from_row(row: Sequence[Any]) -> StoredThread:
    fields = dict(zip(THREAD_COLUMNS, row, strict=True))
    fields["root_session_id"] = fields["session_id"]
    fields["session_id"] = fields["thread_id"]
    fields["source"] = SessionSource.from_db_text(fields["source"])
    git = fields["git_info"]
    fields["git_info"] = None if git is None else msgspec.convert(git, GitInfo)
    usage = fields["token_usage"]
    fields["token_usage"] = None if usage is None else msgspec.convert(usage, TokenUsage)
    for name in ("created_at", "updated_at", "recency_at", "archived_at"):
        if fields[name] is not None:
            fields[name] = truncate_ms(fields[name])
    return StoredThread(**fields)


def search_text(item: RolloutItem) -> str | None:
    """The case-folded message text `search_threads` matches in this item, if any."""
    texts = message_texts([item])
    return "\n".join(texts).casefold() if texts else None


def item_row(
    owner: str, thread_id: str, seq: int, item: RolloutItem, payload: bytes, created_at: datetime
) -> tuple[Any, ...]:
    """Values for `ITEM_COLUMNS`; `payload` is `item.encode()` (computed once by the caller)."""
    return (
        owner,
        thread_id,
        seq,
        item.type,
        item.payload_type,
        created_at,
        payload,
        search_text(item),
    )


def decode_item(payload: bytes) -> RolloutItem:
    return RolloutItem.from_json(msgspec.json.decode(payload))
