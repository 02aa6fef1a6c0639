"""list_threads ordering and keyset paging: every sort key in both directions, ties
broken by thread id in the same direction, and cursors bound to key and direction."""

from __future__ import annotations

import pytest

from builders import (
    at,
    future,
    list_ids,
    new_thread,
    set_times,
    tid,
    walk_thread_pages,
)
from codex_thread_store import (
    DeleteThreadParams,
    InvalidRequest,
    ListThreadsParams,
    SortDirection,
    ThreadSortKey,
    ThreadStore,
)

# Five threads with ties on every key; n -> (created, updated, recency).
TIMES = {
    1: (at(10), at(300), future(5)),
    2: (at(20), at(100), future(5)),
    3: (at(20), at(300), future(1)),
    4: (at(30), at(200), future(9)),
    5: (at(10), at(100), future(1)),
}

ASCENDING = {
    ThreadSortKey.CREATED_AT: [tid(n) for n in (1, 5, 2, 3, 4)],
    ThreadSortKey.UPDATED_AT: [tid(n) for n in (2, 5, 4, 1, 3)],
    ThreadSortKey.RECENCY_AT: [tid(n) for n in (3, 5, 1, 2, 4)],
}


def expected(key: ThreadSortKey, direction: SortDirection) -> list[str]:
    ids = ASCENDING[key]
    return list(ids) if direction is SortDirection.ASC else list(reversed(ids))


async def seed(store: ThreadStore) -> None:
    for n in (3, 1, 5, 2, 4):
        await new_thread(store, tid(n))
        created, updated, recency = TIMES[n]
        await set_times(store, tid(n), created=created, updated=updated, recency=recency)


KEYS = pytest.mark.parametrize("key", list(ThreadSortKey), ids=[k.value for k in ThreadSortKey])
DIRECTIONS = pytest.mark.parametrize(
    "direction", list(SortDirection), ids=[d.value for d in SortDirection]
)


@KEYS
@DIRECTIONS
async def test_order_and_page_walks(
    store: ThreadStore, key: ThreadSortKey, direction: SortDirection
) -> None:
    await seed(store)

    full = await store.list_threads(ListThreadsParams(sort_key=key, sort_direction=direction))
    assert [t.thread_id for t in full.items] == expected(key, direction)
    assert full.next_cursor is None

    for page_size in (1, 2, 3):
        pages = await walk_thread_pages(
            store, sort_key=key, sort_direction=direction, page_size=page_size
        )
        flat = [thread_id for page in pages for thread_id in page]
        assert flat == expected(key, direction), page_size
        assert len(set(flat)) == len(flat)
        assert all(len(page) == page_size for page in pages[:-1]), page_size
        assert 1 <= len(pages[-1]) <= page_size


async def test_default_sort_is_created_at_descending(store: ThreadStore) -> None:
    await seed(store)

    assert await list_ids(store) == expected(ThreadSortKey.CREATED_AT, SortDirection.DESC)


async def test_exactly_full_last_page_has_no_next_cursor(store: ThreadStore) -> None:
    await seed(store)

    first = await store.list_threads(ListThreadsParams(page_size=5))
    assert len(first.items) == 5
    assert first.next_cursor is None

    pages = await walk_thread_pages(store, page_size=5)
    assert len(pages) == 1


async def test_non_last_page_has_a_next_cursor(store: ThreadStore) -> None:
    await seed(store)

    page = await store.list_threads(ListThreadsParams(page_size=4))

    assert len(page.items) == 4
    assert page.next_cursor is not None
    last = await store.list_threads(ListThreadsParams(page_size=4, cursor=page.next_cursor))
    assert [t.thread_id for t in last.items] == [tid(1)]
    assert last.next_cursor is None


async def test_patched_timestamps_are_returned_as_set(store: ThreadStore) -> None:
    await seed(store)

    page = await store.list_threads(ListThreadsParams(sort_direction=SortDirection.ASC))

    by_id = {t.thread_id: t for t in page.items}
    for n, (created, updated, recency) in TIMES.items():
        thread = by_id[tid(n)]
        assert (thread.created_at, thread.updated_at, thread.recency_at) == (
            created,
            updated,
            recency,
        )


# -- cursor validation ---------------------------------------------------------------
async def _first_cursor(store: ThreadStore) -> str:
    page = await store.list_threads(ListThreadsParams(page_size=2))
    assert page.next_cursor is not None
    return page.next_cursor


async def test_cursor_with_another_sort_key_is_invalid(store: ThreadStore) -> None:
    await seed(store)
    cursor = await _first_cursor(store)

    for key in (ThreadSortKey.UPDATED_AT, ThreadSortKey.RECENCY_AT):
        with pytest.raises(InvalidRequest):
            await store.list_threads(ListThreadsParams(page_size=2, cursor=cursor, sort_key=key))


async def test_cursor_with_another_direction_is_invalid(store: ThreadStore) -> None:
    await seed(store)
    cursor = await _first_cursor(store)

    with pytest.raises(InvalidRequest):
        await store.list_threads(
            ListThreadsParams(page_size=2, cursor=cursor, sort_direction=SortDirection.ASC)
        )


async def test_garbage_cursor_is_invalid(store: ThreadStore) -> None:
    await seed(store)

    for garbage in ("not-a-cursor", "%%%", "{}"):
        with pytest.raises(InvalidRequest):
            await store.list_threads(ListThreadsParams(cursor=garbage))


async def test_cursor_is_reusable(store: ThreadStore) -> None:
    await seed(store)
    cursor = await _first_cursor(store)

    again = [
        await list_ids(store, page_size=2, cursor=cursor),
        await list_ids(store, page_size=2, cursor=cursor),
    ]

    assert again[0] == again[1] == [tid(2), tid(5)]


# -- keyset stability ----------------------------------------------------------------
async def test_thread_inserted_before_the_cursor_does_not_shift_later_pages(
    store: ThreadStore,
) -> None:
    await seed(store)
    first = await store.list_threads(ListThreadsParams(page_size=2))
    assert [t.thread_id for t in first.items] == [tid(4), tid(3)]

    await new_thread(store, tid(6))
    await set_times(store, tid(6), created=at(40))

    rest = await walk_thread_pages(store, page_size=2, cursor=first.next_cursor)
    assert [i for page in rest for i in page] == [tid(2), tid(5), tid(1)]


async def test_thread_inserted_after_the_cursor_appears_in_later_pages(
    store: ThreadStore,
) -> None:
    await seed(store)
    first = await store.list_threads(ListThreadsParams(page_size=2))

    await new_thread(store, tid(7))
    await set_times(store, tid(7), created=at(15))

    rest = await walk_thread_pages(store, page_size=2, cursor=first.next_cursor)
    assert [i for page in rest for i in page] == [tid(2), tid(7), tid(5), tid(1)]


async def test_cursor_survives_deleting_its_anchor_thread(store: ThreadStore) -> None:
    await seed(store)
    first = await store.list_threads(ListThreadsParams(page_size=2))
    await store.shutdown_thread(tid(3))

    await store.delete_thread(DeleteThreadParams(thread_id=tid(3)))

    rest = await walk_thread_pages(store, page_size=2, cursor=first.next_cursor)
    assert [i for page in rest for i in page] == [tid(2), tid(5), tid(1)]
