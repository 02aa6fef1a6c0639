"""persist / flush / shutdown / discard: the live writer's lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from builders import (
    agent_message,
    append,
    create_params,
    history,
    list_ids,
    new_thread,
    read,
    tid,
    user_message,
)
from codex_thread_store import (
    AppendThreadItemsParams,
    ResumeThreadParams,
    ThreadNotFound,
    ThreadStore,
)

WriterOp = Callable[[ThreadStore, str], Awaitable[None]]

WRITER_OPS: dict[str, WriterOp] = {
    "persist": lambda store, thread_id: store.persist_thread(thread_id),
    "flush": lambda store, thread_id: store.flush_thread(thread_id),
    "shutdown": lambda store, thread_id: store.shutdown_thread(thread_id),
}


async def assert_every_writer_op_is_not_found(store: ThreadStore, thread_id: str) -> None:
    for name, op in WRITER_OPS.items():
        try:
            await op(store, thread_id)
        except ThreadNotFound:
            continue
        pytest.fail(f"{name} succeeded without a live writer")


async def test_writer_ops_on_an_unknown_thread_are_not_found(store: ThreadStore) -> None:
    await assert_every_writer_op_is_not_found(store, tid(1))


async def test_writer_ops_after_shutdown_are_not_found(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))

    await assert_every_writer_op_is_not_found(store, tid(1))


async def test_writer_ops_after_discard_are_not_found(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.discard_thread(tid(1))

    await assert_every_writer_op_is_not_found(store, tid(1))


async def test_flush_makes_appended_items_visible(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("a"), agent_message("b")])
    )

    await store.flush_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("a"), agent_message("b")]


async def test_persist_and_flush_are_repeatable(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.persist_thread(tid(1))
    await store.flush_thread(tid(1))
    await store.flush_thread(tid(1))
    await append(store, tid(1), user_message("still live"))

    assert (await history(store, tid(1)))[1:] == [user_message("still live")]


async def test_shutdown_makes_pending_items_durable(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("unflushed")])
    )

    await store.shutdown_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("unflushed")]


async def test_shutdown_of_an_unpersisted_thread_keeps_it(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await append(store, tid(1), user_message("hello"))

    await store.shutdown_thread(tid(1))
    await store.discard_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("hello")]
    assert (await read(store, tid(1))).thread_id == tid(1)


async def test_discard_is_idempotent(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    await store.discard_thread(tid(1))
    await store.discard_thread(tid(1))
    await store.discard_thread(tid(2))  # never existed: still fine

    assert (await read(store, tid(1))).thread_id == tid(1)


async def test_discard_of_a_never_persisted_thread_removes_it(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("ephemeral")])
    )

    await store.discard_thread(tid(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    with pytest.raises(ThreadNotFound):
        await history(store, tid(1))
    assert await list_ids(store) == []


async def test_discard_of_a_just_created_thread_removes_it(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)

    await store.discard_thread(tid(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    assert await list_ids(store) == []


async def test_discarded_unpersisted_id_can_be_created_again(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False, model_provider="first")
    await store.discard_thread(tid(1))

    await store.create_thread(create_params(tid(1), model_provider="second"))

    items = await history(store, tid(1))
    assert [i.type for i in items] == ["session_meta"]
    assert items[0].payload["model_provider"] == "second"


async def test_discard_of_a_persisted_thread_keeps_durable_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("durable")])
    )
    await store.persist_thread(tid(1))

    await store.discard_thread(tid(1))

    items = await history(store, tid(1))
    assert items[0].payload["id"] == tid(1)
    assert items[1:] == [user_message("durable")]
    assert await list_ids(store) == [tid(1)]


async def test_discard_keeps_durable_prefix_for_resume(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("first"))
    await store.discard_thread(tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await append(store, tid(1), agent_message("second"))

    assert (await history(store, tid(1)))[1:] == [user_message("first"), agent_message("second")]


async def test_discard_of_a_resumed_thread_keeps_it(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))
    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    await store.discard_thread(tid(1))

    assert [i.type for i in await history(store, tid(1))] == ["session_meta"]


async def test_discard_of_a_closed_thread_keeps_it(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("kept")])
    )
    await store.shutdown_thread(tid(1))  # shutdown makes pending items durable

    await store.discard_thread(tid(1))

    assert (await read(store, tid(1))).thread_id == tid(1)
    assert (await history(store, tid(1)))[1:] == [user_message("kept")]


async def test_shutdown_of_an_empty_unpersisted_thread_leaves_nothing(store: ThreadStore) -> None:
    # Codex's lazy rollout: a thread created and closed with nothing in it writes no file.
    await new_thread(store, tid(1), persist=False)
    await store.shutdown_thread(tid(1))

    with pytest.raises(ThreadNotFound):
        await read(store, tid(1))
    await new_thread(store, tid(1))  # the id is free again


async def test_flush_with_items_materializes_a_lazy_thread(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("durable")])
    )
    await store.flush_thread(tid(1))

    await store.discard_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == [user_message("durable")]


async def test_discard_only_touches_its_own_thread(store: ThreadStore) -> None:
    await new_thread(store, tid(1), persist=False)
    await new_thread(store, tid(2), persist=False)

    await store.discard_thread(tid(1))
    await append(store, tid(2), user_message("unaffected"))

    assert (await history(store, tid(2)))[1:] == [user_message("unaffected")]
