"""Small factories for params, rollout items and common store set-ups.

The conformance suite builds everything through these helpers so a test only
spells out the fields it is about. Only the public package root is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    RolloutItem,
    SessionSource,
    StoredThread,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    ThreadStore,
    UpdateThreadMetadataParams,
)

MAX_ITEM_BYTES = 1024 * 1024
"""The `max_item_bytes` every backend in the conformance table is built with."""

DEFAULT_CWD = "/work/repo"
DEFAULT_PROVIDER = "openai"
DEFAULT_ORIGINATOR = "conformance_suite"

BASE_TIME = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
"""A fixed past instant; `at(n)` is `n` seconds after it (millisecond precise)."""

FUTURE_TIME = datetime(2100, 1, 1, 0, 0, 0, tzinfo=UTC)
"""Far ahead of any wall clock, so `advance_recency_at` values based on it always win."""


# -- ids and times -------------------------------------------------------------------
def tid(n: int) -> str:
    """A fixed, canonical thread id; `tid(1) < tid(2) < ...` as strings."""
    return f"00000000-0000-7000-8000-{n:012x}"


def at(seconds: float) -> datetime:
    return BASE_TIME + timedelta(seconds=seconds)


def future(seconds: float) -> datetime:
    return FUTURE_TIME + timedelta(seconds=seconds)


def ms_floor(value: datetime) -> datetime:
    """`value` cut to whole milliseconds (stores keep millisecond precision)."""
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def now() -> datetime:
    return datetime.now(UTC)


# -- params --------------------------------------------------------------------------
def create_params(
    thread_id: str | None = None,
    *,
    cwd: str | None = DEFAULT_CWD,
    model_provider: str = DEFAULT_PROVIDER,
    memory_mode: str = "enabled",
    source: SessionSource | None = None,
    originator: str = DEFAULT_ORIGINATOR,
    **fields: Any,
) -> CreateThreadParams:
    """`CreateThreadParams` with suite defaults; any other field goes through `fields`."""
    if thread_id is not None:
        fields["thread_id"] = thread_id
    return CreateThreadParams(
        source=source if source is not None else SessionSource.cli(),
        originator=originator,
        metadata=ThreadPersistenceMetadata(
            cwd=cwd, model_provider=model_provider, memory_mode=memory_mode
        ),
        **fields,
    )


# -- rollout items -------------------------------------------------------------------
def event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


def user_message(text: str, *, images: Sequence[str] | None = None) -> RolloutItem:
    return event(
        "user_message",
        message=text,
        images=None if images is None else list(images),
        local_images=[],
        text_elements=[],
    )


def agent_message(text: str) -> RolloutItem:
    return event("agent_message", message=text)


def task_started(turn_id: str, *, started_at: int | None = None) -> RolloutItem:
    fields: dict[str, Any] = {"turn_id": turn_id, "model_context_window": None}
    if started_at is not None:
        fields["started_at"] = started_at
    return event("task_started", **fields)


def task_complete(
    turn_id: str, *, last_agent_message: str | None = None, error: Any = None
) -> RolloutItem:
    fields: dict[str, Any] = {"turn_id": turn_id, "last_agent_message": last_agent_message}
    if error is not None:
        fields["error"] = error
    return event("task_complete", **fields)


def turn_aborted(turn_id: str, reason: str = "interrupted") -> RolloutItem:
    return event("turn_aborted", turn_id=turn_id, reason=reason)


def token_count(total_tokens: int) -> RolloutItem:
    usage = {
        "input_tokens": total_tokens // 2,
        "cached_input_tokens": 0,
        "output_tokens": total_tokens - total_tokens // 2,
        "reasoning_output_tokens": 0,
        "total_tokens": total_tokens,
    }
    return event("token_count", info={"total_token_usage": usage}, rate_limits=None)


def exec_command_begin(call_id: str = "call-1") -> RolloutItem:
    """An event the persistence policy always drops."""
    return event("exec_command_begin", call_id=call_id, command=["ls"], cwd=DEFAULT_CWD)


def exec_command_end(
    call_id: str = "call-1",
    *,
    stdout: str = "out",
    stderr: str = "err",
    aggregated_output: str = "out err",
    formatted_output: str = "out err",
) -> RolloutItem:
    return event(
        "exec_command_end",
        call_id=call_id,
        stdout=stdout,
        stderr=stderr,
        aggregated_output=aggregated_output,
        formatted_output=formatted_output,
        exit_code=0,
    )


def core_item(item_type: str, text: str) -> dict[str, Any]:
    """A core turn item as Codex 0.169+ writes it in `item_completed`: `UserMessage`,
    `AgentMessage`, `Plan`, `Reasoning` or `CommandExecution` (running `text`, exit 0)."""
    item: dict[str, Any] = {"type": item_type, "id": f"item-{text}"}
    if item_type == "UserMessage":
        item["content"] = [{"type": "text", "text": text, "text_elements": []}]
    elif item_type == "AgentMessage":
        item["content"] = [{"type": "Text", "text": text}]
    elif item_type == "Plan":
        item["text"] = text
    elif item_type == "Reasoning":
        item["summary_text"] = [text]
    elif item_type == "CommandExecution":
        item.update(
            command=["/bin/bash", "-lc", text],
            cwd=f"file://{DEFAULT_CWD}",
            parsed_cmd=[{"type": "unknown", "cmd": text}],
            source="agent",
            status="completed",
            aggregated_output="",
            exit_code=0,
            duration={"secs": 0, "nanos": 5_000_000},
        )
    else:
        item["content"] = [{"type": "Text", "text": text}]
    return item


def item_completed(
    item_type: str, text: str, *, turn_id: str = "turn-1", thread_id: str | None = None
) -> RolloutItem:
    """A 0.169-style `item_completed` event (kept in paginated history; in legacy
    history only for plan items)."""
    return event(
        "item_completed",
        thread_id=thread_id or tid(1),
        turn_id=turn_id,
        item=core_item(item_type, text),
    )


def response_message(role: str, text: str) -> RolloutItem:
    part = "output_text" if role == "assistant" else "input_text"
    return RolloutItem.response_item(
        {"type": "message", "role": role, "content": [{"type": part, "text": text}]}
    )


def response_item(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.response_item({"type": kind, **fields})


def turn_context(*, turn_id: str = "turn-1", model: str = "gpt-5") -> RolloutItem:
    return RolloutItem.turn_context(
        {
            "turn_id": turn_id,
            "cwd": DEFAULT_CWD,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "read-only"},
            "model": model,
            "effort": "high",
            "summary": "auto",
        }
    )


def compacted(message: str = "summary of earlier turns") -> RolloutItem:
    return RolloutItem.compacted({"message": message, "replacement_history": []})


# -- store helpers -------------------------------------------------------------------
async def new_thread(
    store: ThreadStore,
    thread_id: str | None = None,
    *,
    persist: bool = True,
    **create_fields: Any,
) -> str:
    """Create a live thread (persisted unless `persist=False`) and return its id."""
    params = create_params(thread_id, **create_fields)
    await store.create_thread(params)
    if persist:
        await store.persist_thread(params.thread_id)
    return params.thread_id


async def append(store: ThreadStore, thread_id: str, *items: RolloutItem) -> None:
    """Append `items` and flush, so they are readable."""
    await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=list(items)))
    await store.flush_thread(thread_id)


async def history(
    store: ThreadStore, thread_id: str, *, include_archived: bool = False
) -> list[RolloutItem]:
    loaded = await store.load_history(
        LoadThreadHistoryParams(thread_id=thread_id, include_archived=include_archived)
    )
    return loaded.items


async def read(
    store: ThreadStore,
    thread_id: str,
    *,
    include_archived: bool = False,
    include_history: bool = False,
) -> StoredThread:
    return await store.read_thread(
        ReadThreadParams(
            thread_id=thread_id,
            include_archived=include_archived,
            include_history=include_history,
        )
    )


async def patch(
    store: ThreadStore, thread_id: str, *, include_archived: bool = False, **fields: Any
) -> StoredThread:
    """Apply `ThreadMetadataPatch(**fields)` and return the updated thread."""
    return await store.update_thread_metadata(
        UpdateThreadMetadataParams(
            thread_id=thread_id,
            patch=ThreadMetadataPatch(**fields),
            include_archived=include_archived,
        )
    )


async def set_times(
    store: ThreadStore,
    thread_id: str,
    *,
    created: datetime | None = None,
    updated: datetime | None = None,
    recency: datetime | None = None,
) -> StoredThread:
    """Pin a thread's timestamps explicitly (recency only moves forward: use `future`)."""
    return await patch(
        store, thread_id, created_at=created, updated_at=updated, advance_recency_at=recency
    )


async def archive(store: ThreadStore, thread_id: str) -> None:
    await store.archive_thread(ArchiveThreadParams(thread_id=thread_id))


async def shut_and_archive(store: ThreadStore, thread_id: str) -> None:
    """Close the live writer, then archive (archiving never races a live writer)."""
    await store.shutdown_thread(thread_id)
    await archive(store, thread_id)


async def list_ids(store: ThreadStore, **params: Any) -> list[str]:
    """Ids of one page of `list_threads(ListThreadsParams(**params))`."""
    page = await store.list_threads(ListThreadsParams(**params))
    return [t.thread_id for t in page.items]


async def walk_thread_pages(
    store: ThreadStore, *, cursor: str | None = None, **params: Any
) -> list[list[str]]:
    """Every page of a listing from `cursor` on, following `next_cursor` until it is None."""
    pages: list[list[str]] = []
    while True:
        page = await store.list_threads(ListThreadsParams(cursor=cursor, **params))
        pages.append([t.thread_id for t in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        if len(pages) > 100:
            raise AssertionError("listing did not terminate")


def five_turns() -> list[RolloutItem]:
    """A history body with one turn of each status, in order:

    t1 completed, t2 interrupted (aborted), t3 failed ("boom"),
    t4 interrupted (superseded by t5), t5 in progress.
    """
    return [
        task_started("t1"),
        turn_context(turn_id="t1"),
        user_message("q1"),
        agent_message("a1"),
        task_complete("t1", last_agent_message="a1"),
        task_started("t2"),
        user_message("q2"),
        turn_aborted("t2"),
        task_started("t3"),
        user_message("q3"),
        task_complete("t3", error={"message": "boom"}),
        task_started("t4"),
        user_message("q4"),
        task_started("t5"),
        user_message("q5"),
        agent_message("a5"),
    ]


FIVE_TURN_IDS = ["t1", "t2", "t3", "t4", "t5"]
FIVE_TURN_SPANS = {"t1": (1, 6), "t2": (6, 9), "t3": (9, 12), "t4": (12, 14), "t5": (14, 17)}
"""Each turn's [start, end) history positions once `five_turns()` follows session_meta."""
