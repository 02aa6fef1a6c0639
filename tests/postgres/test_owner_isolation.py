"""Two owners in one database never see each other's threads.

Each owner's operations are mirrored into an `InMemoryThreadStore` (the reference
store), and every listing and search, under every filter, must return exactly what
the reference returns for that owner alone. The owners deliberately share thread ids,
names, cwds, providers and search words, so any missing `owner` predicate shows up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from builders import (
    agent_message,
    append,
    at,
    create_params,
    patch,
    set_times,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    DeleteThreadParams,
    InMemoryThreadStore,
    InvalidRequest,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    SessionSource,
    SortDirection,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadRelationFilter,
    ThreadSortKey,
    ThreadStore,
    UpdateThreadMetadataParams,
)
from codex_thread_store.postgres import PostgresThreadStore

from .helpers import StoreMaker

ALICE_ONLY = [tid(n) for n in (1, 2, 3, 4)]
SHARED_IDS = [tid(n) for n in (5, 6, 7, 8)]
BOB_ONLY = [tid(n) for n in (9, 10)]


async def _seed(store: ThreadStore, who: str, ids: list[str]) -> None:
    """The same shapes for both owners, so every filter has something to find."""
    for n, thread_id in enumerate(ids):
        source = [
            SessionSource.cli(),
            SessionSource.exec(),
            SessionSource.vscode(),
            SessionSource.subagent("review"),
        ][n % 4]
        parent = ids[0] if n in (1, 2) else None
        if n == 3:
            parent = ids[1]  # a grandchild of ids[0]
        await store.create_thread(
            create_params(
                thread_id,
                cwd=f"/repo/{n % 2}",
                model_provider=["openai", "acme"][n % 2],
                source=source,
                parent_thread_id=parent,
            )
        )
        await store.persist_thread(thread_id)
        await append(
            store,
            thread_id,
            user_message(f"shared words 100% c++ (x) {who} q_{n}"),
            agent_message(f"answer for {who} number {n}"),
        )
        await patch(store, thread_id, name=f"shared {who} thread {n}", preview=f"preview {n}")
        await set_times(store, thread_id, created=at(n), updated=at(10 - n))
        if n == len(ids) - 1:
            await shut_and_archive(store, thread_id)


LISTINGS: list[dict[str, Any]] = [
    {},
    {"archived": True},
    {"allowed_sources": [SessionSource.exec()]},
    {"source_kinds": ["subAgent"]},
    {"source_kinds": ["cli", "vscode"]},
    {"model_providers": ["acme"]},
    {"cwd_filters": ["/repo/0"]},
    {"cwd_filters": []},
    {"search_term": "shared"},
    {"search_term": "SHARED thread 1"},
    {"search_term": "%"},
    {"search_term": "_"},
    {"search_term": ".*"},
    {"search_term": "alice"},
    {"search_term": "bob"},
    {"relation_filter": ThreadRelationFilter.direct_children_of(tid(1))},
    {"relation_filter": ThreadRelationFilter.descendants_of(tid(1))},
    {"relation_filter": ThreadRelationFilter.descendants_of(tid(5))},
    {"relation_filter": ThreadRelationFilter.direct_children_of(tid(9))},
    {"sort_key": ThreadSortKey.UPDATED_AT, "sort_direction": SortDirection.ASC},
    {"sort_key": ThreadSortKey.RECENCY_AT},
]

SEARCHES = ["shared", "100%", "c++", "(x)", "q_1", "alice", "bob", "answer number", "%", "_"]


@pytest.fixture
async def pair(
    make_store: StoreMaker, owner: str
) -> tuple[dict[str, PostgresThreadStore], dict[str, Any]]:
    stores = {"alice": make_store(owner=f"alice-{owner}"), "bob": make_store(owner=f"bob-{owner}")}
    models = {"alice": InMemoryThreadStore(), "bob": InMemoryThreadStore()}
    for who, ids in (("alice", ALICE_ONLY + SHARED_IDS), ("bob", SHARED_IDS + BOB_ONLY)):
        await _seed(stores[who], who, ids)
        await _seed(models[who], who, ids)
    return stores, models


async def _walk(store: ThreadStore, **params: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await store.list_threads(ListThreadsParams(page_size=3, cursor=cursor, **params))
        ids += [t.thread_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return ids


@pytest.mark.parametrize("params", LISTINGS, ids=[str(sorted(p)) for p in LISTINGS])
async def test_every_listing_sees_only_its_owners_threads(
    pair: tuple[dict[str, PostgresThreadStore], dict[str, Any]], params: dict[str, Any]
) -> None:
    stores, models = pair
    for who in ("alice", "bob"):
        assert await _walk(stores[who], **params) == await _walk(models[who], **params), who


async def test_every_search_sees_only_its_owners_threads(
    pair: tuple[dict[str, PostgresThreadStore], dict[str, Any]],
) -> None:
    stores, models = pair
    for who in ("alice", "bob"):
        for term in SEARCHES:
            for archived in (False, True):
                params = SearchThreadsParams(search_term=term, archived=archived, page_size=100)
                got = await stores[who].search_threads(params)
                want = await models[who].search_threads(params)
                assert [(r.thread.thread_id, r.snippet) for r in got.items] == [
                    (r.thread.thread_id, r.snippet) for r in want.items
                ], (who, term, archived)


async def test_shared_ids_are_separate_threads(
    pair: tuple[dict[str, PostgresThreadStore], dict[str, Any]],
) -> None:
    stores, _ = pair
    for thread_id in SHARED_IDS:
        alice = await stores["alice"].read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=True, include_history=True)
        )
        bob = await stores["bob"].read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=True, include_history=True)
        )
        assert alice.name is not None and "alice" in alice.name
        assert bob.name is not None and "bob" in bob.name
        assert alice.history is not None and bob.history is not None
        assert alice.history.items[1] != bob.history.items[1]

    await stores["alice"].delete_thread(DeleteThreadParams(thread_id=SHARED_IDS[0]))
    assert (await stores["bob"].read_thread(ReadThreadParams(thread_id=SHARED_IDS[0]))).name


Op = Callable[[ThreadStore, str], Awaitable[object]]

OPS: dict[str, Op] = {
    "read": lambda s, t: s.read_thread(ReadThreadParams(thread_id=t, include_archived=True)),
    "load_history": lambda s, t: s.load_history(
        LoadThreadHistoryParams(thread_id=t, include_archived=True)
    ),
    "list_turns": lambda s, t: s.list_turns(ListTurnsParams(thread_id=t, include_archived=True)),
    "list_items": lambda s, t: s.list_items(ListItemsParams(thread_id=t, include_archived=True)),
    "update": lambda s, t: s.update_thread_metadata(
        UpdateThreadMetadataParams(
            thread_id=t, patch=ThreadMetadataPatch(name="hijack"), include_archived=True
        )
    ),
    "archive": lambda s, t: s.archive_thread(ArchiveThreadParams(thread_id=t)),
    "unarchive": lambda s, t: s.unarchive_thread(ArchiveThreadParams(thread_id=t)),
    "delete": lambda s, t: s.delete_thread(DeleteThreadParams(thread_id=t)),
    "resume": lambda s, t: s.resume_thread(ResumeThreadParams(thread_id=t, include_archived=True)),
    "append": lambda s, t: s.append_items(
        AppendThreadItemsParams(thread_id=t, items=[user_message("intrusion")])
    ),
}


@pytest.mark.parametrize("op", list(OPS))
async def test_another_owners_thread_looks_exactly_like_a_missing_one(
    make_store: StoreMaker, owner: str, op: str
) -> None:
    alice, bob = make_store(owner=f"alice-{owner}"), make_store(owner=f"bob-{owner}")
    await alice.create_thread(create_params(tid(1)))
    await append(alice, tid(1), user_message("private"))
    await alice.shutdown_thread(tid(1))

    with pytest.raises(ThreadNotFound) as theirs:
        await OPS[op](bob, tid(1))
    with pytest.raises(ThreadNotFound) as missing:
        await OPS[op](bob, tid(2))

    assert str(theirs.value).replace(tid(1), "ID") == str(missing.value).replace(tid(2), "ID")
    thread = await alice.read_thread(ReadThreadParams(thread_id=tid(1), include_history=True))
    assert thread.name is None and not thread.is_archived
    assert thread.history is not None and thread.history.items[1:] == [user_message("private")]


async def test_a_cursor_only_works_for_its_owner(
    pair: tuple[dict[str, PostgresThreadStore], dict[str, Any]],
) -> None:
    stores, _ = pair
    page = await stores["alice"].list_threads(ListThreadsParams(page_size=2))
    assert page.next_cursor is not None

    with pytest.raises(InvalidRequest, match="cursor"):
        await stores["bob"].list_threads(ListThreadsParams(page_size=2, cursor=page.next_cursor))


async def test_a_child_never_links_across_owners(make_store: StoreMaker, owner: str) -> None:
    alice, bob = make_store(owner=f"alice-{owner}"), make_store(owner=f"bob-{owner}")
    await alice.create_thread(create_params(tid(1)))
    await alice.persist_thread(tid(1))
    # Bob names Alice's thread as his thread's parent: it only links within Bob's rows.
    await bob.create_thread(create_params(tid(2), parent_thread_id=tid(1)))
    await bob.persist_thread(tid(2))

    relation = ThreadRelationFilter.descendants_of(tid(1))
    alice_page = await alice.list_threads(ListThreadsParams(relation_filter=relation))
    bob_page = await bob.list_threads(ListThreadsParams(relation_filter=relation))

    assert alice_page.items == []
    assert [t.thread_id for t in bob_page.items] == [tid(2)]
