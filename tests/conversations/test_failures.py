"""`Conversation` and `ThreadSession` under failures, races, cancellation and callers that
keep changing their dicts: memory and storage never drift apart, and no writer is left
behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import (
    ArchiveThreadParams,
    Conversation,
    InvalidRequest,
    ListTurnsParams,
    LiveThread,
    LoadThreadHistoryParams,
    ThreadStore,
    TurnItemsView,
    UserMessageItem,
)
from codex_thread_store.agents_sdk import ThreadSession
from codex_thread_store.conversations.replay import Replay
from codex_thread_store.protocol.items.model import ImageInput


def say(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": text}


async def stored_context(store: ThreadStore, thread_id: str) -> list[Any]:
    history = await store.load_history(LoadThreadHistoryParams(thread_id=thread_id))
    return [
        p.get("codex_thread_store_original", {}).get("input", p)
        for p in Replay.of(history.items).context
    ]


async def test_the_first_write_after_another_writer_builds_on_its_turns(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([say("user", "one"), say("assistant", "r1")])
    await convo.close()
    reader = await Conversation.resume(store, convo.thread_id)
    other = await Conversation.resume(store, convo.thread_id)
    await other.append([say("user", "two"), say("assistant", "r2")])
    await other.close()
    assert await reader.pop() == say("assistant", "r2")  # the newest, written by the other
    expected = [say("user", "one"), say("assistant", "r1"), say("user", "two")]
    assert await reader.items() == expected
    await reader.close()
    assert await stored_context(store, convo.thread_id) == expected


async def test_a_failed_flush_leaves_memory_as_stored(
    store: ThreadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    convo = await Conversation.start(store)
    await convo.append([say("user", "one")])
    real = LiveThread.flush_history
    failures = [OSError("disk went away")]

    async def flaky(self: LiveThread) -> None:
        if failures:
            raise failures.pop()
        await real(self)

    monkeypatch.setattr(LiveThread, "flush_history", flaky)
    with pytest.raises(OSError):
        await convo.append([say("assistant", "r1")])
    # The append itself went through: memory counts it, and a retry is not needed.
    assert await convo.items() == [say("user", "one"), say("assistant", "r1")]
    await convo.append([say("user", "two")])
    await convo.close()
    assert await stored_context(store, convo.thread_id) == [
        say("user", "one"),
        say("assistant", "r1"),
        say("user", "two"),
    ]


async def test_a_cancelled_write_finishes_whole_before_the_cancellation(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    task = asyncio.ensure_future(convo.append([say("user", "one"), say("assistant", "r1")]))
    await asyncio.sleep(0)  # let it start
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    items = await convo.items()
    assert items == [say("user", "one"), say("assistant", "r1")]  # it ran whole
    await convo.close()
    assert await stored_context(store, convo.thread_id) == items


async def test_close_waits_for_a_write_that_is_opening_the_writer(
    store: ThreadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    convo = await Conversation.start(store)
    await convo.append([say("user", "one")])
    await convo.close()
    opening, go_on = asyncio.Event(), asyncio.Event()
    real = LiveThread.resume

    async def slow_resume(*args: Any, **kwargs: Any) -> LiveThread:
        opening.set()
        await go_on.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(LiveThread, "resume", slow_resume)
    resumed = await Conversation.resume(store, convo.thread_id)
    write = asyncio.ensure_future(resumed.append([say("assistant", "r1")]))
    await opening.wait()  # the write is inside opening the writer
    closing = asyncio.ensure_future(resumed.close())
    await asyncio.sleep(0)
    assert not closing.done()  # it waits for the write
    go_on.set()
    await write
    await closing
    monkeypatch.setattr(LiveThread, "resume", real)
    again = await Conversation.resume(store, convo.thread_id)  # no writer left behind
    await again.append([say("user", "two")])
    await again.close()
    assert await stored_context(store, convo.thread_id) == [
        say("user", "one"),
        say("assistant", "r1"),
        say("user", "two"),
    ]


async def test_a_failed_resume_leaves_no_writer_behind(
    store: ThreadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    convo = await Conversation.start(store)
    await convo.append([say("user", "one")])
    await convo.close()
    real = type(store).read_thread
    calls = {"n": 0}

    async def failing_once(self: ThreadStore, params: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the read inside LiveThread.resume, after the writer opened
            raise OSError("flaky")
        return await real(self, params)

    monkeypatch.setattr(type(store), "read_thread", failing_once)
    resumed = await Conversation.resume(store, convo.thread_id)
    with pytest.raises(OSError):
        await resumed.append([say("assistant", "r1")])
    monkeypatch.setattr(type(store), "read_thread", real)
    again = await Conversation.resume(store, convo.thread_id)
    await again.append([say("assistant", "r1")])  # no Conflict: the writer was discarded
    await again.close()


async def test_the_callers_later_changes_do_not_reach_the_history(store: ThreadStore) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    convo = await Conversation.start(store)
    await convo.append([item, say("assistant", "a")])
    item["content"][0]["text"] = "MUTATED"
    await convo.pop()
    assert await convo.items() == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]
    await convo.close()
    assert "MUTATED" not in str(await stored_context(store, convo.thread_id))


async def test_what_is_not_json_is_refused(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    with pytest.raises(InvalidRequest, match="not JSON"):
        await convo.append([{"role": "user", "content": "x", "extra": object()}])
    await convo.close()


async def test_a_user_image_shows_in_a_paginated_turn(store: ThreadStore) -> None:
    convo = await Conversation.start(store, history_mode="paginated")
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
    await convo.append(
        [{"role": "user", "content": [{"type": "input_text", "text": "look"}, image]}]
    )
    await convo.close()
    page = await store.list_turns(
        ListTurnsParams(thread_id=convo.thread_id, items_view=TurnItemsView.FULL)
    )
    (turn,) = page.turns
    (message,) = [i for i in turn.items if isinstance(i, UserMessageItem)]
    assert any(isinstance(part, ImageInput) for part in message.content)


async def test_an_archived_session_opens_for_reading(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([say("user", "old")])
    await convo.close()
    await store.archive_thread(ArchiveThreadParams(thread_id=convo.thread_id))
    session = ThreadSession(convo.thread_id, store)
    assert await session.get_items() == [say("user", "old")]
    await session.close()


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_sessions_on_one_store_across_event_loops(kind: str, tmp_path: Path) -> None:
    # A web app running each request in its own asyncio.run, with one store for all.
    from codex_thread_store import open_store

    url = "memory:" if kind == "memory" else str(tmp_path / "home")

    async def make() -> ThreadStore:
        opened = open_store(url)
        await opened.__aenter__()
        return opened

    async def request(store: ThreadStore, n: int) -> list[Any]:
        first = ThreadSession("user-1", store)
        second = ThreadSession("user-1", store)
        await asyncio.gather(first.add_items([say("user", f"q{n}")]), second.get_items())
        items = await second.get_items()
        await first.close()
        await second.close()
        return items

    store = asyncio.run(make())
    assert asyncio.run(request(store, 1)) == [say("user", "q1")]
    assert asyncio.run(request(store, 2)) == [say("user", "q1"), say("user", "q2")]
    asyncio.run(store.aclose())
