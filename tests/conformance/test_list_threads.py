"""list_threads filters: archived, sources, source kinds, providers, cwds, search
term and spawn relations. Paging and sorting are in test_list_threads_paging.py."""

from __future__ import annotations

from typing import Any

from builders import (
    at,
    list_ids,
    new_thread,
    patch,
    set_times,
    shut_and_archive,
    tid,
)
from codex_thread_store import (
    ListThreadsParams,
    SessionSource,
    ThreadRelationFilter,
    ThreadStore,
)


async def make(store: ThreadStore, n: int, **create_fields: Any) -> str:
    """Thread `tid(n)` created at `at(n)`, so the default listing is by descending n."""
    thread_id = await new_thread(store, tid(n), **create_fields)
    await set_times(store, thread_id, created=at(n))
    return thread_id


# -- archived ------------------------------------------------------------------------
async def test_default_lists_active_threads_newest_first(store: ThreadStore) -> None:
    for n in (2, 1, 3):
        await make(store, n)

    page = await store.list_threads(ListThreadsParams())

    assert [t.thread_id for t in page.items] == [tid(3), tid(2), tid(1)]
    assert page.next_cursor is None


async def test_empty_store_lists_nothing(store: ThreadStore) -> None:
    page = await store.list_threads(ListThreadsParams())

    assert page.items == []
    assert page.next_cursor is None


async def test_archived_threads_are_listed_instead_of_active_ones(store: ThreadStore) -> None:
    for n in (1, 2, 3, 4):
        await make(store, n)
    await shut_and_archive(store, tid(2))
    await shut_and_archive(store, tid(4))

    assert await list_ids(store) == [tid(3), tid(1)]
    assert await list_ids(store, archived=False) == [tid(3), tid(1)]
    archived = await store.list_threads(ListThreadsParams(archived=True))
    assert [t.thread_id for t in archived.items] == [tid(4), tid(2)]
    assert all(t.archived_at is not None for t in archived.items)


async def test_archived_listing_without_archived_threads_is_empty(store: ThreadStore) -> None:
    await make(store, 1)

    assert await list_ids(store, archived=True) == []


# -- sources -------------------------------------------------------------------------
SOURCES = {
    1: SessionSource.cli(),
    2: SessionSource.exec(),
    3: SessionSource.mcp(),
    4: SessionSource.thread_spawn(tid(90), agent_nickname="kid"),
    5: SessionSource.subagent("review"),
    6: SessionSource.vscode(),
}


async def _seed_sources(store: ThreadStore) -> None:
    for n, source in SOURCES.items():
        await make(store, n, source=source)


async def test_empty_allowed_sources_lists_every_source(store: ThreadStore) -> None:
    await _seed_sources(store)

    everything = [tid(n) for n in (6, 5, 4, 3, 2, 1)]
    assert await list_ids(store, allowed_sources=[]) == everything
    assert await list_ids(store, source_kinds=None) == everything


async def test_allowed_sources_keeps_only_those_sources(store: ThreadStore) -> None:
    await _seed_sources(store)

    assert await list_ids(store, allowed_sources=[SessionSource.cli()]) == [tid(1)]
    assert await list_ids(
        store, allowed_sources=[SessionSource.exec(), SessionSource.vscode()]
    ) == [tid(6), tid(2)]
    assert await list_ids(store, allowed_sources=[SOURCES[4]]) == [tid(4)]


async def test_sub_agent_kind_matches_every_subagent(store: ThreadStore) -> None:
    await _seed_sources(store)

    assert await list_ids(store, source_kinds=["subAgent"]) == [tid(5), tid(4)]


async def test_specific_source_kinds(store: ThreadStore) -> None:
    await _seed_sources(store)

    assert await list_ids(store, source_kinds=["subAgentThreadSpawn"]) == [tid(4)]
    assert await list_ids(store, source_kinds=["subAgentReview"]) == [tid(5)]
    assert await list_ids(store, source_kinds=["appServer"]) == [tid(3)]
    assert await list_ids(store, source_kinds=["cli", "exec"]) == [tid(2), tid(1)]


# -- providers and cwds --------------------------------------------------------------
async def _seed_providers(store: ThreadStore) -> None:
    await make(store, 1, model_provider="openai", cwd="/a")
    await make(store, 2, model_provider="acme", cwd="/b")
    await make(store, 3, model_provider="local", cwd="/a/sub")


async def test_unset_provider_and_cwd_filters_list_all(store: ThreadStore) -> None:
    await _seed_providers(store)

    assert await list_ids(store, model_providers=None) == [tid(3), tid(2), tid(1)]
    assert await list_ids(store, model_providers=[]) == [tid(3), tid(2), tid(1)]
    assert await list_ids(store, cwd_filters=None) == [tid(3), tid(2), tid(1)]


async def test_model_providers_filter(store: ThreadStore) -> None:
    await _seed_providers(store)

    assert await list_ids(store, model_providers=["acme"]) == [tid(2)]
    assert await list_ids(store, model_providers=["openai", "local"]) == [tid(3), tid(1)]
    assert await list_ids(store, model_providers=["nobody"]) == []


async def test_model_provider_filter_sees_patched_provider(store: ThreadStore) -> None:
    await _seed_providers(store)
    await patch(store, tid(1), model_provider="acme")

    assert await list_ids(store, model_providers=["acme"]) == [tid(2), tid(1)]


async def test_empty_cwd_filters_is_an_empty_page(store: ThreadStore) -> None:
    await _seed_providers(store)

    page = await store.list_threads(ListThreadsParams(cwd_filters=[]))

    assert page.items == []
    assert page.next_cursor is None


async def test_cwd_filters_match_exact_paths(store: ThreadStore) -> None:
    await _seed_providers(store)

    assert await list_ids(store, cwd_filters=["/a"]) == [tid(1)]
    assert await list_ids(store, cwd_filters=["/a/sub", "/b"]) == [tid(3), tid(2)]
    assert await list_ids(store, cwd_filters=["/c"]) == []


async def test_filters_combine(store: ThreadStore) -> None:
    await make(store, 1, model_provider="acme", cwd="/a")
    await make(store, 2, model_provider="acme", cwd="/a", source=SessionSource.exec())
    await make(store, 3, model_provider="openai", cwd="/a")
    await make(store, 4, model_provider="acme", cwd="/b")
    await make(store, 5, model_provider="acme", cwd="/a")
    await shut_and_archive(store, tid(5))

    ids = await list_ids(
        store,
        model_providers=["acme"],
        cwd_filters=["/a"],
        allowed_sources=[SessionSource.cli()],
    )

    assert ids == [tid(1)]


# -- search term ---------------------------------------------------------------------
async def _seed_texts(store: ThreadStore) -> None:
    await make(store, 1)
    await patch(store, tid(1), name="Refactor the Parser")
    await make(store, 2)
    await patch(store, tid(2), preview="fix flaky parser test")
    await make(store, 3)
    await patch(store, tid(3), first_user_message="Please review my PARSER changes")
    await make(store, 4)
    await patch(store, tid(4), name="unrelated", preview="nothing here")


async def test_search_term_matches_name_preview_and_first_user_message(
    store: ThreadStore,
) -> None:
    await _seed_texts(store)

    assert await list_ids(store, search_term="parser") == [tid(3), tid(2), tid(1)]


async def test_search_term_is_case_insensitive(store: ThreadStore) -> None:
    await _seed_texts(store)

    assert await list_ids(store, search_term="PaRsEr") == [tid(3), tid(2), tid(1)]
    assert await list_ids(store, search_term="REFACTOR") == [tid(1)]


async def test_every_search_word_must_occur(store: ThreadStore) -> None:
    await _seed_texts(store)

    assert await list_ids(store, search_term="parser flaky") == [tid(2)]
    assert await list_ids(store, search_term="parser missing") == []


async def test_search_words_may_occur_in_different_fields(store: ThreadStore) -> None:
    await make(store, 1)
    await patch(store, tid(1), name="alpha", preview="beta", first_user_message="gamma")

    assert await list_ids(store, search_term="gamma alpha beta") == [tid(1)]


async def test_search_term_is_literal_text(store: ThreadStore) -> None:
    await make(store, 1)
    await patch(store, tid(1), name="learn c++ (fast)")
    await make(store, 2)
    await patch(store, tid(2), name="learn cxx fast")

    assert await list_ids(store, search_term="c++") == [tid(1)]
    assert await list_ids(store, search_term="(fast)") == [tid(1)]
    assert await list_ids(store, search_term="c.+") == []


# -- spawn relations -----------------------------------------------------------------
async def _seed_family(store: ThreadStore) -> None:
    """root tid(1) is never created; child 2, grandchild 3, great-grandchild 4,
    second child 5 (explicit parent id), unrelated 6."""
    await make(store, 2, source=SessionSource.thread_spawn(tid(1)))
    await make(store, 3, source=SessionSource.thread_spawn(tid(2), depth=2))
    await make(store, 4, source=SessionSource.thread_spawn(tid(3), depth=3))
    await make(store, 5, parent_thread_id=tid(1))
    await make(store, 6)


async def test_list_threads_filters_by_spawn_relationship(store: ThreadStore) -> None:
    await _seed_family(store)

    direct = await list_ids(store, relation_filter=ThreadRelationFilter.direct_children_of(tid(1)))
    descendants = await list_ids(store, relation_filter=ThreadRelationFilter.descendants_of(tid(1)))

    assert direct == [tid(5), tid(2)]
    assert descendants == [tid(5), tid(4), tid(3), tid(2)]


async def test_relations_of_an_inner_thread(store: ThreadStore) -> None:
    await _seed_family(store)

    direct = ThreadRelationFilter.direct_children_of(tid(2))
    descendants = ThreadRelationFilter.descendants_of(tid(2))

    assert await list_ids(store, relation_filter=direct) == [tid(3)]
    assert await list_ids(store, relation_filter=descendants) == [tid(4), tid(3)]


async def test_descendants_exclude_an_existing_root(store: ThreadStore) -> None:
    await make(store, 1)
    await _seed_family(store)

    ids = await list_ids(store, relation_filter=ThreadRelationFilter.descendants_of(tid(1)))

    assert tid(1) not in ids
    assert ids == [tid(5), tid(4), tid(3), tid(2)]


async def test_relations_of_a_leaf_or_unknown_thread_are_empty(store: ThreadStore) -> None:
    await _seed_family(store)

    for root in (tid(4), tid(6), tid(99)):
        assert (
            await list_ids(store, relation_filter=ThreadRelationFilter.descendants_of(root)) == []
        )
        assert (
            await list_ids(store, relation_filter=ThreadRelationFilter.direct_children_of(root))
            == []
        )


async def test_relation_filter_respects_archived(store: ThreadStore) -> None:
    await _seed_family(store)
    await shut_and_archive(store, tid(3))

    descendants = ThreadRelationFilter.descendants_of(tid(1))

    assert await list_ids(store, relation_filter=descendants) == [tid(5), tid(4), tid(2)]
    assert await list_ids(store, relation_filter=descendants, archived=True) == [tid(3)]
