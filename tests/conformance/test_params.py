"""Params validate themselves: a malformed id, page size or search term is an
InvalidRequest at construction, before any store sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    InvalidRequest,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    ThreadMetadataPatch,
    ThreadRelationFilter,
    ThreadStore,
    UpdateThreadMetadataParams,
)
from codex_thread_store.types import MAX_PAGE_SIZE, MAX_SEARCH_TERM_CHARS, MAX_SEARCH_WORDS

BAD_IDS = [
    "not-a-uuid",
    "",
    "00000000000070008000000000000001",
    "{00000000-0000-7000-8000-000000000001}",
    "urn:uuid:00000000-0000-7000-8000-000000000001",
    "00000000-0000-7000-8000-00000000000g",
]

ID_PARAMS: dict[str, Callable[[str], Any]] = {
    "create.thread_id": lambda bad: CreateThreadParams(thread_id=bad),
    "create.session_id": lambda bad: CreateThreadParams(session_id=bad),
    "create.parent_thread_id": lambda bad: CreateThreadParams(parent_thread_id=bad),
    "create.forked_from_id": lambda bad: CreateThreadParams(forked_from_id=bad),
    "resume": lambda bad: ResumeThreadParams(thread_id=bad),
    "append": lambda bad: AppendThreadItemsParams(thread_id=bad, items=[]),
    "load_history": lambda bad: LoadThreadHistoryParams(thread_id=bad),
    "read": lambda bad: ReadThreadParams(thread_id=bad),
    "update": lambda bad: UpdateThreadMetadataParams(thread_id=bad, patch=ThreadMetadataPatch()),
    "archive": lambda bad: ArchiveThreadParams(thread_id=bad),
    "delete": lambda bad: DeleteThreadParams(thread_id=bad),
    "list_turns": lambda bad: ListTurnsParams(thread_id=bad),
    "list_items": lambda bad: ListItemsParams(thread_id=bad),
    "relation.direct": lambda bad: ThreadRelationFilter.direct_children_of(bad),
    "relation.descendants": lambda bad: ThreadRelationFilter.descendants_of(bad),
}


def test_malformed_thread_id_is_rejected_at_construction() -> None:
    for name, build in ID_PARAMS.items():
        build(tid(7))  # a canonical id is accepted...
        try:
            build("not-a-uuid")  # ...a malformed one is not
        except InvalidRequest:
            continue
        pytest.fail(f"{name} accepted a malformed thread id")


def test_non_canonical_id_forms_are_rejected() -> None:
    for bad in BAD_IDS:
        with pytest.raises(InvalidRequest):
            ReadThreadParams(thread_id=bad)
        with pytest.raises(InvalidRequest):
            CreateThreadParams(thread_id=bad)


PAGED: dict[str, Callable[[int], Any]] = {
    "list_threads": lambda size: ListThreadsParams(page_size=size),
    "search_threads": lambda size: SearchThreadsParams(search_term="x", page_size=size),
    "list_turns": lambda size: ListTurnsParams(thread_id=tid(1), page_size=size),
    "list_items": lambda size: ListItemsParams(thread_id=tid(1), page_size=size),
}


def test_page_size_below_one_is_rejected() -> None:
    for build in PAGED.values():
        for size in (0, -1):
            with pytest.raises(InvalidRequest):
                build(size)
        build(1)


def test_page_size_above_the_bound_is_rejected() -> None:
    for build in PAGED.values():
        for size in (MAX_PAGE_SIZE + 1, 2**70):
            with pytest.raises(InvalidRequest, match="page_size must be between"):
                build(size)
        build(MAX_PAGE_SIZE)


def test_search_terms_beyond_the_bounds_are_rejected() -> None:
    too_many = " ".join(f"w{n}" for n in range(MAX_SEARCH_WORDS + 1))
    too_long = "x" * (MAX_SEARCH_TERM_CHARS + 1)
    for term in (too_many, too_long):
        with pytest.raises(InvalidRequest, match="search_term"):
            SearchThreadsParams(search_term=term)
        with pytest.raises(InvalidRequest, match="search_term"):
            ListThreadsParams(search_term=term)
    SearchThreadsParams(search_term=" ".join(f"w{n}" for n in range(MAX_SEARCH_WORDS)))


def test_empty_search_term_is_rejected() -> None:
    for term in ("", "   ", "\t\n"):
        with pytest.raises(InvalidRequest):
            SearchThreadsParams(search_term=term)


def test_unknown_history_mode_is_rejected() -> None:
    with pytest.raises(InvalidRequest):
        CreateThreadParams(history_mode="segmented")


def test_unknown_source_kind_is_rejected() -> None:
    with pytest.raises(InvalidRequest):
        ListThreadsParams(source_kinds=["robot"])


async def test_append_of_a_non_item_is_rejected_and_stores_nothing(store: ThreadStore) -> None:
    await store.create_thread(CreateThreadParams(thread_id=tid(1)))
    await store.persist_thread(tid(1))
    with pytest.raises(InvalidRequest, match="RolloutItem"):
        await store.append_items(
            AppendThreadItemsParams(
                thread_id=tid(1),
                items=[user_message("ok"), {"type": "event_msg"}],  # type: ignore[list-item]
            )
        )
    await store.flush_thread(tid(1))
    history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
    assert [i.type for i in history.items] == ["session_meta"]
