"""list_turns: Codex's typed turns (the app-server `Turn`), derived from start / complete /
abort events and the items between them, paged both ways."""

from __future__ import annotations

from typing import Any

import pytest

from builders import (
    FIVE_TURN_IDS,
    agent_message,
    append,
    event,
    five_turns,
    new_thread,
    shut_and_archive,
    task_complete,
    task_started,
    tid,
    user_message,
)
from codex_thread_store import (
    AgentMessageItem,
    InvalidRequest,
    ListTurnsParams,
    SortDirection,
    ThreadNotFound,
    ThreadStore,
    Turn,
    TurnError,
    TurnItemsView,
    TurnPage,
    TurnStatus,
    UserMessageItem,
)

ASC = SortDirection.ASC
DESC = SortDirection.DESC


async def seeded(store: ThreadStore, n: int = 1) -> str:
    thread_id = await new_thread(store, tid(n))
    await append(store, thread_id, *five_turns())
    return thread_id


async def turns(store: ThreadStore, thread_id: str, **params: Any) -> TurnPage:
    return await store.list_turns(ListTurnsParams(thread_id=thread_id, **params))


def turn_ids(page: TurnPage) -> list[str]:
    return [t.id for t in page.turns]


def messages(turn: Turn) -> list[tuple[str, str, str]]:
    """(type, id, text) of each message item of a turn."""
    out = []
    for item in turn.items:
        if isinstance(item, UserMessageItem):
            out.append(("user", item.id, " ".join(getattr(p, "text", "") for p in item.content)))
        elif isinstance(item, AgentMessageItem):
            out.append(("agent", item.id, item.text))
    return out


async def test_statuses_follow_the_turn_events(store: ThreadStore) -> None:
    await seeded(store)

    page = await turns(store, tid(1))

    assert turn_ids(page) == FIVE_TURN_IDS
    # The writer is still open, so the turns nothing closed are still in progress.
    assert [t.status for t in page.turns] == [
        TurnStatus.COMPLETED,
        TurnStatus.INTERRUPTED,
        TurnStatus.FAILED,
        TurnStatus.IN_PROGRESS,
        TurnStatus.IN_PROGRESS,
    ]
    assert page.next_cursor is None
    assert page.backwards_cursor is None


async def test_open_turns_read_as_interrupted_once_no_writer_runs_them(
    store: ThreadStore,
) -> None:
    await seeded(store)
    await store.shutdown_thread(tid(1))

    page = await turns(store, tid(1))

    assert [t.status for t in page.turns] == [
        TurnStatus.COMPLETED,
        TurnStatus.INTERRUPTED,
        TurnStatus.FAILED,
        TurnStatus.INTERRUPTED,
        TurnStatus.INTERRUPTED,
    ]


async def test_failed_turn_carries_the_error_apart_from_its_kind(store: ThreadStore) -> None:
    await seeded(store)
    await append(
        store,
        tid(1),
        task_started("t6"),
        task_complete(
            "t6",
            error={
                "message": "stream lost",
                "codex_error_info": {"response_stream_disconnected": {"http_status_code": 502}},
            },
        ),
    )

    page = await turns(store, tid(1))

    assert [t.error for t in page.turns] == [
        None,
        None,
        TurnError(message="boom"),
        None,
        None,
        TurnError(
            message="stream lost",
            codex_error_info={"responseStreamDisconnected": {"httpStatusCode": 502}},
            additional_details=None,
        ),
    ]
    assert page.turns[-1].status == TurnStatus.FAILED


async def test_completion_with_a_null_error_is_completed(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), task_started("x"), event("task_complete", turn_id="x", error=None))

    (turn,) = (await turns(store, tid(1))).turns

    assert turn.status == TurnStatus.COMPLETED
    assert turn.error is None


async def test_completing_the_open_turn_updates_its_status(store: ThreadStore) -> None:
    await seeded(store)

    await append(store, tid(1), task_complete("t5", last_agent_message="a5"))

    assert (await turns(store, tid(1))).turns[-1].status == TurnStatus.COMPLETED


async def test_full_view_returns_every_item_of_each_turn(store: ThreadStore) -> None:
    await seeded(store)
    await append(store, tid(1), user_message("q5b"), agent_message("a5b"))

    page = await turns(store, tid(1), items_view=TurnItemsView.FULL)

    assert len(page.turns) == 5  # something to check
    assert [messages(t) for t in page.turns] == [
        [("user", "item-1", "q1"), ("agent", "item-2", "a1")],
        [("user", "item-3", "q2")],
        [("user", "item-4", "q3")],
        [("user", "item-5", "q4")],
        [
            ("user", "item-6", "q5"),
            ("agent", "item-7", "a5"),
            ("user", "item-8", "q5b"),
            ("agent", "item-9", "a5b"),
        ],
    ]
    assert {t.items_view for t in page.turns} == {TurnItemsView.FULL}


async def test_summary_view_returns_the_first_question_and_the_last_answer(
    store: ThreadStore,
) -> None:
    await seeded(store)
    await append(store, tid(1), user_message("q5b"), agent_message("a5b"))

    page = await turns(store, tid(1), items_view=TurnItemsView.SUMMARY)

    assert [messages(t) for t in page.turns] == [
        [("user", "item-1", "q1"), ("agent", "item-2", "a1")],
        [("user", "item-3", "q2")],
        [("user", "item-4", "q3")],
        [("user", "item-5", "q4")],
        [("user", "item-6", "q5"), ("agent", "item-9", "a5b")],
    ]
    assert {t.items_view for t in page.turns} == {TurnItemsView.SUMMARY}
    assert await turns(store, tid(1)) == page  # summary is the default view


async def test_not_loaded_view_returns_no_items(store: ThreadStore) -> None:
    await seeded(store)

    page = await turns(store, tid(1), items_view=TurnItemsView.NOT_LOADED)

    assert turn_ids(page) == FIVE_TURN_IDS
    assert [t.items for t in page.turns] == [[]] * 5
    assert {t.items_view for t in page.turns} == {TurnItemsView.NOT_LOADED}


async def test_explicit_turn_times_are_reported(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(
        store,
        tid(1),
        task_started("x", started_at=1_700_000_000),
        user_message("q"),
        event(
            "task_complete",
            turn_id="x",
            last_agent_message=None,
            completed_at=1_700_000_042,
            duration_ms=42_000,
        ),
    )

    (turn,) = (await turns(store, tid(1))).turns

    assert turn.status == TurnStatus.COMPLETED
    assert (turn.started_at, turn.completed_at, turn.duration_ms) == (
        1_700_000_000,
        1_700_000_042,
        42_000,
    )


async def test_thread_without_turns_has_an_empty_page(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    page = await turns(store, tid(1))

    assert page.turns == []
    assert page.next_cursor is None
    assert page.backwards_cursor is None


async def test_ascending_pages_with_cursors(store: ThreadStore) -> None:
    await seeded(store)

    first = await turns(store, tid(1), page_size=2)
    second = await turns(store, tid(1), page_size=2, cursor=first.next_cursor)
    third = await turns(store, tid(1), page_size=2, cursor=second.next_cursor)

    assert [turn_ids(p) for p in (first, second, third)] == [["t1", "t2"], ["t3", "t4"], ["t5"]]
    assert first.backwards_cursor is None
    assert second.backwards_cursor is not None
    assert third.next_cursor is None


async def test_descending_pages_with_cursors(store: ThreadStore) -> None:
    await seeded(store)

    first = await turns(store, tid(1), page_size=2, sort_direction=DESC)
    second = await turns(store, tid(1), page_size=2, sort_direction=DESC, cursor=first.next_cursor)
    third = await turns(store, tid(1), page_size=2, sort_direction=DESC, cursor=second.next_cursor)

    assert [turn_ids(p) for p in (first, second, third)] == [["t5", "t4"], ["t3", "t2"], ["t1"]]
    assert first.backwards_cursor is None
    assert third.next_cursor is None


async def test_backwards_cursor_pages_before_an_ascending_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await turns(store, tid(1), page_size=2)
    second = await turns(store, tid(1), page_size=2, cursor=first.next_cursor)

    back = await turns(
        store, tid(1), page_size=2, sort_direction=DESC, cursor=second.backwards_cursor
    )

    assert turn_ids(back) == ["t2", "t1"]
    assert back.next_cursor is None


async def test_backwards_cursor_pages_before_a_descending_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await turns(store, tid(1), page_size=2, sort_direction=DESC)
    second = await turns(store, tid(1), page_size=2, sort_direction=DESC, cursor=first.next_cursor)

    back = await turns(
        store, tid(1), page_size=3, sort_direction=ASC, cursor=second.backwards_cursor
    )

    assert turn_ids(back) == ["t4", "t5"]
    assert back.next_cursor is None


@pytest.mark.parametrize("direction", [ASC, DESC], ids=["asc", "desc"])
async def test_walking_every_page(store: ThreadStore, direction: SortDirection) -> None:
    await seeded(store)
    expected = FIVE_TURN_IDS if direction is ASC else list(reversed(FIVE_TURN_IDS))

    assert turn_ids(await turns(store, tid(1), sort_direction=direction)) == expected
    for page_size in (1, 2, 3, 5):
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            page = await turns(
                store, tid(1), page_size=page_size, sort_direction=direction, cursor=cursor
            )
            assert 1 <= len(page.turns) <= page_size
            seen += turn_ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected, page_size


async def test_foreign_or_garbage_cursor_is_invalid(store: ThreadStore) -> None:
    await seeded(store, 1)
    await seeded(store, 2)
    first = await turns(store, tid(1), page_size=2)

    with pytest.raises(InvalidRequest):
        await turns(store, tid(2), page_size=2, cursor=first.next_cursor)
    with pytest.raises(InvalidRequest):
        await turns(store, tid(1), cursor="not-a-cursor")


async def test_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await turns(store, tid(1))


async def test_archived_thread_needs_include_archived(store: ThreadStore) -> None:
    await seeded(store)
    await shut_and_archive(store, tid(1))

    with pytest.raises(ThreadNotFound):
        await turns(store, tid(1))

    assert turn_ids(await turns(store, tid(1), include_archived=True)) == FIVE_TURN_IDS
