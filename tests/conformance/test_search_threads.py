"""search_threads: every word, case-insensitively, over metadata and message text."""

from __future__ import annotations

from typing import Any

import pytest

from builders import (
    agent_message,
    append,
    at,
    new_thread,
    patch,
    read,
    set_times,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    DeleteThreadParams,
    InvalidRequest,
    SearchThreadsParams,
    SessionSource,
    SortDirection,
    ThreadSearchPage,
    ThreadSortKey,
    ThreadStore,
)


async def make(store: ThreadStore, n: int, **create_fields: Any) -> str:
    """Thread `tid(n)` updated at `at(n)` and created at `at(-n)`."""
    thread_id = await new_thread(store, tid(n), **create_fields)
    await set_times(store, thread_id, created=at(-n), updated=at(n))
    return thread_id


async def search(store: ThreadStore, term: str, **params: Any) -> ThreadSearchPage:
    return await store.search_threads(SearchThreadsParams(search_term=term, **params))


def ids(page: ThreadSearchPage) -> list[str]:
    return [r.thread.thread_id for r in page.items]


async def _seed(store: ThreadStore) -> None:
    await make(store, 1)
    await patch(store, tid(1), name="Quokka migration plan")
    await make(store, 2)
    await patch(store, tid(2), preview="about the quokka")
    await make(store, 3)
    await patch(store, tid(3), first_user_message="where do quokkas live?")
    await make(store, 4)
    await append(store, tid(4), user_message("tell me about a quokka"))
    await make(store, 5)
    await append(store, tid(5), user_message("hi"), agent_message("a Quokka is a marsupial"))
    await make(store, 6)
    await patch(store, tid(6), name="wombats only", preview="no match here")
    await append(store, tid(6), user_message("wombat facts"))


async def test_matches_metadata_and_message_text(store: ThreadStore) -> None:
    await _seed(store)

    page = await search(store, "quokka")

    assert ids(page) == [tid(5), tid(4), tid(3), tid(2), tid(1)]
    assert page.next_cursor is None


async def test_snippet_contains_the_matched_word(store: ThreadStore) -> None:
    await _seed(store)

    page = await search(store, "quokka")

    assert page.items  # there is something to check
    for result in page.items:
        assert "quokka" in result.snippet.casefold(), result.thread.thread_id


async def test_snippet_of_a_long_message_keeps_the_match(store: ThreadStore) -> None:
    await make(store, 1)
    text = "filler words " * 60 + "the hidden platypus appears here " + "tail " * 60
    await append(store, tid(1), user_message(text))

    (result,) = (await search(store, "platypus")).items

    assert "platypus" in result.snippet
    assert len(result.snippet) < len(text)


async def test_search_is_case_insensitive(store: ThreadStore) -> None:
    await _seed(store)

    assert ids(await search(store, "QUOKKA")) == [tid(5), tid(4), tid(3), tid(2), tid(1)]
    assert ids(await search(store, "MarSuPiaL")) == [tid(5)]


async def test_every_word_must_occur(store: ThreadStore) -> None:
    await _seed(store)

    assert ids(await search(store, "quokka marsupial")) == [tid(5)]
    assert ids(await search(store, "quokka wombat")) == []


async def test_words_may_match_metadata_and_history_together(store: ThreadStore) -> None:
    await make(store, 1)
    await patch(store, tid(1), name="kestrel")
    await append(store, tid(1), agent_message("osprey"))
    await make(store, 2)
    await patch(store, tid(2), name="kestrel")

    assert ids(await search(store, "osprey kestrel")) == [tid(1)]


async def test_no_match_is_an_empty_page(store: ThreadStore) -> None:
    await _seed(store)

    page = await search(store, "axolotl")

    assert page.items == []
    assert page.next_cursor is None


async def test_result_thread_is_the_thread_summary(store: ThreadStore) -> None:
    await _seed(store)

    (result,) = (await search(store, "marsupial")).items

    assert result.thread == await read(store, tid(5))
    assert result.thread.history is None


async def test_archived_threads_are_searched_only_on_request(store: ThreadStore) -> None:
    await _seed(store)
    await shut_and_archive(store, tid(2))
    await shut_and_archive(store, tid(4))

    assert ids(await search(store, "quokka")) == [tid(5), tid(3), tid(1)]
    assert ids(await search(store, "quokka", archived=True)) == [tid(4), tid(2)]


async def test_allowed_sources_filter_results(store: ThreadStore) -> None:
    await make(store, 1, source=SessionSource.exec())
    await patch(store, tid(1), name="shared topic")
    await make(store, 2)
    await patch(store, tid(2), name="shared topic")

    exec_only = await search(store, "topic", allowed_sources=[SessionSource.exec()])

    assert ids(exec_only) == [tid(1)]
    assert ids(await search(store, "topic")) == [tid(2), tid(1)]


async def test_deleted_threads_are_not_found(store: ThreadStore) -> None:
    await _seed(store)
    await store.shutdown_thread(tid(5))

    await store.delete_thread(DeleteThreadParams(thread_id=tid(5)))

    assert ids(await search(store, "marsupial")) == []


async def test_sort_key_and_direction(store: ThreadStore) -> None:
    await _seed(store)

    page = await search(
        store, "quokka", sort_key=ThreadSortKey.CREATED_AT, sort_direction=SortDirection.ASC
    )

    assert ids(page) == [tid(5), tid(4), tid(3), tid(2), tid(1)]
    updated_asc = await search(store, "quokka", sort_direction=SortDirection.ASC)
    assert ids(updated_asc) == [tid(1), tid(2), tid(3), tid(4), tid(5)]


async def test_paging_walks_every_result_once(store: ThreadStore) -> None:
    await _seed(store)

    for page_size in (1, 2, 3, 5):
        pages: list[list[str]] = []
        cursor: str | None = None
        while True:
            page = await search(store, "quokka", page_size=page_size, cursor=cursor)
            pages.append(ids(page))
            cursor = page.next_cursor
            if cursor is None or len(pages) > 10:
                break

        assert [i for p in pages for i in p] == [tid(5), tid(4), tid(3), tid(2), tid(1)]
        assert all(len(p) == page_size for p in pages[:-1]), page_size
        assert 1 <= len(pages[-1]) <= page_size


async def test_foreign_or_garbage_cursor_is_invalid(store: ThreadStore) -> None:
    await _seed(store)
    with pytest.raises(InvalidRequest):
        await search(store, "quokka", cursor="not-a-cursor")
    first = await search(store, "quokka", page_size=2)
    assert first.next_cursor is not None

    with pytest.raises(InvalidRequest):
        await search(
            store,
            "quokka",
            page_size=2,
            cursor=first.next_cursor,
            sort_key=ThreadSortKey.CREATED_AT,
        )
    with pytest.raises(InvalidRequest):
        await search(
            store,
            "quokka",
            page_size=2,
            cursor=first.next_cursor,
            sort_direction=SortDirection.ASC,
        )
