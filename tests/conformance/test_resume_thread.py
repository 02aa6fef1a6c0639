"""resume_thread: reopen an existing, closed thread for live appends."""

from __future__ import annotations

import pytest

from builders import (
    agent_message,
    append,
    history,
    new_thread,
    read,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    Conflict,
    ResumeThreadParams,
    ThreadNotFound,
    ThreadStore,
)


async def test_resume_of_a_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))


async def test_resume_of_a_live_thread_is_a_conflict(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    with pytest.raises(Conflict):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))


async def test_second_resume_is_a_conflict(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))
    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    with pytest.raises(Conflict):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))


async def test_resumed_thread_appends_after_existing_history(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("before"))
    await store.shutdown_thread(tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await append(store, tid(1), agent_message("after"))

    items = await history(store, tid(1))
    assert items[1:] == [user_message("before"), agent_message("after")]
    assert items[0].type == "session_meta"


async def test_resume_does_not_rewrite_session_meta(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))
    original = await history(store, tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await store.flush_thread(tid(1))

    assert await history(store, tid(1)) == original


async def test_resume_with_the_loaded_history_is_accepted(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("hello"))
    await store.shutdown_thread(tid(1))
    loaded = await history(store, tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1), history=loaded))
    await append(store, tid(1), agent_message("hi"))

    assert await history(store, tid(1)) == [*loaded, agent_message("hi")]


async def test_resume_of_an_archived_thread_needs_include_archived(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await shut_and_archive(store, tid(1))

    with pytest.raises(ThreadNotFound):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1), include_archived=True))
    await append(store, tid(1), user_message("still here"))
    items = await history(store, tid(1), include_archived=True)
    assert items[-1] == user_message("still here")


async def test_resume_of_a_discarded_unpersisted_thread_is_not_found(
    store: ThreadStore,
) -> None:
    await new_thread(store, tid(1), persist=False)
    await store.discard_thread(tid(1))

    with pytest.raises(ThreadNotFound):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))


async def test_resume_keeps_the_thread_summary(store: ThreadStore) -> None:
    await new_thread(store, tid(1), model_provider="acme", cwd="/srv/p")
    await store.shutdown_thread(tid(1))
    before = await read(store, tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    assert await read(store, tid(1)) == before


async def test_shutdown_after_resume_closes_the_writer_again(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))
    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await store.shutdown_thread(tid(1))

    await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await append(store, tid(1), user_message("third session"))

    assert (await history(store, tid(1)))[-1] == user_message("third session")
