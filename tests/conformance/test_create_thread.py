"""create_thread: the store writes the initial session_meta and the thread summary."""

from __future__ import annotations

import pytest

from builders import (
    DEFAULT_CWD,
    DEFAULT_ORIGINATOR,
    DEFAULT_PROVIDER,
    create_params,
    history,
    ms_floor,
    new_thread,
    now,
    read,
    tid,
)
from codex_thread_store import (
    Conflict,
    GitInfo,
    SessionSource,
    ThreadStore,
)


async def test_first_history_item_is_session_meta_built_from_params(store: ThreadStore) -> None:
    params = create_params(
        tid(1), thread_source="user", originator="codex_cli_rs", model_provider="acme"
    )
    await store.create_thread(params)

    items = await history(store, tid(1))

    assert len(items) == 1
    assert items[0].type == "session_meta"
    payload = items[0].payload
    assert payload["id"] == tid(1)
    assert payload["session_id"] == tid(1)
    assert payload["originator"] == "codex_cli_rs"
    assert payload["thread_source"] == "user"
    assert payload["source"] == "cli"
    assert payload["cwd"] == DEFAULT_CWD
    assert payload["model_provider"] == "acme"
    assert payload["history_mode"] == "legacy"


async def test_session_meta_is_readable_as_typed_session_meta(store: ThreadStore) -> None:
    await store.create_thread(create_params(tid(1), thread_source="automation"))

    meta = (await history(store, tid(1)))[0].as_session_meta()

    assert meta is not None
    assert meta.id == tid(1)
    assert meta.effective_session_id == tid(1)
    assert meta.thread_source == "automation"
    assert meta.source == SessionSource.cli()
    assert meta.originator == DEFAULT_ORIGINATOR
    assert meta.model_provider == DEFAULT_PROVIDER


async def test_session_meta_carries_subagent_identity(store: ThreadStore) -> None:
    source = SessionSource.thread_spawn(
        tid(1), depth=2, agent_nickname="scout", agent_role="explorer", agent_path="/a/b"
    )
    await store.create_thread(
        create_params(tid(2), session_id=tid(1), source=source, thread_source="subagent")
    )

    payload = (await history(store, tid(2)))[0].payload

    assert payload["id"] == tid(2)
    assert payload["session_id"] == tid(1)
    assert payload["parent_thread_id"] == tid(1)
    assert payload["source"] == source.to_rollout()
    assert payload["thread_source"] == "subagent"
    assert payload["agent_nickname"] == "scout"
    assert payload["agent_role"] == "explorer"
    assert payload["agent_path"] == "/a/b"


async def test_session_meta_carries_fork_window_git_and_disabled_memory(
    store: ThreadStore,
) -> None:
    window = "0190a000-0000-7000-8000-000000000abc"
    git = GitInfo(commit_hash="abc123", branch="main", repository_url="https://x/r.git")
    await store.create_thread(
        create_params(
            tid(2),
            forked_from_id=tid(1),
            initial_window_id=window,
            git_info=git,
            memory_mode="disabled",
        )
    )

    payload = (await history(store, tid(2)))[0].payload

    assert payload["forked_from_id"] == tid(1)
    assert payload["context_window"] == {"window_id": window}
    assert payload["git"] == {
        "commit_hash": "abc123",
        "branch": "main",
        "repository_url": "https://x/r.git",
    }
    assert payload["memory_mode"] == "disabled"


async def test_session_meta_omits_optional_keys_for_a_plain_root_thread(
    store: ThreadStore,
) -> None:
    await store.create_thread(create_params(tid(1)))

    payload = (await history(store, tid(1)))[0].payload

    for key in ("forked_from_id", "parent_thread_id", "thread_source", "agent_nickname", "git"):
        assert key not in payload
    assert "memory_mode" not in payload


async def test_paginated_create_records_paginated_history_mode(store: ThreadStore) -> None:
    await store.create_thread(create_params(tid(1), history_mode="paginated"))

    assert (await history(store, tid(1)))[0].payload["history_mode"] == "paginated"
    assert (await read(store, tid(1))).history_mode == "paginated"


async def test_created_thread_summary_reflects_params(store: ThreadStore) -> None:
    git = GitInfo(branch="feature")
    await store.create_thread(
        create_params(
            tid(1),
            cwd="/srv/project",
            model_provider="acme",
            thread_source="user",
            originator="codex_vscode",
            git_info=git,
        )
    )

    thread = await read(store, tid(1))

    assert thread.thread_id == tid(1)
    assert thread.session_id == tid(1)
    assert thread.cwd == "/srv/project"
    assert thread.model_provider == "acme"
    assert thread.source == SessionSource.cli()
    assert thread.thread_source == "user"
    assert thread.originator == "codex_vscode"
    assert thread.git_info == git
    assert thread.history_mode == "legacy"
    assert thread.forked_from_id is None
    assert thread.parent_thread_id is None


async def test_created_thread_has_no_derived_metadata(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    thread = await read(store, tid(1))

    assert thread.preview == ""
    assert thread.name is None
    assert thread.first_user_message is None
    assert thread.model is None
    assert thread.token_usage is None
    assert thread.archived_at is None
    assert thread.history is None


async def test_created_thread_times_are_now_and_equal(store: ThreadStore) -> None:
    before = ms_floor(now())
    await new_thread(store, tid(1))
    after = now()

    thread = await read(store, tid(1))

    assert before <= thread.created_at <= after
    assert thread.updated_at == thread.created_at
    assert thread.recency_at == thread.created_at


async def test_subagent_thread_exposes_parent_and_agent_fields(store: ThreadStore) -> None:
    source = SessionSource.thread_spawn(tid(1), agent_nickname="scout", agent_role="explorer")
    await new_thread(store, tid(2), source=source)

    thread = await read(store, tid(2))

    assert thread.parent_thread_id == tid(1)
    assert thread.source == source
    assert thread.agent_nickname == "scout"
    assert thread.agent_role == "explorer"
    assert thread.agent_path is None


async def test_explicit_parent_thread_id_is_kept(store: ThreadStore) -> None:
    await new_thread(store, tid(2), parent_thread_id=tid(1), forked_from_id=tid(3))

    thread = await read(store, tid(2))

    assert thread.parent_thread_id == tid(1)
    assert thread.forked_from_id == tid(3)


async def test_create_of_an_existing_id_is_a_conflict(store: ThreadStore) -> None:
    await new_thread(store, tid(1))

    with pytest.raises(Conflict):
        await store.create_thread(create_params(tid(1)))  # live
    await store.shutdown_thread(tid(1))
    with pytest.raises(Conflict):
        await store.create_thread(create_params(tid(1)))  # closed


async def test_failed_duplicate_create_leaves_the_thread_untouched(store: ThreadStore) -> None:
    await new_thread(store, tid(1), model_provider="first")
    await store.shutdown_thread(tid(1))

    with pytest.raises(Conflict):
        await store.create_thread(create_params(tid(1), model_provider="second"))

    items = await history(store, tid(1))
    assert [i.type for i in items] == ["session_meta"]
    assert items[0].payload["model_provider"] == "first"
    assert (await read(store, tid(1))).model_provider == "first"


async def test_threads_are_independent(store: ThreadStore) -> None:
    await new_thread(store, tid(1), model_provider="one")
    await new_thread(store, tid(2), model_provider="two")

    assert (await read(store, tid(1))).model_provider == "one"
    assert (await read(store, tid(2))).model_provider == "two"
    assert (await history(store, tid(2)))[0].payload["id"] == tid(2)
