"""Forks by reference (`fork_point` + `CreateThreadParams.history_base`): a paginated fork
that starts from its source's history without copying it, as Codex 0.169+ forks. Stores
that cannot reference history raise `Unsupported` for both."""

from __future__ import annotations

import pytest

from builders import (
    append,
    create_params,
    history,
    item_completed,
    new_thread,
    task_complete,
    task_started,
    tid,
)
from codex_thread_store import (
    Conflict,
    DeleteThreadParams,
    ForkPointParams,
    HistoryBase,
    InvalidRequest,
    ListTurnsParams,
    ThreadStore,
    TurnItemsView,
    Unsupported,
)


def turn(turn_id: str, question: str, answer: str, thread_id: str) -> list[object]:
    return [
        task_started(turn_id),
        item_completed("UserMessage", question, turn_id=turn_id, thread_id=thread_id),
        item_completed("AgentMessage", answer, turn_id=turn_id, thread_id=thread_id),
        task_complete(turn_id),
    ]


async def source_thread(store: ThreadStore) -> str:
    await new_thread(store, tid(1), history_mode="paginated")
    await append(store, tid(1), *turn("t1", "q1", "a1", tid(1)))  # type: ignore[arg-type]
    return tid(1)


async def turn_ids(store: ThreadStore, thread_id: str) -> list[str]:
    page = await store.list_turns(
        ListTurnsParams(thread_id=thread_id, items_view=TurnItemsView.FULL, page_size=100)
    )
    return [t.id for t in page.turns]


async def test_a_fork_by_reference_reads_its_source_then_its_own_turns(
    store: ThreadStore, backend: object
) -> None:
    await source_thread(store)
    if "fork_point" not in backend.capabilities:  # type: ignore[attr-defined]
        with pytest.raises(Unsupported):
            await store.fork_point(ForkPointParams(thread_id=tid(1)))
        return
    base = await store.fork_point(ForkPointParams(thread_id=tid(1)))
    assert base.thread_id == tid(1)
    assert base.end_ordinal_exclusive == 5  # session_meta + four lines

    await store.create_thread(create_params(tid(2), forked_from_id=tid(1), history_base=base))
    await store.persist_thread(tid(2))
    await append(store, tid(2), *turn("t2", "q2", "a2", tid(2)))  # type: ignore[arg-type]
    # The source goes on; the fork does not see what comes after its base.
    await append(store, tid(1), *turn("t3", "q3", "a3", tid(1)))  # type: ignore[arg-type]

    assert await turn_ids(store, tid(2)) == ["t1", "t2"]
    assert await turn_ids(store, tid(1)) == ["t1", "t3"]
    own = await history(store, tid(2))
    assert own[0].payload["id"] == tid(2)  # its own identity comes first
    assert own[0].payload["history_base"] == {
        "thread_id": tid(1),
        "end_ordinal_exclusive": 5,
        "end_byte_offset": base.end_byte_offset,
    }
    assert [
        i.payload.get("item", {}).get("id") for i in own if i.payload_type == "item_completed"
    ] == [
        "item-q1",
        "item-a1",
        "item-q2",
        "item-a2",
    ]


async def test_a_referenced_source_cannot_be_deleted(store: ThreadStore, backend: object) -> None:
    await source_thread(store)
    if "fork_point" not in backend.capabilities:  # type: ignore[attr-defined]
        # Nothing can reference the source, so it deletes as any thread does.
        await store.shutdown_thread(tid(1))
        await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))
        return
    base = await store.fork_point(ForkPointParams(thread_id=tid(1)))
    await store.create_thread(create_params(tid(2), forked_from_id=tid(1), history_base=base))
    await store.persist_thread(tid(2))
    await store.shutdown_thread(tid(1))
    await store.shutdown_thread(tid(2))

    with pytest.raises(Conflict, match="still references it"):
        await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))


async def test_a_base_that_is_not_a_line_boundary_is_refused(
    store: ThreadStore, backend: object
) -> None:
    await source_thread(store)
    if "fork_point" not in backend.capabilities:  # type: ignore[attr-defined]
        base = HistoryBase(thread_id=tid(1), end_ordinal_exclusive=5, end_byte_offset=100)
        with pytest.raises(Unsupported):
            await store.create_thread(
                create_params(tid(2), forked_from_id=tid(1), history_base=base)
            )
        return
    good = await store.fork_point(ForkPointParams(thread_id=tid(1)))
    for bad in (
        HistoryBase(
            thread_id=tid(1), end_ordinal_exclusive=5, end_byte_offset=good.end_byte_offset - 1
        ),
        HistoryBase(
            thread_id=tid(1), end_ordinal_exclusive=4, end_byte_offset=good.end_byte_offset
        ),
        HistoryBase(
            thread_id=tid(1), end_ordinal_exclusive=5, end_byte_offset=good.end_byte_offset + 1
        ),
        HistoryBase(
            thread_id=tid(9), end_ordinal_exclusive=5, end_byte_offset=good.end_byte_offset
        ),
    ):
        with pytest.raises(InvalidRequest):
            await store.create_thread(
                create_params(tid(2), forked_from_id=tid(1), history_base=bad)
            )


async def test_legacy_threads_are_not_forked_by_reference(store: ThreadStore) -> None:
    await new_thread(store, tid(1), history_mode="legacy")

    with pytest.raises(Unsupported):
        await store.fork_point(ForkPointParams(thread_id=tid(1)))


def test_history_base_needs_a_paginated_fork() -> None:
    base = HistoryBase(thread_id=tid(1), end_ordinal_exclusive=5, end_byte_offset=100)
    with pytest.raises(InvalidRequest):
        create_params(tid(2), history_base=base)  # no forked_from_id
    with pytest.raises(InvalidRequest):
        create_params(tid(2), forked_from_id=tid(1), history_base=base, history_mode="legacy")
    with pytest.raises(InvalidRequest):
        HistoryBase(thread_id=tid(1), end_ordinal_exclusive=0, end_byte_offset=100)
