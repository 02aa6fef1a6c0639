"""ThreadMetadataPatch semantics as a store sees them (core-api §10, types.rs tests):
clears survive a JSON round trip, `{}` is empty, and a merged patch means the same
as applying its parts in order."""

from __future__ import annotations

import msgspec

from builders import future, new_thread, patch, read, tid
from codex_thread_store import (
    GitInfo,
    GitInfoPatch,
    StoredThread,
    ThreadMetadataPatch,
    ThreadStore,
    UpdateThreadMetadataParams,
)

METADATA_FIELDS = [
    f
    for f in StoredThread.__struct_fields__
    # Per-thread identity and times differ between two threads by construction; the
    # rollout path is the on-disk location of each thread (None in memory).
    if f
    not in (
        "thread_id",
        "session_id",
        "root_session_id",
        "rollout_path",
        "created_at",
        "updated_at",
        "recency_at",
        "history",
    )
]


def metadata(thread: StoredThread) -> dict[str, object]:
    return {f: getattr(thread, f) for f in METADATA_FIELDS}


def round_trip(value: ThreadMetadataPatch) -> ThreadMetadataPatch:
    return msgspec.json.decode(msgspec.json.encode(value), type=ThreadMetadataPatch)


async def apply(store: ThreadStore, thread_id: str, value: ThreadMetadataPatch) -> StoredThread:
    return await store.update_thread_metadata(
        UpdateThreadMetadataParams(thread_id=thread_id, patch=value)
    )


async def test_thread_metadata_patch_round_trips_optional_clears(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await patch(
        store,
        tid(1),
        name="n",
        thread_source="automation",
        agent_nickname="a",
        agent_role="r",
        agent_path="/p",
    )
    clears = ThreadMetadataPatch(
        name=None, thread_source=None, agent_nickname=None, agent_role=None, agent_path=None
    )

    decoded = round_trip(clears)
    updated = await apply(store, tid(1), decoded)

    assert decoded == clears
    assert msgspec.json.decode(msgspec.json.encode(clears)) == {
        "name": None,
        "thread_source": None,
        "agent_nickname": None,
        "agent_role": None,
        "agent_path": None,
    }
    assert (
        updated.name,
        updated.thread_source,
        updated.agent_nickname,
        updated.agent_role,
        updated.agent_path,
    ) == (None, None, None, None, None)


async def test_git_info_patch_round_trips_optional_clears(store: ThreadStore) -> None:
    git = GitInfo(commit_hash="abc", branch="old", repository_url="https://x/r.git")
    await new_thread(store, tid(1), git_info=git)
    value = GitInfoPatch(branch="main", origin_url=None)

    encoded = msgspec.json.encode(value)
    decoded = msgspec.json.decode(encoded, type=GitInfoPatch)
    updated = await patch(store, tid(1), git_info=decoded)

    assert encoded == b'{"branch":"main","origin_url":null}'
    assert decoded == value
    assert updated.git_info == GitInfo(commit_hash="abc", branch="main", repository_url=None)


async def test_thread_metadata_patch_accepts_missing_fields(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    before = await patch(store, tid(1), name="n", preview="p", model="m")

    empty = msgspec.json.decode(b"{}", type=ThreadMetadataPatch)

    assert empty.is_empty()
    assert await apply(store, tid(1), empty) == before


async def test_thread_metadata_patch_merge_uses_presence_semantics(store: ThreadStore) -> None:
    base = ThreadMetadataPatch(
        name="old name",
        preview="old preview",
        model="old-model",
        git_info=GitInfoPatch(sha="abc123", branch="main", origin_url="https://x/r.git"),
    )
    nxt = ThreadMetadataPatch(
        name=None,
        model="new-model",
        git_info=GitInfoPatch(branch="feature", origin_url=None),
    )
    await new_thread(store, tid(1))
    await new_thread(store, tid(2))

    await apply(store, tid(1), base)
    sequential = await apply(store, tid(1), nxt)
    merged = await apply(store, tid(2), base.merge(nxt))

    assert merged.name is None
    assert merged.preview == "old preview"
    assert merged.model == "new-model"
    assert merged.git_info == GitInfo(commit_hash="abc123", branch="feature")
    assert metadata(merged) == metadata(sequential)


async def test_merged_title_and_recency_match_sequential_application(
    store: ThreadStore,
) -> None:
    first = ThreadMetadataPatch(title="first title", advance_recency_at=future(5))
    second = ThreadMetadataPatch(title="second title", preview="p")
    await new_thread(store, tid(1))
    await new_thread(store, tid(2))

    await apply(store, tid(1), first)
    sequential = await apply(store, tid(1), second)
    merged = await apply(store, tid(2), first.merge(second))

    assert merged.title == sequential.title == "second title"
    assert merged.name is None
    assert merged.recency_at == sequential.recency_at == future(5)
    assert metadata(merged) == metadata(sequential)


async def test_patch_reads_back_identically_after_a_read(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    updated = await patch(store, tid(1), name="x", git_info=GitInfoPatch(branch="b"))

    assert metadata(await read(store, tid(1))) == metadata(updated)
