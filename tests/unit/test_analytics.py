"""`codex_thread_initialized` events (protocol section 5) from LiveThread and ThreadManager."""

from __future__ import annotations

import msgspec
import pytest

from codex_thread_store import (
    CreateThreadParams,
    InMemoryThreadStore,
    LiveThread,
    NoopAnalyticsSink,
    OriginatorResolver,
    ReadThreadParams,
    RecordingAnalyticsSink,
    ResumeThreadParams,
    RolloutItem,
    SessionSource,
    StoredThread,
    ThreadInitializedEvent,
    ThreadManager,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
)
from codex_thread_store.originator import ORIGINATOR_OVERRIDE_ENV
from codex_thread_store.timeutil import to_ms


def manager(
    store: InMemoryThreadStore, sink: RecordingAnalyticsSink, env: dict[str, str] | None = None
) -> ThreadManager:
    return ThreadManager(
        store,
        originators=OriginatorResolver(environ=env or {}),
        analytics=sink,
        collect_git=False,
    )


async def read(store: InMemoryThreadStore, thread_id: str) -> StoredThread:
    return await store.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))


def created_s(thread: StoredThread) -> int:
    return to_ms(thread.created_at) // 1000


def user_msg(text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": "user_message", "message": text, "images": []})


async def test_new_thread_event() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    live = await mgr.start_thread(
        CreateThreadParams(thread_source="user", metadata=ThreadPersistenceMetadata(cwd="/p")),
        model="gpt-5.5",
    )
    thread = await read(store, live.thread_id)
    assert sink.events == [
        ThreadInitializedEvent(
            thread_id=live.thread_id,
            session_id=live.thread_id,
            product_client_id="codex_cli_rs",
            model="gpt-5.5",
            ephemeral=False,
            thread_source="user",
            initialization_mode="new",
            subagent_source=None,
            parent_thread_id=None,
            forked_from_thread_id=None,
            created_at=created_s(thread),
        )
    ]
    assert sink.events[0].event_type == "codex_thread_initialized"


@pytest.mark.parametrize(
    ("thread_source", "expected"),
    [("automation", "automation"), ("user", "user"), ("subagent", "subagent"), (None, None)],
)
async def test_thread_source_is_the_plain_label(
    thread_source: str | None, expected: str | None
) -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    await manager(store, sink).start_thread(CreateThreadParams(thread_source=thread_source))
    (event,) = sink.events
    assert event.thread_source == expected
    if expected is not None:
        assert type(event.thread_source) is str
    encoded = msgspec.json.decode(msgspec.json.encode(event))
    assert encoded["thread_source"] == expected


async def test_product_client_id_is_the_effective_originator() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink, env={ORIGINATOR_OVERRIDE_ENV: "Codex Desktop"})
    live = await mgr.start_thread()
    persisted = await mgr.start_thread(CreateThreadParams(originator="explicit_orig"))
    assert [e.product_client_id for e in sink.events] == ["Codex Desktop", "explicit_orig"]
    assert live.originator == "Codex Desktop"
    assert persisted.originator == "explicit_orig"


async def test_forked_event() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    src = await mgr.start_thread(CreateThreadParams(originator="src_orig"))
    await src.append_items([user_msg("hi")])
    sink.events.clear()

    fork = await mgr.fork_thread(src.thread_id, thread_source="automation")
    thread = await read(store, fork.thread_id)
    (event,) = sink.events  # exactly one event for a fork, and it is not "new"
    assert event.initialization_mode == "forked"
    assert event.thread_id == fork.thread_id
    assert event.session_id == fork.thread_id
    assert event.forked_from_thread_id == src.thread_id
    assert event.product_client_id == "src_orig"
    assert event.thread_source == "automation"
    assert event.parent_thread_id is None
    assert event.subagent_source is None
    assert event.ephemeral is False
    assert event.created_at == created_s(thread)


async def test_resumed_event() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    live = await mgr.start_thread(
        CreateThreadParams(originator="first_orig", thread_source="automation")
    )
    await live.append_items([user_msg("hi")])
    await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(model="gpt-stored"))
    await mgr.close_thread(live.thread_id)
    sink.events.clear()

    resumed = await mgr.resume_thread(live.thread_id)
    thread = await read(store, live.thread_id)
    (event,) = sink.events
    assert event.initialization_mode == "resumed"
    assert event.thread_id == live.thread_id
    assert event.session_id == live.thread_id
    assert event.product_client_id == "first_orig" == resumed.originator
    assert event.thread_source == "automation"
    assert event.model == "gpt-stored"  # no model given: the stored thread's
    assert event.forked_from_thread_id is None
    assert event.created_at == created_s(thread)


async def test_resume_of_loaded_thread_emits_nothing() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    live = await mgr.start_thread()
    sink.events.clear()
    await mgr.resume_thread(live.thread_id)
    assert sink.events == []


async def test_live_thread_resume_with_explicit_model() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    params = CreateThreadParams(originator="o")
    await store.create_thread(params)
    await store.persist_thread(params.thread_id)
    await store.shutdown_thread(params.thread_id)
    await LiveThread.resume(
        store, ResumeThreadParams(thread_id=params.thread_id), analytics=sink, model="gpt-x"
    )
    (event,) = sink.events
    assert event.initialization_mode == "resumed"
    assert event.model == "gpt-x"
    assert event.product_client_id == "o"


async def test_subagent_event_has_thread_spawn_source_and_parent() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    parent = await mgr.start_thread(CreateThreadParams(originator="parent_orig"))
    sink.events.clear()
    child = await mgr.spawn_subagent(parent.thread_id, agent_nickname="Nick")
    (event,) = sink.events
    assert event.initialization_mode == "new"
    assert event.thread_id == child.thread_id
    assert event.session_id == parent.thread_id
    assert event.subagent_source == "thread_spawn"
    assert event.parent_thread_id == parent.thread_id
    assert event.thread_source == "subagent"
    assert event.product_client_id == "parent_orig"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (SessionSource.subagent("review"), "review"),
        (SessionSource.subagent("compact"), "compact"),
        (SessionSource.subagent_other("guardian"), "guardian"),
        (SessionSource.cli(), None),
        (SessionSource.exec(), None),
    ],
)
async def test_subagent_source_kinds(source: SessionSource, expected: str | None) -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    await manager(store, sink).start_thread(CreateThreadParams(source=source))
    (event,) = sink.events
    assert event.subagent_source == expected


async def test_ephemeral_flag() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    mgr = manager(store, sink)
    await mgr.start_thread(ephemeral=True)
    await mgr.start_thread()
    assert [e.ephemeral for e in sink.events] == [True, False]
    assert [e.initialization_mode for e in sink.events] == ["new", "new"]


async def test_noop_sink_is_the_default_and_does_nothing() -> None:
    sink = NoopAnalyticsSink()
    event = ThreadInitializedEvent(
        thread_id="t",
        session_id="s",
        product_client_id="p",
        initialization_mode="new",
        created_at=0,
    )
    assert sink.record(event) is None
    assert vars(sink) == {}

    store = InMemoryThreadStore()
    mgr = ThreadManager(store, originators=OriginatorResolver(environ={}), collect_git=False)
    assert mgr.analytics is None
    live = await mgr.start_thread()  # no sink: nothing to record, and nothing fails
    await live.persist()
    fork = await mgr.fork_thread(live.thread_id)
    await mgr.close_thread(live.thread_id)
    await mgr.resume_thread(live.thread_id)
    assert fork.thread_id != live.thread_id


async def test_event_json_shape() -> None:
    store, sink = InMemoryThreadStore(), RecordingAnalyticsSink()
    await manager(store, sink).start_thread(CreateThreadParams(thread_source="automation"))
    encoded = msgspec.json.decode(msgspec.json.encode(sink.events[0]))
    assert set(encoded) == {
        "event_type",
        "thread_id",
        "session_id",
        "product_client_id",
        "model",
        "ephemeral",
        "thread_source",
        "initialization_mode",
        "subagent_source",
        "parent_thread_id",
        "forked_from_thread_id",
        "created_at",
    }
    assert encoded["event_type"] == "codex_thread_initialized"
    assert encoded["thread_source"] == "automation"
    assert isinstance(encoded["created_at"], int)
