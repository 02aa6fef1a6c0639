"""update_thread_metadata: a literal patch; absent is unchanged, None clears what is
clearable, `title` is kept apart from the name, recency only moves forward, git merges per
field."""

from __future__ import annotations

from typing import Any

import pytest

from builders import (
    append,
    at,
    future,
    history,
    new_thread,
    patch,
    read,
    shut_and_archive,
    tid,
    user_message,
)
from codex_thread_store import (
    GitInfo,
    GitInfoPatch,
    SessionSource,
    StoredThread,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadStore,
    TokenUsage,
    UpdateThreadMetadataParams,
)

USAGE = TokenUsage(input_tokens=40, output_tokens=60, reasoning_output_tokens=23, total_tokens=123)

PLAIN_VALUES: dict[str, Any] = {
    "preview": "a preview",
    "model_provider": "acme",
    "model": "gpt-5",
    "reasoning_effort": "high",
    "cwd": "/srv/elsewhere",
    "cli_version": "9.9.9",
    "first_user_message": "the first words",
    "token_usage": USAGE,
    "approval_mode": "on-request",
    "permission_profile": {"type": "read-only"},
    "memory_mode": "disabled",
    "originator": "codex_vscode",
    "source": SessionSource.exec(),
    "created_at": at(1.5),
    "updated_at": at(2.25),
}


def fields_except(thread: StoredThread, *skip: str) -> dict[str, Any]:
    return {f: getattr(thread, f) for f in StoredThread.__struct_fields__ if f not in skip}


async def test_missing_thread_is_not_found(store: ThreadStore) -> None:
    with pytest.raises(ThreadNotFound):
        await patch(store, tid(1), preview="x")


async def test_returns_the_updated_thread_and_read_agrees(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    updated = await store.update_thread_metadata(
        UpdateThreadMetadataParams(
            thread_id=tid(1), patch=ThreadMetadataPatch(preview="hello", model="gpt-5")
        )
    )

    assert updated.thread_id == tid(1)
    assert (updated.preview, updated.model) == ("hello", "gpt-5")
    assert await read(store, tid(1)) == updated


async def test_each_plain_field_is_set(store: ThreadStore) -> None:
    for n, (field, value) in enumerate(PLAIN_VALUES.items(), start=1):
        await new_thread(store, tid(n))

        updated = await patch(store, tid(n), **{field: value})

        assert getattr(updated, field) == value, field
        assert getattr(await read(store, tid(n)), field) == value, field


async def test_absent_fields_are_unchanged(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    before = await patch(store, tid(1), name="kept name", **PLAIN_VALUES)

    after = await patch(store, tid(1), preview="only this")

    assert after.preview == "only this"
    assert fields_except(after, "preview") == fields_except(before, "preview")


async def test_empty_patch_changes_nothing(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    before = await patch(store, tid(1), name="n", preview="p")

    assert await patch(store, tid(1)) == before
    assert await read(store, tid(1)) == before


async def test_none_on_a_plain_field_means_absent(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    before = await patch(store, tid(1), preview="p", model="m", first_user_message="f")

    after = await patch(
        store, tid(1), preview=None, model=None, first_user_message=None, token_usage=None
    )

    assert after == before


CLEARABLE_VALUES: dict[str, Any] = {
    "name": "A name",
    "thread_source": "automation",
    "agent_nickname": "scout",
    "agent_role": "explorer",
    "agent_path": "/root/scout",
}


async def test_each_clearable_field_is_set_then_cleared(store: ThreadStore) -> None:
    for n, (field, value) in enumerate(CLEARABLE_VALUES.items(), start=1):
        await new_thread(store, tid(n))

        set_ = await patch(store, tid(n), **{field: value})
        clear: dict[str, Any] = {field: None}
        cleared = await patch(store, tid(n), **clear)

        assert getattr(set_, field) == value, field
        assert getattr(cleared, field) is None, field
        assert getattr(await read(store, tid(n)), field) is None, field


async def test_create_time_agent_fields_can_be_cleared(store: ThreadStore) -> None:
    source = SessionSource.thread_spawn(tid(9), agent_nickname="kid", agent_role="helper")
    await new_thread(store, tid(1), source=source, thread_source="subagent")

    cleared = await patch(store, tid(1), agent_nickname=None, agent_role=None, thread_source=None)

    assert (cleared.agent_nickname, cleared.agent_role, cleared.thread_source) == (
        None,
        None,
        None,
    )
    assert cleared.parent_thread_id == tid(9)


async def test_title_is_kept_apart_from_the_name(store: ThreadStore) -> None:
    """Codex keeps the derived title (`threads.title`) apart from the name a rename sets:
    an unnamed thread's name stays null whatever its title."""
    await new_thread(store, tid(1))

    titled = await patch(store, tid(1), title="Derived title")
    renamed = await patch(store, tid(1), name="Chosen name")
    retitled = await patch(store, tid(1), title="Another title")

    assert (titled.title, titled.name) == ("Derived title", None)
    assert (renamed.title, renamed.name) == ("Derived title", "Chosen name")
    assert (retitled.title, retitled.name) == ("Another title", "Chosen name")


async def test_times_are_set_literally(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    created = await read(store, tid(1))
    await patch(store, tid(1), updated_at=at(100))

    backwards = await patch(store, tid(1), updated_at=at(50))
    recreated = await patch(store, tid(1), created_at=at(0))

    assert backwards.updated_at == at(50)
    assert backwards.created_at == created.created_at
    assert (recreated.created_at, recreated.updated_at) == (at(0), at(50))
    assert recreated.recency_at == created.recency_at


async def test_advance_recency_moves_recency_forward(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    first = await patch(store, tid(1), advance_recency_at=future(10))
    second = await patch(store, tid(1), advance_recency_at=future(20))

    assert first.recency_at == future(10)
    assert second.recency_at == future(20)
    assert second.updated_at == first.updated_at


async def test_older_advance_recency_leaves_recency(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    created = await read(store, tid(1))
    assert (await patch(store, tid(1), advance_recency_at=at(0))).recency_at == created.recency_at
    await patch(store, tid(1), advance_recency_at=future(20))

    older = await patch(store, tid(1), advance_recency_at=future(10))
    ancient = await patch(store, tid(1), advance_recency_at=at(0))
    same = await patch(store, tid(1), advance_recency_at=future(20))

    assert older.recency_at == ancient.recency_at == same.recency_at == future(20)
    assert created.recency_at < future(20)


async def test_git_patch_creates_git_info(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    updated = await patch(
        store, tid(1), git_info=GitInfoPatch(sha="abc123", branch="main", origin_url="u")
    )

    assert updated.git_info == GitInfo(commit_hash="abc123", branch="main", repository_url="u")


async def test_git_patch_merges_per_subfield(store: ThreadStore) -> None:
    git = GitInfo(commit_hash="abc123", branch="main", repository_url="https://x/r.git")
    await new_thread(store, tid(1), git_info=git)

    updated = await patch(store, tid(1), git_info=GitInfoPatch(branch="feature"))
    unchanged = await patch(store, tid(1), git_info=GitInfoPatch())

    assert updated.git_info == GitInfo(
        commit_hash="abc123", branch="feature", repository_url="https://x/r.git"
    )
    assert unchanged.git_info == updated.git_info


async def test_git_patch_clears_one_subfield(store: ThreadStore) -> None:
    git = GitInfo(commit_hash="abc123", branch="main", repository_url="https://x/r.git")
    await new_thread(store, tid(1), git_info=git)

    updated = await patch(store, tid(1), git_info=GitInfoPatch(origin_url=None, sha="def456"))

    assert updated.git_info == GitInfo(commit_hash="def456", branch="main", repository_url=None)


async def test_git_patch_clearing_everything_gives_no_git_info(store: ThreadStore) -> None:
    await new_thread(store, tid(1), git_info=GitInfo(commit_hash="abc", branch="main"))

    updated = await patch(store, tid(1), git_info=GitInfoPatch(sha=None, branch=None))

    assert updated.git_info is None
    assert (await read(store, tid(1))).git_info is None


async def test_archived_thread_needs_include_archived(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await shut_and_archive(store, tid(1))
    archived_at = (await read(store, tid(1), include_archived=True)).archived_at

    with pytest.raises(ThreadNotFound):
        await patch(store, tid(1), name="nope")

    updated = await patch(store, tid(1), include_archived=True, name="yes")
    assert updated.name == "yes"
    assert updated.archived_at == archived_at
    assert (await read(store, tid(1), include_archived=True)).name == "yes"


async def test_closed_thread_can_be_updated(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))

    assert (await patch(store, tid(1), preview="cold")).preview == "cold"


async def test_update_keeps_the_writer_live(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await patch(store, tid(1), name="live")

    await append(store, tid(1), user_message("after update"))

    assert (await history(store, tid(1)))[-1] == user_message("after update")


async def test_update_of_one_thread_leaves_others(store: ThreadStore) -> None:
    await new_thread(store, tid(1))
    await new_thread(store, tid(2))
    other = await read(store, tid(2))

    await patch(store, tid(1), name="mine", preview="mine")

    assert await read(store, tid(2)) == other
