"""Idempotent appends: a caller's key makes a retry safe; a different payload under the
same key is a conflict; appends without a key are never deduplicated."""

from __future__ import annotations

import asyncio

import pytest

from builders import agent_message, create_params, history, tid, user_message
from codex_thread_store import AppendThreadItemsParams, Conflict, ResumeThreadParams, RolloutItem

from .helpers import StoreMaker, expire_lease, sql


def keyed(thread_id: str, key: str | None, *items: RolloutItem) -> AppendThreadItemsParams:
    return AppendThreadItemsParams(thread_id=thread_id, items=list(items), idempotency_key=key)


async def test_retry_with_the_same_key_and_items_does_not_duplicate(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    batch = [user_message("once"), agent_message("only once")]

    await store.append_items(keyed(tid(1), "k1", *batch))
    await store.append_items(keyed(tid(1), "k1", *batch))
    await store.flush_thread(tid(1))

    assert (await history(store, tid(1)))[1:] == batch


async def test_same_key_with_different_items_is_a_conflict(make_store: StoreMaker) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    await store.append_items(keyed(tid(1), "k1", user_message("first")))

    with pytest.raises(Conflict, match="idempotency key 'k1'"):
        await store.append_items(keyed(tid(1), "k1", user_message("something else")))

    assert (await history(store, tid(1)))[1:] == [user_message("first")]


async def test_a_key_is_scoped_to_its_thread(make_store: StoreMaker) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    await store.create_thread(create_params(tid(2)))

    await store.append_items(keyed(tid(1), "shared", user_message("one")))
    await store.append_items(keyed(tid(2), "shared", user_message("two")))

    assert (await history(store, tid(1)))[1:] == [user_message("one")]
    assert (await history(store, tid(2)))[1:] == [user_message("two")]


async def test_appends_without_a_key_are_never_deduplicated(make_store: StoreMaker) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))

    await store.append_items(keyed(tid(1), None, user_message("again")))
    await store.append_items(keyed(tid(1), None, user_message("again")))

    assert (await history(store, tid(1)))[1:] == [user_message("again")] * 2


async def test_concurrent_identical_retries_append_once(make_store: StoreMaker) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    batch = [user_message("racing retry")]

    await asyncio.gather(*(store.append_items(keyed(tid(1), "k", *batch)) for _ in range(10)))

    assert (await history(store, tid(1)))[1:] == batch


async def test_keyed_retry_succeeds_even_after_the_lease_moved_on(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    # The append committed, its answer was lost, and before the caller retried the
    # writer's lease lapsed and another writer took over.
    old, new = make_store(), make_store()
    await old.create_thread(create_params(tid(1)))
    await old.persist_thread(tid(1))
    await old.append_items(keyed(tid(1), "k1", user_message("landed")))
    expire_lease(shared_dsn, owner, tid(1))
    await new.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    await old.append_items(keyed(tid(1), "k1", user_message("landed")))
    with pytest.raises(Conflict):
        await old.append_items(keyed(tid(1), "k2", user_message("new work")))

    assert (await history(new, tid(1)))[1:] == [user_message("landed")]


async def test_sequence_numbers_stay_dense_across_keyed_and_unkeyed_appends(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    for n in range(5):
        await store.append_items(keyed(tid(1), f"k{n % 2}", user_message(f"m{n % 2}")))
        await store.append_items(keyed(tid(1), None, agent_message(f"a{n}")))

    seqs = sql(
        shared_dsn,
        "SELECT seq FROM thread_items WHERE owner = %s AND thread_id = %s ORDER BY seq",
        (owner, tid(1)),
    )
    assert [s for (s,) in seqs] == list(range(1 + 2 + 5))
