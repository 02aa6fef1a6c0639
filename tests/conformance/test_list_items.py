"""list_items: a thread's typed items (or one turn's) with their turn and position, paged
both ways."""

from __future__ import annotations

from typing import Any

import pytest

from builders import (
    agent_message,
    append,
    five_turns,
    ms_floor,
    new_thread,
    now,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    AgentMessageItem,
    InvalidRequest,
    ItemPage,
    ListItemsParams,
    SortDirection,
    ThreadNotFound,
    ThreadStore,
    UserMessageItem,
)

ASC = SortDirection.ASC
DESC = SortDirection.DESC

# The message items of `five_turns()`, in order, with their turns.
TEXTS = ["q1", "a1", "q2", "q3", "q4", "q5", "a5"]
OWNERS = ["t1", "t1", "t2", "t3", "t4", "t5", "t5"]
COUNT = len(TEXTS)


async def seeded(store: ThreadStore, n: int = 1) -> str:
    thread_id = await new_thread(store, tid(n))
    await append(store, thread_id, *five_turns())
    return thread_id


async def items(store: ThreadStore, thread_id: str, **params: Any) -> ItemPage:
    return await store.list_items(ListItemsParams(thread_id=thread_id, **params))


def ordinals(page: ItemPage) -> list[int]:
    return [i.item_ordinal for i in page.items]


def texts(page: ItemPage) -> list[str]:
    out = []
    for stored in page.items:
        item = stored.item
        if isinstance(item, UserMessageItem):
            out.append(" ".join(getattr(p, "text", "") for p in item.content))
        elif isinstance(item, AgentMessageItem):
            out.append(item.text)
        else:
            out.append(f"<{type(item).__name__}>")
    return out


async def test_whole_thread_items_in_order(store: ThreadStore) -> None:
    await seeded(store)

    page = await items(store, tid(1))

    assert texts(page) == TEXTS
    assert [i.item.id for i in page.items] == [f"item-{n}" for n in range(1, COUNT + 1)]
    assert ordinals(page) == list(range(COUNT))
    assert page.next_cursor is None
    assert page.backwards_cursor is None


async def test_items_name_their_turn(store: ThreadStore) -> None:
    await seeded(store)

    page = await items(store, tid(1))

    assert [i.turn_id for i in page.items] == OWNERS


async def test_item_keys_are_unique_and_stable_across_listings(store: ThreadStore) -> None:
    await seeded(store)

    whole = {i.item_ordinal: i.item_key for i in (await items(store, tid(1))).items}
    turn = await items(store, tid(1), turn_id="t5")

    assert len(set(whole.values())) == COUNT
    assert len(turn.items) == 2
    assert [i.item_key for i in turn.items] == [whole[o] for o in ordinals(turn)]


async def test_items_of_one_turn(store: ThreadStore) -> None:
    await seeded(store)

    pages = {t: await items(store, tid(1), turn_id=t) for t in dict.fromkeys(OWNERS)}

    assert {t: texts(p) for t, p in pages.items()} == {
        "t1": ["q1", "a1"],
        "t2": ["q2"],
        "t3": ["q3"],
        "t4": ["q4"],
        "t5": ["q5", "a5"],
    }
    assert all({i.turn_id for i in p.items} == {t} for t, p in pages.items())


async def test_unknown_turn_gives_an_empty_page(store: ThreadStore) -> None:
    await seeded(store)

    page = await items(store, tid(1), turn_id="no-such-turn")

    assert page.items == []
    assert page.next_cursor is None


async def test_new_items_come_last(store: ThreadStore) -> None:
    await seeded(store)

    await append(store, tid(1), user_message("more"), agent_message("again"))

    page = await items(store, tid(1), page_size=COUNT + 5)
    assert texts(page)[-2:] == ["more", "again"]
    assert ordinals(page) == sorted(ordinals(page))
    assert [i.turn_id for i in page.items[-2:]] == ["t5", "t5"]


@pytest.mark.parametrize("direction", [ASC, DESC], ids=["asc", "desc"])
async def test_walking_every_page(store: ThreadStore, direction: SortDirection) -> None:
    await seeded(store)
    expected = TEXTS if direction is ASC else list(reversed(TEXTS))

    assert texts(await items(store, tid(1), sort_direction=direction)) == expected
    for page_size in (1, 2, 6, 7):
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(20):
            page = await items(
                store, tid(1), page_size=page_size, sort_direction=direction, cursor=cursor
            )
            assert 1 <= len(page.items) <= page_size
            seen += texts(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected, page_size


async def test_cursors_of_a_middle_page(store: ThreadStore) -> None:
    await seeded(store)

    first = await items(store, tid(1), page_size=2)
    second = await items(store, tid(1), page_size=2, cursor=first.next_cursor)

    assert first.backwards_cursor is None
    assert texts(second) == ["q2", "q3"]
    assert second.next_cursor is not None
    assert second.backwards_cursor is not None


async def test_backwards_cursor_lists_items_before_the_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await items(store, tid(1), page_size=3)
    second = await items(store, tid(1), page_size=3, cursor=first.next_cursor)

    back = await items(
        store, tid(1), page_size=2, sort_direction=DESC, cursor=second.backwards_cursor
    )

    assert texts(back) == ["q2", "a1"]
    more = await items(store, tid(1), page_size=2, sort_direction=DESC, cursor=back.next_cursor)
    assert texts(more) == ["q1"]
    assert more.next_cursor is None


async def test_backwards_cursor_of_a_descending_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await items(store, tid(1), page_size=2, sort_direction=DESC)
    second = await items(store, tid(1), page_size=2, sort_direction=DESC, cursor=first.next_cursor)
    assert texts(second) == ["q4", "q3"]

    back = await items(
        store, tid(1), page_size=10, sort_direction=ASC, cursor=second.backwards_cursor
    )

    assert texts(back) == ["q5", "a5"]
    assert back.next_cursor is None


async def test_paging_within_one_turn(store: ThreadStore) -> None:
    await seeded(store)
    await append(store, tid(1), user_message("q5b"), agent_message("a5b"))

    first = await items(store, tid(1), turn_id="t5", page_size=2)
    second = await items(store, tid(1), turn_id="t5", page_size=2, cursor=first.next_cursor)
    back = await items(
        store,
        tid(1),
        turn_id="t5",
        page_size=5,
        sort_direction=DESC,
        cursor=second.backwards_cursor,
    )

    assert [texts(p) for p in (first, second)] == [["q5", "a5"], ["q5b", "a5b"]]
    assert second.next_cursor is None
    assert texts(back) == ["a5", "q5"]


async def test_foreign_or_garbage_cursor_is_invalid(store: ThreadStore) -> None:
    await seeded(store, 1)
    await seeded(store, 2)
    first = await items(store, tid(1), page_size=3)

    with pytest.raises(InvalidRequest):
        await items(store, tid(2), page_size=3, cursor=first.next_cursor)
    with pytest.raises(InvalidRequest):
        await items(store, tid(1), cursor="not-a-cursor")


async def test_cursor_from_another_turn_scope_is_invalid(store: ThreadStore) -> None:
    await seeded(store)
    whole = await items(store, tid(1), page_size=3)
    turn = await items(store, tid(1), turn_id="t1", page_size=1)

    with pytest.raises(InvalidRequest):
        await items(store, tid(1), turn_id="t1", page_size=3, cursor=whole.next_cursor)
    with pytest.raises(InvalidRequest):
        await items(store, tid(1), turn_id="t2", page_size=2, cursor=turn.next_cursor)


async def test_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await items(store, tid(1))


async def test_archived_thread_needs_include_archived(store: ThreadStore) -> None:
    await seeded(store)
    await shut_and_archive(store, tid(1))

    with pytest.raises(ThreadNotFound):
        await items(store, tid(1))

    assert texts(await items(store, tid(1), include_archived=True)) == TEXTS


async def test_paginated_item_times_are_their_completion_times(store: ThreadStore) -> None:
    """A paginated thread's items carry the times their `item_completed` recorded; an item
    without them falls back to when its line was written."""
    from builders import event, task_complete, task_started

    before = int(ms_floor(now()).timestamp() * 1000)
    await new_thread(store, tid(1), history_mode="paginated")
    await append(
        store,
        tid(1),
        task_started("p1"),
        event(
            "item_completed",
            thread_id=tid(1),
            turn_id="p1",
            item={"type": "UserMessage", "id": "u1", "content": [{"type": "text", "text": "hi"}]},
            started_at_ms=1_700_000_000_000,
            completed_at_ms=1_700_000_000_500,
        ),
        event(
            "item_completed",
            thread_id=tid(1),
            turn_id="p1",
            item={"type": "AgentMessage", "id": "a1", "content": [{"type": "Text", "text": "yo"}]},
        ),
        task_complete("p1"),
    )
    after = int(now().timestamp() * 1000) + 1

    page = await items(store, tid(1))

    assert [i.item.id for i in page.items] == ["u1", "a1"]
    assert page.items[0].item_created_at_ms == 1_700_000_000_000
    assert (page.items[0].item.started_at_ms, page.items[0].item.completed_at_ms) == (
        1_700_000_000_000,
        1_700_000_000_500,
    )
    assert before <= page.items[1].item_created_at_ms <= after
    assert (page.items[1].item.started_at_ms, page.items[1].item.completed_at_ms) == (None, None)
    assert ordinals(page) == [2, 3]  # the ordinals of their lines (session_meta is 0)
