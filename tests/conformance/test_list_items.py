"""list_items: a thread's items (or one turn's) with ordinals, paged both ways."""

from __future__ import annotations

from typing import Any

import pytest

from builders import (
    FIVE_TURN_SPANS,
    agent_message,
    append,
    five_turns,
    history,
    ms_floor,
    new_thread,
    now,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    InvalidRequest,
    ItemPage,
    ListItemsParams,
    SortDirection,
    ThreadNotFound,
    ThreadStore,
)

ASC = SortDirection.ASC
DESC = SortDirection.DESC
COUNT = 17  # session_meta + five_turns()

OWNERS: list[str | None] = [None]
for _turn, (_start, _end) in FIVE_TURN_SPANS.items():
    OWNERS += [_turn] * (_end - _start)


async def seeded(store: ThreadStore, n: int = 1) -> str:
    thread_id = await new_thread(store, tid(n))
    await append(store, thread_id, *five_turns())
    return thread_id


async def items(store: ThreadStore, thread_id: str, **params: Any) -> ItemPage:
    return await store.list_items(ListItemsParams(thread_id=thread_id, **params))


def ordinals(page: ItemPage) -> list[int]:
    return [i.item_ordinal for i in page.items]


async def test_whole_thread_items_in_replay_order(store: ThreadStore) -> None:
    await seeded(store)
    replay = await history(store, tid(1))

    page = await items(store, tid(1))

    assert ordinals(page) == list(range(COUNT))
    assert [i.item for i in page.items] == replay
    assert page.next_cursor is None
    assert page.backwards_cursor is None


async def test_items_name_their_turn(store: ThreadStore) -> None:
    await seeded(store)

    page = await items(store, tid(1))

    assert [i.turn_id for i in page.items] == OWNERS


async def test_item_keys_are_stable_across_listings(store: ThreadStore) -> None:
    await seeded(store)

    whole = {i.item_ordinal: i.item_key for i in (await items(store, tid(1))).items}
    turn = await items(store, tid(1), turn_id="t3")

    assert len(set(whole.values())) == COUNT

    assert [i.item_key for i in turn.items] == [whole[o] for o in ordinals(turn)]


async def test_item_times_are_write_times(store: ThreadStore) -> None:
    before = int(ms_floor(now()).timestamp() * 1000)
    await seeded(store)
    after = int(now().timestamp() * 1000) + 1

    times = [i.item_created_at_ms for i in (await items(store, tid(1))).items]

    assert all(before <= t <= after for t in times)
    assert times == sorted(times)


async def test_items_of_one_turn(store: ThreadStore) -> None:
    await seeded(store)
    replay = await history(store, tid(1))

    for turn_id, (start, end) in FIVE_TURN_SPANS.items():
        page = await items(store, tid(1), turn_id=turn_id)

        assert ordinals(page) == list(range(start, end)), turn_id
        assert [i.item for i in page.items] == replay[start:end], turn_id
        assert {i.turn_id for i in page.items} == {turn_id}


async def test_new_items_get_the_next_ordinals(store: ThreadStore) -> None:
    await seeded(store)

    await append(store, tid(1), user_message("more"), agent_message("again"))

    page = await items(store, tid(1), cursor=None, page_size=COUNT + 5)
    assert ordinals(page)[-2:] == [COUNT, COUNT + 1]
    assert [i.item for i in page.items[-2:]] == [user_message("more"), agent_message("again")]
    assert [i.turn_id for i in page.items[-2:]] == ["t5", "t5"]


@pytest.mark.parametrize("direction", [ASC, DESC], ids=["asc", "desc"])
async def test_walking_every_page(store: ThreadStore, direction: SortDirection) -> None:
    await seeded(store)
    expected = list(range(COUNT)) if direction is ASC else list(reversed(range(COUNT)))

    assert ordinals(await items(store, tid(1), sort_direction=direction)) == expected
    for page_size in (1, 5, 16, 17):
        seen: list[int] = []
        cursor: str | None = None
        for _ in range(40):
            page = await items(
                store, tid(1), page_size=page_size, sort_direction=direction, cursor=cursor
            )
            assert 1 <= len(page.items) <= page_size
            seen += ordinals(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected, page_size


async def test_cursors_of_a_middle_page(store: ThreadStore) -> None:
    await seeded(store)

    first = await items(store, tid(1), page_size=5)
    second = await items(store, tid(1), page_size=5, cursor=first.next_cursor)

    assert first.backwards_cursor is None
    assert ordinals(second) == [5, 6, 7, 8, 9]
    assert second.next_cursor is not None
    assert second.backwards_cursor is not None


async def test_backwards_cursor_lists_items_before_the_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await items(store, tid(1), page_size=5)
    second = await items(store, tid(1), page_size=5, cursor=first.next_cursor)

    back = await items(
        store, tid(1), page_size=3, sort_direction=DESC, cursor=second.backwards_cursor
    )

    assert ordinals(back) == [4, 3, 2]
    more = await items(store, tid(1), page_size=3, sort_direction=DESC, cursor=back.next_cursor)
    assert ordinals(more) == [1, 0]
    assert more.next_cursor is None


async def test_backwards_cursor_of_a_descending_page(store: ThreadStore) -> None:
    await seeded(store)
    first = await items(store, tid(1), page_size=4, sort_direction=DESC)
    second = await items(store, tid(1), page_size=4, sort_direction=DESC, cursor=first.next_cursor)
    assert ordinals(second) == [12, 11, 10, 9]

    back = await items(
        store, tid(1), page_size=10, sort_direction=ASC, cursor=second.backwards_cursor
    )

    assert ordinals(back) == [13, 14, 15, 16]
    assert back.next_cursor is None


async def test_paging_within_one_turn(store: ThreadStore) -> None:
    await seeded(store)

    first = await items(store, tid(1), turn_id="t1", page_size=2)
    second = await items(store, tid(1), turn_id="t1", page_size=2, cursor=first.next_cursor)
    third = await items(store, tid(1), turn_id="t1", page_size=2, cursor=second.next_cursor)
    back = await items(
        store, tid(1), turn_id="t1", page_size=5, sort_direction=DESC, cursor=third.backwards_cursor
    )

    assert [ordinals(p) for p in (first, second, third)] == [[1, 2], [3, 4], [5]]
    assert third.next_cursor is None
    assert ordinals(back) == [4, 3, 2, 1]


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
    turn = await items(store, tid(1), turn_id="t1", page_size=2)

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

    assert ordinals(await items(store, tid(1), include_archived=True)) == list(range(COUNT))
