"""LiveThread: ordering of history and metadata, deferral, barriers, retries, lifecycle.

The inline (non-background-worker) design: append_items appends the raw items,
then sends the metadata they imply. Stores here are small InMemoryThreadStore
subclasses that record the sequence of calls or fail on demand.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import (
    UNSET,
    AppendThreadItemsParams,
    Conflict,
    CreateThreadParams,
    GitInfo,
    GitInfoPatch,
    InMemoryThreadStore,
    Internal,
    LiveThread,
    LoadThreadHistoryParams,
    OriginatorResolver,
    ReadThreadParams,
    ResourceExhausted,
    ResumeThreadParams,
    RolloutItem,
    SessionSource,
    StoredThread,
    StoredThreadHistory,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)
from codex_thread_store.originator import ORIGINATOR_OVERRIDE_ENV

T0 = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


# -- stores ---------------------------------------------------------------------------------
class RecordingStore(InMemoryThreadStore):
    """Records every lifecycle/write call in order (before delegating)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[tuple[str, Any]] = []

    def ops(self) -> list[str]:
        return [name for name, _ in self.log]

    def update_patches(self) -> list[ThreadMetadataPatch]:
        return [p.patch for name, p in self.log if name == "update_thread_metadata"]

    def clear(self) -> None:
        self.log.clear()

    async def create_thread(self, params: CreateThreadParams) -> None:
        self.log.append(("create_thread", params))
        await super().create_thread(params)

    async def resume_thread(self, params: ResumeThreadParams) -> None:
        self.log.append(("resume_thread", params))
        await super().resume_thread(params)

    async def append_items(self, params: AppendThreadItemsParams) -> None:
        self.log.append(("append_items", params))
        await super().append_items(params)

    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        self.log.append(("update_thread_metadata", params))
        return await super().update_thread_metadata(params)

    async def persist_thread(self, thread_id: str) -> None:
        self.log.append(("persist_thread", thread_id))
        await super().persist_thread(thread_id)

    async def flush_thread(self, thread_id: str) -> None:
        self.log.append(("flush_thread", thread_id))
        await super().flush_thread(thread_id)

    async def shutdown_thread(self, thread_id: str) -> None:
        self.log.append(("shutdown_thread", thread_id))
        await super().shutdown_thread(thread_id)

    async def discard_thread(self, thread_id: str) -> None:
        self.log.append(("discard_thread", thread_id))
        await super().discard_thread(thread_id)

    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        self.log.append(("load_history", params))
        return await super().load_history(params)


class FlakyMetadataStore(RecordingStore):
    """update_thread_metadata fails `failures` times (after being recorded), then works."""

    def __init__(self, failures: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures = failures
        self.applied: list[ThreadMetadataPatch] = []

    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        if self.failures > 0:
            self.log.append(("update_thread_metadata", params))
            self.failures -= 1
            raise Conflict("barrier failure")
        thread = await super().update_thread_metadata(params)
        self.applied.append(params.patch)
        return thread


class FailingLoadStore(RecordingStore):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.load_error: BaseException | None = None
        self.discard_error: BaseException | None = None

    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        if self.load_error is not None:
            self.log.append(("load_history", params))
            raise self.load_error
        return await super().load_history(params)

    async def discard_thread(self, thread_id: str) -> None:
        await super().discard_thread(thread_id)
        if self.discard_error is not None:
            raise self.discard_error


# -- items ----------------------------------------------------------------------------------
def user_msg(text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": "user_message", "message": text, "images": []})


def not_persisted_event() -> RolloutItem:
    # `exec_command_begin` is not in the persistence policy: the store drops it.
    return RolloutItem.event_msg({"type": "exec_command_begin", "call_id": "c1"})


def agent_msg(text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": "agent_message", "message": text})


def params(**kwargs: Any) -> CreateThreadParams:
    kwargs.setdefault("originator", "test_orig")
    kwargs.setdefault(
        "metadata", ThreadPersistenceMetadata(cwd="/work/project", model_provider="prov")
    )
    return CreateThreadParams(**kwargs)


async def create(
    store: InMemoryThreadStore, *, clock: FakeClock | None = None, **kwargs: Any
) -> LiveThread:
    return await LiveThread.create(
        store,
        params(**kwargs),
        collect_git=False,
        originators=OriginatorResolver(environ={}),
        sync_options={"clock": clock or FakeClock(), "monotonic": FakeMonotonic()},
    )


async def read(store: InMemoryThreadStore, thread_id: str) -> StoredThread:
    return await store.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))


async def history(store: InMemoryThreadStore, thread_id: str) -> list[RolloutItem]:
    loaded = await store.load_history(
        LoadThreadHistoryParams(thread_id=thread_id, include_archived=True)
    )
    return loaded.items


# ==========================================================================================
# append ordering
# ==========================================================================================
async def test_history_is_appended_before_metadata() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    raw = [user_msg("first message"), not_persisted_event()]
    await live.append_items(raw)

    assert store.ops() == ["append_items", "update_thread_metadata"]
    append_params = store.log[0][1]
    assert append_params.thread_id == live.thread_id
    assert append_params.items == raw  # the RAW items; the store filters itself
    update_params = store.log[1][1]
    assert update_params.thread_id == live.thread_id
    assert update_params.include_archived is True
    assert update_params.patch.preview == "first message"


async def test_first_append_sends_create_patch_merged_in_one_update() -> None:
    store = RecordingStore()
    clock = FakeClock()
    live = await create(store, clock=clock)
    assert store.calls["update_thread_metadata"] == 0  # deferred until history exists

    appended_at = clock.advance(5)
    await live.append_items([user_msg("hello")])
    patches = store.update_patches()
    assert len(patches) == 1
    patch = patches[0]
    assert patch.created_at == T0
    assert patch.updated_at == appended_at
    assert patch.model_provider == "prov"
    assert patch.cwd == "/work/project"
    assert patch.originator == "test_orig"
    assert patch.preview == "hello"

    thread = await read(store, live.thread_id)
    assert thread.created_at == T0
    assert thread.updated_at == appended_at
    assert thread.preview == "hello"
    assert (thread.title, thread.name) == ("hello", None)  # a derived title names nothing
    assert thread.first_user_message == "hello"


async def test_empty_append_makes_no_store_call() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    await live.append_items([])
    assert store.ops() == []


async def test_non_canonical_append_observes_nothing() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    await live.append_items([not_persisted_event()])
    assert store.ops() == ["append_items"]  # reaches the store, which drops it
    # Nothing was observed, so the create patch is still held back.
    await live.flush()
    assert store.ops() == ["append_items", "flush_thread"]
    assert len(await history(store, live.thread_id)) == 1  # just the session_meta


async def test_failed_append_sends_no_metadata() -> None:
    store = RecordingStore(max_item_bytes=200)
    live = await create(store)
    store.clear()
    with pytest.raises(ResourceExhausted):
        await live.append_items([user_msg("x" * 1000)])
    assert store.ops() == ["append_items"]
    await live.flush()
    assert "update_thread_metadata" not in store.ops()


# ==========================================================================================
# metadata failures and retries
# ==========================================================================================
async def test_metadata_failure_is_retried_at_flush_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyMetadataStore(failures=2)
    live = await create(store)
    store.clear()

    with caplog.at_level(logging.WARNING):
        await live.append_items([user_msg("first message")])  # update #1 fails: not raised
    assert "durable append succeeded but thread metadata projection failed" in caplog.text
    assert store.ops() == ["append_items", "update_thread_metadata"]
    assert store.applied == []

    with pytest.raises(Conflict, match="barrier failure"):
        await live.flush()  # update #2 (the retry) fails: raised
    assert store.ops()[-2:] == ["flush_thread", "update_thread_metadata"]
    assert store.applied == []

    await live.flush()  # update #3 succeeds
    assert len(store.applied) == 1
    assert store.applied[0].preview == "first message"
    assert store.applied[0].created_at == T0  # still carries the create patch

    thread = await read(store, live.thread_id)
    assert thread.preview == "first message"
    assert store.calls["append_items"] == 1
    items = await history(store, live.thread_id)
    assert [i.type for i in items] == ["session_meta", "event_msg"]
    assert items[1] == user_msg("first message")
    assert store.ops().count("append_items") == 1

    attempts = store.ops().count("update_thread_metadata")
    await live.flush()  # nothing pending any more
    assert store.ops().count("update_thread_metadata") == attempts


async def test_retry_carries_later_facts_too() -> None:
    store = FlakyMetadataStore(failures=1)
    live = await create(store)
    await live.append_items([user_msg("first")])
    await live.append_items(
        [RolloutItem.event_msg({"type": "token_count", "info": {"total_token_usage": {}}})]
    )
    # The second append's update succeeded and carried the first's pending facts.
    assert len(store.applied) == 1
    assert store.applied[0].preview == "first"
    assert (await read(store, live.thread_id)).preview == "first"


# ==========================================================================================
# barriers
# ==========================================================================================
async def test_flush_right_after_create_sends_nothing() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    await live.flush()
    assert store.ops() == ["flush_thread"]


async def test_persist_sends_the_create_patch() -> None:
    store = RecordingStore()
    clock = FakeClock(datetime(2032, 6, 7, 8, 9, 10, tzinfo=UTC))
    live = await create(store, clock=clock)
    store.clear()
    await live.persist()
    assert store.ops() == ["persist_thread", "update_thread_metadata"]
    patch = store.update_patches()[0]
    assert patch.created_at == clock.now
    assert patch.updated_at == clock.now
    assert patch.originator == "test_orig"
    assert patch.cwd == "/work/project"
    thread = await read(store, live.thread_id)
    assert thread.created_at == clock.now  # the create patch was applied

    store.clear()
    await live.flush()
    assert store.ops() == ["flush_thread"]  # nothing left pending


async def test_shutdown_after_create_sends_no_deferred_metadata() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    await live.shutdown()
    assert store.ops() == ["shutdown_thread"]
    assert live.is_closed


async def test_shutdown_flushes_pending_metadata_then_closes() -> None:
    store = FlakyMetadataStore(failures=1)
    live = await create(store)
    await live.append_items([user_msg("pending at shutdown")])
    store.clear()
    await live.shutdown()
    assert store.ops() == ["update_thread_metadata", "shutdown_thread"]
    assert store.applied[-1].preview == "pending at shutdown"
    assert live.is_closed
    assert (await read(store, live.thread_id)).preview == "pending at shutdown"


async def test_shutdown_closes_the_writer_even_when_metadata_fails() -> None:
    # Regression: shutdown used to return on a metadata error before closing the writer,
    # leaving a live writer nobody tracked, so every later resume got a Conflict.
    store = FlakyMetadataStore(failures=2)
    live = await create(store)
    await live.append_items([user_msg("pending at shutdown")])  # update fails, stays pending
    store.clear()
    with pytest.raises(Internal, match="barrier failure"):
        await live.shutdown()
    assert store.ops() == ["update_thread_metadata", "shutdown_thread"]
    assert live.is_closed
    await store.resume_thread(ResumeThreadParams(thread_id=live.thread_id))  # no Conflict


async def test_append_after_shutdown_raises_thread_not_found() -> None:
    store = RecordingStore()
    live = await create(store)
    await live.shutdown()
    store.clear()
    with pytest.raises(ThreadNotFound) as info:
        await live.append_items([user_msg("late")])
    assert info.value.thread_id == live.thread_id
    assert store.ops() == []
    await live.shutdown()  # a second shutdown is a no-op
    assert store.ops() == []


async def test_discard_is_idempotent_and_drops_pending_metadata() -> None:
    store = FlakyMetadataStore(failures=1)
    live = await create(store)
    await live.append_items([user_msg("never projected")])
    store.clear()

    await live.discard()
    assert store.ops() == ["discard_thread"]
    assert live.is_closed
    await live.discard()
    assert "update_thread_metadata" not in store.ops()
    assert store.applied == []

    with pytest.raises(ThreadNotFound):
        await live.append_items([user_msg("after discard")])
    assert "append_items" not in store.ops()
    for barrier in (live.flush, live.persist):
        with pytest.raises(ThreadNotFound):
            await barrier()
    with pytest.raises(ThreadNotFound):
        await live.update_metadata(ThreadMetadataPatch(name="x"))
    assert "update_thread_metadata" not in store.ops()


async def test_discard_after_shutdown_is_a_no_op() -> None:
    store = RecordingStore()
    live = await create(store)
    await live.shutdown()
    store.clear()
    await live.discard()
    assert store.ops() == []


# ==========================================================================================
# explicit mutations
# ==========================================================================================
async def test_update_metadata_is_ordered_after_derived_patches() -> None:
    store = FlakyMetadataStore(failures=1)
    live = await create(store)
    await live.append_items([user_msg("derived title")])  # its update failed: pending
    store.clear()

    thread = await live.update_metadata(ThreadMetadataPatch(name="explicit"))
    assert store.ops() == ["update_thread_metadata", "update_thread_metadata"]
    derived, explicit = store.update_patches()
    assert derived.title == "derived title"
    assert explicit == ThreadMetadataPatch(name="explicit")
    assert store.log[1][1].include_archived is False
    # Were the derived title applied last, it would have overwritten the explicit name.
    assert thread.name == "explicit"
    assert thread.preview == "derived title"
    assert (await read(store, live.thread_id)).name == "explicit"


async def test_update_metadata_flushes_the_held_back_create_patch_first() -> None:
    store = RecordingStore()
    clock = FakeClock()
    live = await create(store, clock=clock)
    store.clear()
    await live.update_metadata(ThreadMetadataPatch(name="named"), include_archived=True)
    assert store.ops() == ["update_thread_metadata", "update_thread_metadata"]
    create_patch, explicit = store.update_patches()
    assert create_patch.created_at == T0
    assert explicit == ThreadMetadataPatch(name="named")
    assert store.log[1][1].include_archived is True


async def test_update_metadata_with_nothing_pending_sends_only_the_patch() -> None:
    store = RecordingStore()
    live = await create(store)
    await live.persist()
    store.clear()
    await live.update_memory_mode("disabled")
    assert store.ops() == ["update_thread_metadata"]
    assert store.update_patches() == [ThreadMetadataPatch(memory_mode="disabled")]
    assert (await read(store, live.thread_id)).memory_mode == "disabled"


# ==========================================================================================
# resume
# ==========================================================================================
async def _create_and_close(store: InMemoryThreadStore, **kwargs: Any) -> str:
    live = await create(store, **kwargs)
    await live.append_items([user_msg("stored message")])
    await live.shutdown()
    return live.thread_id


@pytest.mark.parametrize("error", [Internal("disk on fire"), RuntimeError("unexpected")])
async def test_resume_with_failing_load_discards_writer_and_reraises(
    error: BaseException,
) -> None:
    store = FailingLoadStore()
    thread_id = await _create_and_close(store)
    store.clear()
    store.load_error = error

    with pytest.raises(type(error)) as info:
        await LiveThread.resume(store, ResumeThreadParams(thread_id=thread_id))
    assert info.value is error
    assert store.ops() == ["resume_thread", "load_history", "discard_thread"]

    # The writer was discarded: a new resume is not a Conflict.
    store.load_error = None
    live = await LiveThread.resume(store, ResumeThreadParams(thread_id=thread_id))
    assert live.thread_id == thread_id


async def test_resume_reports_load_error_even_if_discard_fails() -> None:
    store = FailingLoadStore()
    thread_id = await _create_and_close(store)
    load_error = Internal("load failed")
    store.load_error = load_error
    store.discard_error = Internal("discard failed")
    with pytest.raises(Internal) as info:
        await LiveThread.resume(store, ResumeThreadParams(thread_id=thread_id))
    assert info.value is load_error


async def test_resume_reads_originator_and_source_from_first_session_meta() -> None:
    store = RecordingStore()
    thread_id = await _create_and_close(
        store, originator="persisted_orig", source=SessionSource.exec()
    )
    live = await LiveThread.resume(
        store,
        ResumeThreadParams(thread_id=thread_id),
        inherited_originator="inherited_orig",
        originators=OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "env_orig"}),
    )
    assert live.originator == "persisted_orig"
    assert live.source == SessionSource.exec()
    assert live.session_id == thread_id


async def test_resume_with_supplied_history_uses_its_first_session_meta() -> None:
    store = RecordingStore()
    thread_id = await _create_and_close(store, originator="stored_orig")
    stored = await history(store, thread_id)
    own_meta = stored[0]
    copied_payload = dict(own_meta.payload)
    copied_payload.update(originator="second_orig", source="mcp")
    supplied_payload = dict(own_meta.payload)
    supplied_payload.update(originator="first_orig", source="vscode")
    supplied = [
        RolloutItem("session_meta", supplied_payload),
        RolloutItem("session_meta", copied_payload),
        *stored[1:],
    ]
    store.clear()
    live = await LiveThread.resume(
        store,
        ResumeThreadParams(thread_id=thread_id, history=supplied),
        originators=OriginatorResolver(environ={}),
    )
    assert "load_history" not in store.ops()
    assert live.originator == "first_orig"
    assert live.source == SessionSource.vscode()


async def test_resume_without_persisted_originator_falls_back_to_env() -> None:
    store = RecordingStore()
    meta_less = CreateThreadParams(originator="")  # stored session_meta has originator ""
    await store.create_thread(meta_less)
    await store.persist_thread(meta_less.thread_id)
    await store.shutdown_thread(meta_less.thread_id)
    live = await LiveThread.resume(
        store,
        ResumeThreadParams(thread_id=meta_less.thread_id),
        originators=OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "env_orig"}),
    )
    assert live.originator == "env_orig"


async def test_resumed_history_metadata_waits_for_the_first_append() -> None:
    store = RecordingStore()
    thread_id = await _create_and_close(store)
    store.clear()
    live = await LiveThread.resume(
        store,
        ResumeThreadParams(thread_id=thread_id),
        sync_options={"clock": FakeClock(), "monotonic": FakeMonotonic()},
    )
    await live.flush()
    assert "update_thread_metadata" not in store.ops()
    await live.append_items([agent_msg("reply")])
    patches = store.update_patches()
    assert len(patches) == 1
    assert patches[0].preview == "stored message"  # replayed, sent with the append
    assert patches[0].updated_at == T0


# ==========================================================================================
# git probe on create
# ==========================================================================================
def _git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_DATE="2030-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2030-01-01T00:00:00Z",
    )
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "symbolic-ref", "HEAD", "refs/heads/trunk")
    _git(repo, "config", "user.email", "tests@example.com")
    _git(repo, "config", "user.name", "Tests")
    _git(repo, "remote", "add", "origin", "https://example.com/acme/repo.git")
    (repo / "README").write_text("hello\n")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "initial")
    return repo, _git(repo, "rev-parse", "HEAD")


async def test_create_collects_git_info_inside_a_repo(git_repo: tuple[Path, str]) -> None:
    repo, sha = git_repo
    store = RecordingStore()
    live = await LiveThread.create(
        store,
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd=str(repo))),
        collect_git=True,
        originators=OriginatorResolver(environ={}),
    )
    await live.persist()
    expected = GitInfo(
        commit_hash=sha, branch="trunk", repository_url="https://example.com/acme/repo.git"
    )
    items = await history(store, live.thread_id)
    assert items[0].type == "session_meta"
    assert items[0].payload["git"] == {
        "commit_hash": sha,
        "branch": "trunk",
        "repository_url": "https://example.com/acme/repo.git",
    }
    thread = await read(store, live.thread_id)
    assert thread.git_info == expected
    patch = store.update_patches()[0]
    assert patch.git_info == GitInfoPatch(
        sha=sha, branch="trunk", origin_url="https://example.com/acme/repo.git"
    )


async def test_create_outside_a_repo_leaves_git_info_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    store = RecordingStore()
    live = await LiveThread.create(
        store,
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd=str(plain))),
        collect_git=True,
        originators=OriginatorResolver(environ={}),
    )
    await live.persist()
    items = await history(store, live.thread_id)
    assert "git" not in items[0].payload
    assert (await read(store, live.thread_id)).git_info is None
    assert store.update_patches()[0].git_info is UNSET


async def test_create_with_collect_git_false_does_not_probe(
    git_repo: tuple[Path, str],
) -> None:
    repo, _ = git_repo
    store = RecordingStore()
    live = await LiveThread.create(
        store,
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd=str(repo))),
        collect_git=False,
        originators=OriginatorResolver(environ={}),
    )
    await live.persist()
    assert (await read(store, live.thread_id)).git_info is None
    assert "git" not in (await history(store, live.thread_id))[0].payload


# ==========================================================================================
# create basics
# ==========================================================================================
async def test_create_resolves_empty_originator_and_records_it() -> None:
    store = RecordingStore()
    live = await LiveThread.create(
        store,
        CreateThreadParams(),
        collect_git=False,
        service_name="CODEX_WORK_DESKTOP",
        originators=OriginatorResolver(environ={}),
    )
    assert live.originator == "codex_work_desktop"
    created = store.log[0][1]
    assert created.originator == "codex_work_desktop"
    meta = (await history(store, live.thread_id))[0]
    assert meta.payload["originator"] == "codex_work_desktop"


async def test_create_failure_leaves_no_handle() -> None:
    store = RecordingStore()
    existing = await create(store)
    with pytest.raises(Conflict):
        await create(store, thread_id=existing.thread_id)


# ==========================================================================================
# history modes and unexpected store errors
# ==========================================================================================
def completed_user_msg(text: str) -> RolloutItem:
    return RolloutItem.event_msg(
        {
            "type": "item_completed",
            "thread_id": "t",
            "turn_id": "turn-1",
            "item": {
                "type": "UserMessage",
                "id": "u1",
                "content": [{"type": "text", "text": text}],
            },
        }
    )


async def test_paginated_thread_derives_from_item_completed_user_message() -> None:
    store = RecordingStore()
    live = await create(store, history_mode="paginated")
    await live.append_items([completed_user_msg("paginated words")])
    assert store.update_patches()[-1].preview == "paginated words"
    assert (await read(store, live.thread_id)).preview == "paginated words"


async def test_legacy_thread_ignores_non_canonical_item_completed() -> None:
    store = RecordingStore()
    live = await create(store)
    store.clear()
    await live.append_items([completed_user_msg("legacy words")])
    # Not canonical in legacy history: appended raw (the store drops it), nothing observed.
    assert store.ops() == ["append_items"]


class OSErrorMetadataStore(FlakyMetadataStore):
    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        if self.failures > 0:
            self.log.append(("update_thread_metadata", params))
            self.failures -= 1
            raise OSError("connection reset by peer")
        return await super().update_thread_metadata(params)


async def test_unexpected_metadata_error_after_durable_append_is_not_raised() -> None:
    store = OSErrorMetadataStore(failures=1)
    live = await create(store)
    # The history is durable once append_items returned from the store; raising here
    # would invite the caller to append it again.
    await live.append_items([user_msg("durable")])
    assert store.calls["append_items"] == 1
    await live.flush()  # the retry succeeds
    assert store.applied[-1].preview == "durable"
    assert store.ops().count("append_items") == 1


async def test_shutdown_after_resume_sends_no_deferred_resume_metadata() -> None:
    store = RecordingStore()
    thread_id = await _create_and_close(store)
    live = await LiveThread.resume(store, ResumeThreadParams(thread_id=thread_id))
    assert live.metadata_sync.take_pending_update() is not None  # replayed, held back
    store.clear()
    await live.shutdown()
    assert store.ops() == ["shutdown_thread"]


async def test_flush_history_makes_history_durable_and_leaves_a_debounced_touch_pending() -> None:
    store = RecordingStore()
    live = await create(store)
    await live.append_items([user_msg("hi")])
    await live.append_items([agent_msg("one")])  # a bare touch inside the debounce window
    store.clear()
    await live.flush_history()
    assert store.ops() == ["flush_thread"]
    assert live.metadata_sync.take_pending_update() is not None  # the touch still waits
    await live.shutdown()
    with pytest.raises(ThreadNotFound, match="flush_history"):
        await live.flush_history()
