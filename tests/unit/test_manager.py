"""ThreadManager: routing of metadata mutations, ephemeral and internal threads, error
mapping, fork, subagent spawn, resume and close (core-api section 8)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_thread_store import (
    CreateThreadParams,
    InMemoryThreadStore,
    Internal,
    InvalidRequest,
    LiveThread,
    LoadThreadHistoryParams,
    OriginatorResolver,
    ReadThreadParams,
    RolloutItem,
    SessionSource,
    StoredThread,
    ThreadManager,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
    new_thread_id,
)
from codex_thread_store.originator import ORIGINATOR_OVERRIDE_ENV


class RecordingStore(InMemoryThreadStore):
    def __init__(self) -> None:
        super().__init__()
        self.updates: list[UpdateThreadMetadataParams] = []
        self.created: list[str] = []
        self.shutdowns: list[str] = []

    async def create_thread(self, params: CreateThreadParams) -> None:
        self.created.append(params.thread_id)
        await super().create_thread(params)

    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        self.updates.append(params)
        return await super().update_thread_metadata(params)

    async def shutdown_thread(self, thread_id: str) -> None:
        self.shutdowns.append(thread_id)
        await super().shutdown_thread(thread_id)


class ExplodingStore(RecordingStore):
    """update_thread_metadata fails with something that is not a ThreadStoreError."""

    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        self.updates.append(params)
        raise RuntimeError("socket closed")


def manager(store: InMemoryThreadStore, env: dict[str, str] | None = None) -> ThreadManager:
    return ThreadManager(
        store, originators=OriginatorResolver(environ=env or {}), collect_git=False
    )


def user_msg(text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": "user_message", "message": text, "images": []})


def turn(turn_id: str, text: str) -> list[RolloutItem]:
    return [
        RolloutItem.event_msg({"type": "task_started", "turn_id": turn_id}),
        user_msg(text),
        RolloutItem.event_msg({"type": "agent_message", "message": f"re: {text}"}),
        RolloutItem.event_msg({"type": "task_complete", "turn_id": turn_id}),
    ]


async def load(store: InMemoryThreadStore, thread_id: str) -> list[RolloutItem]:
    loaded = await store.load_history(
        LoadThreadHistoryParams(thread_id=thread_id, include_archived=True)
    )
    return loaded.items


async def read(store: InMemoryThreadStore, thread_id: str) -> StoredThread:
    return await store.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))


def start_params(**kwargs: Any) -> CreateThreadParams:
    kwargs.setdefault("metadata", ThreadPersistenceMetadata(cwd="/proj", model_provider="prov"))
    return CreateThreadParams(**kwargs)


# ==========================================================================================
# routing
# ==========================================================================================
async def test_loaded_thread_update_goes_through_live_thread() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    assert mgr.get_loaded(live.thread_id) is live
    assert store.updates == []  # the create patch is held back

    thread = await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="n"))
    # The live path flushes the pending create patch first, then the explicit patch.
    assert len(store.updates) == 2
    assert store.updates[0].patch.created_at is not None
    assert store.updates[0].patch.cwd == "/proj"
    assert store.updates[1].patch == ThreadMetadataPatch(name="n")
    assert store.updates[1].include_archived is False
    assert thread.name == "n"


async def test_loaded_thread_explicit_name_beats_pending_derived_title() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    await live.append_items([user_msg("derived")])
    await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="explicit"))
    assert (await read(store, live.thread_id)).name == "explicit"


async def test_cold_thread_update_goes_straight_to_the_store() -> None:
    store = RecordingStore()
    cold = CreateThreadParams()
    await store.create_thread(cold)
    await store.persist_thread(cold.thread_id)
    await store.shutdown_thread(cold.thread_id)
    mgr = manager(store)
    assert mgr.get_loaded(cold.thread_id) is None

    thread = await mgr.update_thread_metadata(
        cold.thread_id, ThreadMetadataPatch(preview="p"), include_archived=True
    )
    assert [u.patch for u in store.updates] == [ThreadMetadataPatch(preview="p")]
    assert store.updates[0].include_archived is True
    assert thread.preview == "p"


async def test_closed_thread_takes_the_cold_path() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    await live.persist()
    await mgr.close_thread(live.thread_id)
    store.updates.clear()
    await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="cold"))
    assert [u.patch for u in store.updates] == [ThreadMetadataPatch(name="cold")]


async def test_unknown_thread_update_raises_thread_not_found() -> None:
    mgr = manager(RecordingStore())
    missing = new_thread_id()
    with pytest.raises(ThreadNotFound) as info:
        await mgr.update_thread_metadata(missing, ThreadMetadataPatch(name="x"))
    assert info.value.thread_id == missing


async def test_invalid_feature_thread_source_in_patch_is_rejected() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    with pytest.raises(InvalidRequest):
        await mgr.update_thread_metadata(
            live.thread_id, ThreadMetadataPatch(thread_source=" spaced ")
        )
    assert store.updates == []


# ==========================================================================================
# ephemeral and internal threads
# ==========================================================================================
async def test_ephemeral_thread_never_reaches_the_store_and_rejects_updates() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params(), ephemeral=True)
    await live.append_items([user_msg("ephemeral words")])
    await live.persist()

    assert mgr.is_ephemeral(live.thread_id)
    assert live.store is not store
    assert store.created == []
    assert store.calls["create_thread"] == 0
    assert store.calls["append_items"] == 0
    with pytest.raises(ThreadNotFound):
        await read(store, live.thread_id)

    with pytest.raises(InvalidRequest) as info:
        await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="x"))
    assert f"ephemeral thread does not support metadata updates: {live.thread_id}" in str(
        info.value
    )
    with pytest.raises(InvalidRequest):
        await mgr.set_thread_name(live.thread_id, "name")
    assert store.updates == []


async def test_non_ephemeral_thread_is_not_ephemeral() -> None:
    mgr = manager(RecordingStore())
    live = await mgr.start_thread(start_params())
    assert not mgr.is_ephemeral(live.thread_id)
    assert not mgr.is_ephemeral(new_thread_id())


async def test_internal_source_is_hidden_and_takes_the_cold_path() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(
        start_params(source=SessionSource.internal("memory_consolidation"))
    )
    assert live.thread_id in mgr.loaded_thread_ids
    assert mgr.get_loaded(live.thread_id) is None

    await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="internal"))
    # Cold path: only the explicit patch; the live handle's create patch stays pending.
    assert [u.patch for u in store.updates] == [ThreadMetadataPatch(name="internal")]
    assert live.metadata_sync.take_pending_update() is not None


# ==========================================================================================
# error mapping
# ==========================================================================================
async def test_non_store_error_on_cold_path_maps_to_internal() -> None:
    store = ExplodingStore()
    cold = CreateThreadParams()
    await store.create_thread(cold)
    mgr = manager(store)
    with pytest.raises(Internal) as info:
        await mgr.update_thread_metadata(cold.thread_id, ThreadMetadataPatch(name="x"))
    assert f"failed to update thread metadata {cold.thread_id}: socket closed" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_non_store_error_on_live_path_maps_to_internal() -> None:
    store = ExplodingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    with pytest.raises(Internal) as info:
        await mgr.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name="x"))
    assert f"failed to update thread metadata {live.thread_id}" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


# ==========================================================================================
# set_thread_name
# ==========================================================================================
async def test_set_thread_name_trims() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    await live.persist()
    store.updates.clear()
    thread = await mgr.set_thread_name(live.thread_id, "  My thread \n")
    assert thread.name == "My thread"
    assert [u.patch for u in store.updates] == [ThreadMetadataPatch(name="My thread")]
    assert store.updates[0].include_archived is False


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
async def test_set_thread_name_rejects_empty(name: str) -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    with pytest.raises(InvalidRequest):
        await mgr.set_thread_name(live.thread_id, name)
    assert store.updates == []


# ==========================================================================================
# fork
# ==========================================================================================
async def _source_with_turns(
    mgr: ThreadManager, *, originator: str = "src_orig", close: bool = True
) -> LiveThread:
    src = await mgr.start_thread(start_params(originator=originator, thread_source="automation"))
    await src.append_items([*turn("t1", "one"), *turn("t2", "two")])
    if close:
        await mgr.close_thread(src.thread_id)
    return src


async def test_fork_copies_history_after_a_new_session_meta() -> None:
    store = RecordingStore()
    mgr = manager(store, env={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    src = await _source_with_turns(mgr)
    source_items = await load(store, src.thread_id)

    fork = await mgr.fork_thread(src.thread_id)
    items = await load(store, fork.thread_id)
    meta = items[0].as_session_meta()
    assert meta is not None
    assert meta.id == fork.thread_id
    assert meta.forked_from_id == src.thread_id
    assert meta.originator == "src_orig"
    assert items[1:] == source_items  # the source's session_meta is copied too

    assert fork.originator == "src_orig"  # persisted in the copied history
    thread = await read(store, fork.thread_id)
    assert thread.forked_from_id == src.thread_id
    assert thread.preview == "one"
    assert thread.originator == "src_orig"
    assert thread.thread_source is None  # never taken from the source
    assert mgr.get_loaded(fork.thread_id) is fork


async def test_fork_takes_thread_source_from_the_call() -> None:
    store = RecordingStore()
    mgr = manager(store)
    src = await _source_with_turns(mgr)
    fork = await mgr.fork_thread(src.thread_id, thread_source="guardian_review")
    assert (await read(store, fork.thread_id)).thread_source == "guardian_review"


async def test_fork_with_last_n_turns_drops_session_meta_and_inherits_live_originator() -> None:
    store = RecordingStore()
    mgr = manager(store, env={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    src = await _source_with_turns(mgr, originator="live_src_orig", close=False)
    assert mgr.get_loaded(src.thread_id) is src

    fork = await mgr.fork_thread(src.thread_id, last_n_turns=1)
    items = await load(store, fork.thread_id)
    assert items[0].as_session_meta() is not None
    assert items[0].payload["id"] == fork.thread_id
    assert items[1:] == turn("t2", "two")
    assert [i.type for i in items].count("session_meta") == 1
    assert fork.originator == "live_src_orig"
    assert items[0].payload["originator"] == "live_src_orig"
    assert (await read(store, fork.thread_id)).preview == "two"


async def test_fork_of_cold_source_with_last_n_turns_falls_back_to_env() -> None:
    store = RecordingStore()
    mgr = manager(store, env={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    src = await _source_with_turns(mgr, originator="src_orig", close=True)
    fork = await mgr.fork_thread(src.thread_id, last_n_turns=1)
    assert fork.originator == "env_orig"


async def test_fork_of_cold_source_with_last_n_turns_falls_back_to_default() -> None:
    store = RecordingStore()
    mgr = manager(store, env={})
    src = await _source_with_turns(mgr, originator="src_orig", close=True)
    fork = await mgr.fork_thread(src.thread_id, last_n_turns=2)
    assert fork.originator == "codex_cli_rs"
    items = await load(store, fork.thread_id)
    assert items[1:] == [*turn("t1", "one"), *turn("t2", "two")]


async def test_fork_with_more_turns_than_exist_keeps_all_turns() -> None:
    store = RecordingStore()
    mgr = manager(store)
    src = await _source_with_turns(mgr)
    fork = await mgr.fork_thread(src.thread_id, last_n_turns=10)
    items = await load(store, fork.thread_id)
    assert items[1:] == [*turn("t1", "one"), *turn("t2", "two")]


@pytest.mark.parametrize("bad", [0, -1])
async def test_fork_rejects_non_positive_last_n_turns(bad: int) -> None:
    store = RecordingStore()
    mgr = manager(store)
    src = await _source_with_turns(mgr)
    with pytest.raises(InvalidRequest):
        await mgr.fork_thread(src.thread_id, last_n_turns=bad)


# ==========================================================================================
# subagents
# ==========================================================================================
async def test_spawn_subagent_shares_session_and_inherits_live_parent_originator() -> None:
    store = RecordingStore()
    mgr = manager(store, env={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    parent = await mgr.start_thread(start_params(originator="parent_orig"))

    child = await mgr.spawn_subagent(
        parent.thread_id, agent_nickname="Nick", agent_role="explorer", depth=1
    )
    assert child.session_id == parent.session_id == parent.thread_id
    assert child.originator == "parent_orig"
    assert child.source.subagent_kind == "thread_spawn"
    assert child.source.parent_thread_id == parent.thread_id
    assert mgr.get_loaded(child.thread_id) is child

    meta = (await load(store, child.thread_id))[0].as_session_meta()
    assert meta is not None
    assert meta.session_id == parent.thread_id
    assert meta.originator == "parent_orig"
    thread = await read(store, child.thread_id)
    assert thread.parent_thread_id == parent.thread_id
    # The app-server reports a sub-agent's own id as its session; its root's is kept apart.
    assert thread.session_id == child.thread_id
    assert thread.root_session_id == parent.thread_id
    assert thread.thread_source == "subagent"
    assert thread.agent_nickname == "Nick"
    assert thread.agent_role == "explorer"
    assert thread.cwd == "/proj"


async def test_nested_subagent_keeps_the_root_session_id() -> None:
    store = RecordingStore()
    mgr = manager(store)
    root = await mgr.start_thread(start_params(originator="root_orig"))
    child = await mgr.spawn_subagent(root.thread_id)
    grandchild = await mgr.spawn_subagent(child.thread_id, depth=2)
    assert grandchild.session_id == root.thread_id
    assert grandchild.originator == "root_orig"


async def test_spawn_subagent_of_cold_parent_does_not_inherit() -> None:
    store = RecordingStore()
    mgr = manager(store, env={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    parent = await mgr.start_thread(start_params(originator="parent_orig"))
    await parent.persist()
    await mgr.close_thread(parent.thread_id)
    child = await mgr.spawn_subagent(parent.thread_id)
    assert child.originator == "env_orig"
    assert child.session_id == parent.thread_id


# ==========================================================================================
# start / resume / close
# ==========================================================================================
async def test_start_thread_resolves_service_name() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(service_name=" Codex_Work_Desktop ")
    assert live.originator == "codex_work_desktop"
    assert (await load(store, live.thread_id))[0].payload["originator"] == "codex_work_desktop"


async def test_resume_returns_the_already_loaded_handle() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    assert await mgr.resume_thread(live.thread_id) is live
    assert store.calls["resume_thread"] == 0


async def test_resume_after_close_opens_a_new_handle() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params(originator="orig"))
    await live.append_items([user_msg("hello")])
    await mgr.close_thread(live.thread_id)

    again = await mgr.resume_thread(live.thread_id)
    assert again is not live
    assert not again.is_closed
    assert again.originator == "orig"
    assert store.calls["resume_thread"] == 1
    assert mgr.get_loaded(live.thread_id) is again


async def test_close_thread_shuts_down_and_unloads() -> None:
    store = RecordingStore()
    mgr = manager(store)
    live = await mgr.start_thread(start_params())
    await mgr.close_thread(live.thread_id)
    assert live.is_closed
    assert store.shutdowns == [live.thread_id]
    assert live.thread_id not in mgr.loaded_thread_ids
    assert mgr.get_loaded(live.thread_id) is None
    await mgr.close_thread(live.thread_id)  # not loaded any more: no-op
    await mgr.close_thread(new_thread_id())
    assert store.shutdowns == [live.thread_id]


async def test_aclose_shuts_every_thread_down() -> None:
    store = RecordingStore()
    mgr = manager(store)
    threads = [await mgr.start_thread(start_params()) for _ in range(3)]
    ephemeral = await mgr.start_thread(start_params(), ephemeral=True)
    await mgr.aclose()
    assert all(t.is_closed for t in threads)
    assert ephemeral.is_closed
    assert mgr.loaded_thread_ids == []
    assert sorted(store.shutdowns) == sorted(t.thread_id for t in threads)


class FailingMetadataStore(RecordingStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail_for: set[str] = set()

    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        if params.thread_id in self.fail_for:
            raise Internal("metadata backend down")
        return await super().update_thread_metadata(params)


async def test_aclose_tries_every_thread_and_raises_the_first_error() -> None:
    store = FailingMetadataStore()
    mgr = manager(store)
    bad = await mgr.start_thread(start_params())
    good = await mgr.start_thread(start_params())
    await bad.append_items([user_msg("pending")])
    await good.append_items([user_msg("fine")])
    store.fail_for.add(bad.thread_id)
    await bad.append_items([user_msg("more")])  # leaves metadata pending
    with pytest.raises(Internal, match="metadata backend down"):
        await mgr.aclose()
    assert good.is_closed
    assert good.thread_id in store.shutdowns
