"""history_mode="paginated" threads work through every operation of every store in
the table, and a history's mode is decided by its *first* session_meta."""

from __future__ import annotations

from builders import (
    append,
    history,
    item_completed,
    list_ids,
    new_thread,
    patch,
    read,
    task_complete,
    task_started,
    tid,
)
from codex_thread_store import (
    AgentMessageItem,
    CommandExecutionItem,
    ListItemsParams,
    ListTurnsParams,
    ResumeThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadStore,
    TurnItemsView,
    TurnStatus,
    UserMessageItem,
)

TURN = [
    task_started("p1"),
    item_completed("UserMessage", "paginated question", turn_id="p1"),
    item_completed("CommandExecution", "ls -la", turn_id="p1"),
    item_completed("AgentMessage", "paginated answer", turn_id="p1"),
    task_complete("p1", last_agent_message="paginated answer"),
]


async def paginated(store: ThreadStore, n: int = 1) -> str:
    return await new_thread(store, tid(n), history_mode="paginated")


async def test_read_with_history_and_load_history(store: ThreadStore) -> None:
    await paginated(store)
    await append(store, tid(1), *TURN)

    thread = await read(store, tid(1), include_history=True)
    loaded = await history(store, tid(1))

    assert thread.history_mode == "paginated"
    assert thread.history is not None
    assert thread.history.items == loaded
    assert loaded[0].payload["history_mode"] == "paginated"


async def test_every_item_completed_is_kept(store: ThreadStore) -> None:
    await paginated(store)

    await append(store, tid(1), *TURN)

    assert (await history(store, tid(1)))[1:] == TURN


async def test_resume_and_append(store: ThreadStore) -> None:
    await paginated(store)
    await append(store, tid(1), *TURN)
    await store.shutdown_thread(tid(1))
    loaded = await history(store, tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1), history=loaded))
    more = item_completed("UserMessage", "again", turn_id="p2")
    await append(store, tid(1), more)

    assert await history(store, tid(1)) == [*loaded, more]


async def test_turns_and_items(store: ThreadStore) -> None:
    await paginated(store)
    await append(store, tid(1), *TURN)

    turns = await store.list_turns(
        ListTurnsParams(thread_id=tid(1), items_view=TurnItemsView.SUMMARY)
    )
    items = await store.list_items(ListItemsParams(thread_id=tid(1), turn_id="p1"))

    (turn,) = turns.turns
    assert turn.id == "p1"
    assert turn.status == TurnStatus.COMPLETED
    assert [type(i) for i in turn.items] == [UserMessageItem, AgentMessageItem]
    assert [i.id for i in turn.items] == ["item-paginated question", "item-paginated answer"]
    assert [type(i.item) for i in items.items] == [
        UserMessageItem,
        CommandExecutionItem,
        AgentMessageItem,
    ]
    command = items.items[1].item
    assert isinstance(command, CommandExecutionItem)
    assert (command.command, command.cwd, command.exit_code, command.duration_ms) == (
        "/bin/bash -lc 'ls -la'",
        "/work/repo",
        0,
        5,
    )
    assert [i.item_ordinal for i in items.items] == [2, 3, 4]  # their lines' ordinals


async def test_search_finds_turn_item_text(store: ThreadStore) -> None:
    await paginated(store)
    await append(store, tid(1), *TURN)

    page = await store.search_threads(SearchThreadsParams(search_term="paginated answer"))

    assert [r.thread.thread_id for r in page.items] == [tid(1)]


async def test_listing_and_metadata_updates(store: ThreadStore) -> None:
    await paginated(store, 1)
    await new_thread(store, tid(2))

    updated = await patch(store, tid(1), name="paged", preview="p")

    assert updated.history_mode == "paginated"
    assert updated.name == "paged"
    assert sorted(await list_ids(store)) == [tid(1), tid(2)]


async def _resume_with_copied_meta(store: ThreadStore, copied_mode: str) -> None:
    """Resume tid(1) with its own history plus a fork-style copy of another thread's
    session_meta (other id, `copied_mode`) after it, then append two turn items."""
    await store.shutdown_thread(tid(1))
    own = await history(store, tid(1))
    copied = RolloutItem(
        "session_meta", {**own[0].payload, "id": tid(9), "history_mode": copied_mode}
    )
    await store.resume_thread(ResumeThreadParams(thread_id=tid(1), history=[*own, copied]))
    await append(store, tid(1), *TURN[1:3])


async def test_legacy_first_session_meta_wins(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    await _resume_with_copied_meta(store, "paginated")

    assert (await read(store, tid(1))).history_mode == "legacy"
    assert [i for i in await history(store, tid(1)) if i.payload_type == "item_completed"] == []


async def test_paginated_first_session_meta_wins(store: ThreadStore) -> None:
    await paginated(store)

    await _resume_with_copied_meta(store, "legacy")

    assert (await read(store, tid(1))).history_mode == "paginated"
    assert (await history(store, tid(1)))[-2:] == TURN[1:3]
