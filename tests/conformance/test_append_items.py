"""append_items: raw items in, policy-filtered history out; never any metadata."""

from __future__ import annotations

import pytest

from builders import (
    MAX_ITEM_BYTES,
    agent_message,
    append,
    compacted,
    event,
    exec_command_begin,
    history,
    item_completed,
    new_thread,
    read,
    response_item,
    response_message,
    task_started,
    tid,
    token_count,
    turn_context,
    user_message,
)
from codex_thread_store import (
    AppendThreadItemsParams,
    ResourceExhausted,
    RolloutItem,
    ThreadNotFound,
    ThreadStore,
)


def _params(thread_id: str, *items: RolloutItem) -> AppendThreadItemsParams:
    return AppendThreadItemsParams(thread_id=thread_id, items=list(items))


async def test_items_are_appended_in_order_after_session_meta(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    first = [user_message("one"), agent_message("two")]
    second = [user_message("three"), token_count(10), agent_message("four")]

    await store.append_items(_params(tid(1), *first))
    await store.append_items(_params(tid(1), *second))
    await store.flush_thread(tid(1))

    items = await history(store, tid(1))
    assert items[0].type == "session_meta"
    assert items[0].payload["id"] == tid(1)
    assert items[1:] == first + second


async def test_policy_drops_transient_items_and_keeps_the_rest_in_order(
    store: ThreadStore,
) -> None:
    await new_thread(store, tid(1))
    kept = [
        turn_context(),
        response_message("user", "hi"),
        user_message("hi"),
        compacted(),
        response_item("function_call", name="shell", arguments="{}", call_id="c1"),
        token_count(5),
        event("thread_name_updated", thread_id=tid(1), thread_name="A sharper name"),
        event("image_generation_end", call_id="img-1"),
    ]
    dropped = [
        exec_command_begin(),
        event("agent_message_delta", delta="h"),
        response_item("ghost_snapshot"),
        event("mcp_startup_complete"),
        item_completed("AgentMessage", "transient"),
    ]

    await append(store, tid(1), dropped[0], kept[0], kept[1], dropped[1], kept[2], dropped[2])
    await append(store, tid(1), kept[3], dropped[3], kept[4], dropped[4], kept[5], *kept[6:])

    assert (await history(store, tid(1)))[1:] == kept


async def test_items_of_unknown_kinds_are_kept(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    future_item = RolloutItem("future_kind", {"anything": [1, 2, 3]})

    await append(store, tid(1), future_item)

    assert (await history(store, tid(1)))[1:] == [future_item]


async def test_exec_command_end_is_kept_sanitized(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    big = "x" * 30_000
    raw = event(
        "exec_command_end",
        call_id="c1",
        stdout="secret",
        stderr="noise",
        formatted_output="pretty",
        aggregated_output=big,
        exit_code=3,
    )

    await append(store, tid(1), raw)

    (stored,) = (await history(store, tid(1)))[1:]
    assert stored.payload["type"] == "exec_command_end"
    assert stored.payload["stdout"] == ""
    assert stored.payload["stderr"] == ""
    assert stored.payload["formatted_output"] == ""
    assert len(stored.payload["aggregated_output"].encode()) <= 10_000
    assert stored.payload["aggregated_output"].startswith("xxx")
    assert stored.payload["call_id"] == "c1"
    assert stored.payload["exit_code"] == 3


async def test_fully_dropped_append_is_a_noop_without_any_writer(store: ThreadStore) -> None:
    await store.append_items(_params(tid(1), exec_command_begin()))
    await store.append_items(_params(tid(1)))  # nothing at all

    with pytest.raises(ThreadNotFound):
        await history(store, tid(1))


async def test_fully_dropped_append_is_a_noop_on_a_closed_thread(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))

    await store.append_items(_params(tid(1), exec_command_begin(), event("turn_diff")))

    assert [i.type for i in await history(store, tid(1))] == ["session_meta"]


async def test_oversized_dropped_item_is_still_a_noop(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    huge = event("exec_command_output_delta", chunk="y" * (MAX_ITEM_BYTES + 10))

    await append(store, tid(1), huge)

    assert [i.type for i in await history(store, tid(1))] == ["session_meta"]


async def test_append_to_an_unknown_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await store.append_items(_params(tid(1), user_message("hello")))


async def test_append_after_shutdown_or_discard_is_not_found(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await new_thread(store, tid(2))
    await store.shutdown_thread(tid(1))
    await store.discard_thread(tid(2))

    for thread_id in (tid(1), tid(2)):
        with pytest.raises(ThreadNotFound):
            await store.append_items(_params(thread_id, user_message("late")))
        assert [i.type for i in await history(store, thread_id)] == ["session_meta"]


async def test_oversized_item_is_resource_exhausted_and_nothing_is_stored(
    store: ThreadStore,
) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("kept"))

    with pytest.raises(ResourceExhausted):
        await store.append_items(
            _params(
                tid(1),
                user_message("small before"),
                user_message("z" * (MAX_ITEM_BYTES + 1)),
                agent_message("small after"),
            )
        )
    await store.flush_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("kept")]


async def test_thread_accepts_appends_after_a_rejected_oversized_item(
    store: ThreadStore,
) -> None:
    await new_thread(store, tid(1))
    with pytest.raises(ResourceExhausted):
        await store.append_items(_params(tid(1), agent_message("z" * (MAX_ITEM_BYTES * 2))))

    await append(store, tid(1), agent_message("fine"))

    assert (await history(store, tid(1)))[1:] == [agent_message("fine")]


async def test_item_just_under_the_limit_is_accepted(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    large = user_message("q" * (MAX_ITEM_BYTES - 1024))
    assert len(large.encode()) <= MAX_ITEM_BYTES

    await append(store, tid(1), large)

    assert (await history(store, tid(1)))[1:] == [large]


async def test_append_never_writes_metadata(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    before = await read(store, tid(1))

    await append(
        store,
        tid(1),
        task_started("turn-1"),
        turn_context(model="gpt-9"),
        user_message("derive nothing from me"),
        token_count(99),
        agent_message("nor me"),
    )

    assert await read(store, tid(1)) == before


async def test_appended_session_meta_does_not_change_history_mode(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    copied = RolloutItem(
        "session_meta",
        {
            "id": tid(9),
            "timestamp": "2025-01-03T12:00:00.000Z",
            "cwd": "/elsewhere",
            "originator": "x",
            "cli_version": "0.0.0",
            "source": "cli",
            "model_provider": "openai",
            "base_instructions": None,
            "history_mode": "paginated",
        },
    )

    await append(store, tid(1), copied, item_completed("AgentMessage", "legacy drops me"))

    assert (await history(store, tid(1)))[1:] == [copied]
    assert (await read(store, tid(1))).history_mode == "legacy"


async def test_legacy_thread_keeps_plan_item_completed(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    plan = item_completed("Plan", "step 1")

    await append(store, tid(1), plan, item_completed("CommandExecution", "ls"))

    assert (await history(store, tid(1)))[1:] == [plan]


async def test_appends_to_one_thread_do_not_leak_into_another(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await new_thread(store, tid(2))

    await append(store, tid(1), user_message("for one"))
    await append(store, tid(2), user_message("for two"))

    assert (await history(store, tid(1)))[1:] == [user_message("for one")]
    assert (await history(store, tid(2)))[1:] == [user_message("for two")]
