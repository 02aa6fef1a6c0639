"""ThreadMetadataSync: derivation rules (core-api 5.2) and emission/deferral (core-api 5.3).

Includes every `thread_metadata_sync.rs` test of the core-api section 10 inventory.
All clocks are fakes; nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from codex_thread_store import (
    UNSET,
    CreateThreadParams,
    GitInfo,
    GitInfoPatch,
    RolloutItem,
    SessionSource,
    ThreadMetadataPatch,
    ThreadMetadataSync,
    ThreadPersistenceMetadata,
    TokenUsage,
    __version__,
    new_thread_id,
)
from codex_thread_store.metadata_sync import DEFAULT_TOUCH_INTERVAL_S, preview_text

T0 = datetime(2030, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


class FakeClock:
    """Wall clock: returns `now`, which tests move explicitly."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


class FakeMonotonic:
    def __init__(self, value: float = 1000.0) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


TID = new_thread_id()
OTHER_ID = new_thread_id()


# -- item builders --------------------------------------------------------------------------
def session_meta(
    thread_id: str = TID, *, timestamp: str = "2025-01-03T12:00:00Z", **fields: Any
) -> RolloutItem:
    payload: dict[str, Any] = {
        "session_id": thread_id,
        "id": thread_id,
        "timestamp": timestamp,
        "cwd": "",
        "originator": "",
        "cli_version": "",
        "source": "cli",
    }
    payload.update(fields)
    return RolloutItem("session_meta", payload)


def user_msg(
    text: str, *, images: list[str] | None = None, local_images: Any = None
) -> RolloutItem:
    payload: dict[str, Any] = {"type": "user_message", "message": text}
    if images is not None:
        payload["images"] = images
    if local_images is not None:
        payload["local_images"] = local_images
    return RolloutItem.event_msg(payload)


def completed_user_msg(content: list[dict[str, Any]]) -> RolloutItem:
    return RolloutItem.event_msg(
        {"type": "item_completed", "item": {"type": "UserMessage", "id": "u1", "content": content}}
    )


def goal(objective: str) -> RolloutItem:
    return RolloutItem.event_msg(
        {"type": "thread_goal_updated", "goal": {"objective": objective, "status": "active"}}
    )


def token_count(total: dict[str, Any] | None) -> RolloutItem:
    info = None if total is None else {"total_token_usage": total, "last_token_usage": total}
    return RolloutItem.event_msg({"type": "token_count", "info": info})


def turn_context(**fields: Any) -> RolloutItem:
    return RolloutItem.turn_context(fields)


def settings_applied(**settings: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": "thread_settings_applied", "thread_settings": settings})


def compacted() -> RolloutItem:
    return RolloutItem.compacted({"message": "summary"})


def turn_started(tag: str = "task_started") -> RolloutItem:
    return RolloutItem.event_msg({"type": tag, "turn_id": "turn-1"})


def new_sync(
    *,
    clock: FakeClock | None = None,
    mono: FakeMonotonic | None = None,
    interval: float = 5.0,
) -> ThreadMetadataSync:
    return ThreadMetadataSync(
        TID,
        clock=clock or FakeClock(),
        monotonic=mono or FakeMonotonic(),
        touch_interval_s=interval,
    )


def observe_patch(sync: ThreadMetadataSync, *items: RolloutItem) -> ThreadMetadataPatch:
    update = sync.observe_appended_items(list(items))
    assert update is not None
    return update.patch


def observe_fresh(*items: RolloutItem) -> ThreadMetadataPatch:
    return observe_patch(new_sync(), *items)


# ==========================================================================================
# Section 10 inventory (thread_metadata_sync.rs)
# ==========================================================================================
def test_resume_history_keeps_derived_metadata_pending_until_applied() -> None:
    sync = ThreadMetadataSync.for_resume(
        TID,
        [session_meta(timestamp="2025-01-03T12:00:00Z"), user_msg("hello metadata")],
        clock=FakeClock(),
        monotonic=FakeMonotonic(),
    )
    first = sync.take_pending_update()
    assert first is not None
    patch = first.patch
    assert patch.created_at == datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)
    assert patch.preview == "hello metadata"
    assert patch.title == "hello metadata"
    assert patch.first_user_message == "hello metadata"
    assert patch.updated_at is UNSET

    second = sync.take_pending_update()
    assert second is not None
    assert second.patch == first.patch
    assert second.generation == first.generation

    sync.mark_pending_update_applied(second)
    assert sync.take_pending_update() is None


def test_goal_update_sets_preview_without_overriding_existing_preview() -> None:
    sync = ThreadMetadataSync.for_resume(
        TID, [goal("ship the refactor"), user_msg("first user text")]
    )
    update = sync.take_pending_update()
    assert update is not None
    assert update.patch.preview == "ship the refactor"
    assert update.patch.first_user_message == "first user text"
    assert update.patch.title == "first user text"


def test_later_user_messages_do_not_emit_existing_preview_fields() -> None:
    clock = FakeClock()
    sync = ThreadMetadataSync.for_resume(
        TID,
        [session_meta(), user_msg("hello metadata")],
        clock=clock,
        monotonic=FakeMonotonic(),
    )
    taken = sync.take_pending_update()
    assert taken is not None
    sync.mark_pending_update_applied(taken)

    now = clock.advance(1)
    patch = observe_patch(sync, user_msg("later user text"))
    assert patch.preview is UNSET
    assert patch.title is UNSET
    assert patch.first_user_message is UNSET
    assert patch.updated_at == now


def test_metadata_irrelevant_items_coalesce_updated_at_touches() -> None:
    clock, mono = FakeClock(), FakeMonotonic()
    sync = ThreadMetadataSync.for_resume(TID, clock=clock, monotonic=mono, touch_interval_s=5.0)

    first = sync.observe_appended_items([compacted()])
    assert first is not None
    assert first.patch == ThreadMetadataPatch(updated_at=T0)
    sync.mark_pending_update_applied(first)
    assert sync.take_pending_update() is None

    mono.advance(1.0)
    later = clock.advance(1.0)
    assert sync.observe_appended_items([compacted()]) is None
    pending = sync.take_pending_update()
    assert pending is not None
    assert pending.patch == ThreadMetadataPatch(updated_at=later)


@pytest.mark.parametrize("tag", ["task_started", "turn_started"])
def test_turn_start_advances_recency_at_without_changing_updated_at_behavior(tag: str) -> None:
    clock = FakeClock()
    sync = ThreadMetadataSync.for_resume(TID, clock=clock, monotonic=FakeMonotonic())
    patch = observe_patch(sync, turn_started(tag))
    assert patch.updated_at == T0
    assert patch.advance_recency_at == T0
    assert set(patch.present_fields()) == {"updated_at", "advance_recency_at"}


def test_resume_history_waits_for_append_before_flushing_metadata() -> None:
    clock = FakeClock()
    sync = ThreadMetadataSync.for_resume(
        TID, [session_meta(cwd="/resumed")], clock=clock, monotonic=FakeMonotonic()
    )
    assert sync.take_pending_update_for_existing_history() is None
    assert sync.take_pending_update() is not None  # held back, not dropped

    now = clock.advance(3)
    patch = observe_patch(sync, user_msg("after resume"))
    # The resume metadata and the append's metadata travel together.
    assert patch.cwd == "/resumed"
    assert patch.created_at == datetime(2025, 1, 3, 12, tzinfo=UTC)
    assert patch.preview == "after resume"
    assert patch.updated_at == now
    assert sync.take_pending_update_for_existing_history() is not None


# ==========================================================================================
# 5.2: SessionMeta
# ==========================================================================================
def test_session_meta_of_another_thread_is_ignored() -> None:
    patch = observe_fresh(
        session_meta(
            OTHER_ID,
            cwd="/other",
            model_provider="other-provider",
            cli_version="9.9.9",
            originator="other_orig",
            thread_source="automation",
            memory_mode="disabled",
            git={"commit_hash": "abc", "branch": "main"},
        )
    )
    # Only the append's touch: nothing from the foreign session_meta.
    assert patch == ThreadMetadataPatch(updated_at=T0)


def test_session_meta_of_another_thread_does_not_mark_cwd_seen() -> None:
    sync = new_sync()
    patch = observe_patch(sync, session_meta(OTHER_ID, cwd="/other"), turn_context(cwd="/turn"))
    assert patch.cwd == "/turn"


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2025-01-03T12:00:00Z", datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)),
        ("2025-01-03T12:00:00.123Z", datetime(2025, 1, 3, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2025-01-03T14:00:00+02:00", datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)),
        ("2025-01-03T12-34-56", datetime(2025, 1, 3, 12, 34, 56, tzinfo=UTC)),
    ],
)
def test_session_meta_created_at_is_parsed(timestamp: str, expected: datetime) -> None:
    patch = observe_fresh(session_meta(timestamp=timestamp))
    assert patch.created_at == expected
    assert isinstance(patch.created_at, datetime)
    assert patch.created_at.utcoffset() == timedelta(0)


def test_unparseable_session_meta_timestamp_gives_no_created_at() -> None:
    patch = observe_fresh(session_meta(timestamp="not a timestamp"))
    assert patch.created_at is UNSET
    assert patch.source == SessionSource.cli()  # the rest of the meta still counts


def test_bad_timestamp_cancels_an_earlier_created_at_in_the_same_observation() -> None:
    patch = observe_fresh(
        session_meta(timestamp="2025-01-03T12:00:00Z"), session_meta(timestamp="yesterday")
    )
    assert patch.created_at is UNSET


def test_later_good_timestamp_wins_within_an_observation() -> None:
    patch = observe_fresh(
        session_meta(timestamp="2025-01-03T12:00:00Z"),
        session_meta(timestamp="2025-02-03T12:00:00Z"),
    )
    assert patch.created_at == datetime(2025, 2, 3, 12, tzinfo=UTC)


def test_session_meta_sets_source_thread_source_and_agent_fields() -> None:
    parent = new_thread_id()
    spawn = {
        "subagent": {
            "thread_spawn": {
                "parent_thread_id": parent,
                "depth": 1,
                "agent_path": None,
                "agent_nickname": None,
                "agent_role": None,
            }
        }
    }
    patch = observe_fresh(
        session_meta(
            source=spawn,
            thread_source="automation",
            agent_nickname="Robie",
            agent_role="explorer",
            agent_path="/root/explorer",
        )
    )
    assert patch.source == SessionSource(spawn)
    assert patch.thread_source == "automation"
    assert patch.agent_nickname == "Robie"
    assert patch.agent_role == "explorer"
    assert patch.agent_path == "/root/explorer"


def test_session_meta_without_thread_source_or_agent_fields_clears_them() -> None:
    patch = observe_fresh(session_meta())
    present = set(patch.present_fields())
    for name in ("thread_source", "agent_nickname", "agent_role", "agent_path"):
        assert name in present, name
        assert getattr(patch, name) is None, name


def test_session_meta_agent_type_is_an_alias_of_agent_role() -> None:
    patch = observe_fresh(session_meta(agent_type="worker"))
    assert patch.agent_role == "worker"


def test_session_meta_empty_provider_cli_version_and_cwd_are_not_emitted() -> None:
    sync = new_sync()
    patch = observe_patch(sync, session_meta(model_provider="", cli_version="", cwd=""))
    assert patch.model_provider is UNSET
    assert patch.cli_version is UNSET
    assert patch.cwd is UNSET
    assert sync.cwd_seen is False


def test_session_meta_null_model_provider_is_not_emitted() -> None:
    patch = observe_fresh(session_meta(model_provider=None))
    assert patch.model_provider is UNSET


def test_session_meta_non_empty_provider_cli_version_and_cwd_are_emitted() -> None:
    sync = new_sync()
    patch = observe_patch(
        sync, session_meta(model_provider="azure", cli_version="0.169.0", cwd="/work/repo")
    )
    assert patch.model_provider == "azure"
    assert patch.cli_version == "0.169.0"
    assert patch.cwd == "/work/repo"
    assert sync.cwd_seen is True


def test_session_meta_git_sets_only_present_subfields() -> None:
    patch = observe_fresh(session_meta(git={"commit_hash": "abc123", "branch": "main"}))
    assert patch.git_info == GitInfoPatch(sha="abc123", branch="main")
    assert isinstance(patch.git_info, GitInfoPatch)
    assert patch.git_info.origin_url is UNSET


def test_session_meta_git_subfields_merge_across_items() -> None:
    patch = observe_fresh(
        session_meta(git={"commit_hash": "abc123", "branch": "main"}),
        session_meta(git={"branch": "feature", "repository_url": "https://x/y.git"}),
    )
    assert patch.git_info == GitInfoPatch(
        sha="abc123", branch="feature", origin_url="https://x/y.git"
    )


def test_session_meta_without_git_emits_no_git_info() -> None:
    assert observe_fresh(session_meta()).git_info is UNSET


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("enabled", "enabled"), ("disabled", "disabled"), ("polluted", UNSET), ("", UNSET)],
)
def test_session_meta_memory_mode_only_enabled_or_disabled(mode: str, expected: Any) -> None:
    assert observe_fresh(session_meta(memory_mode=mode)).memory_mode == expected


def test_session_meta_without_memory_mode_emits_none() -> None:
    assert observe_fresh(session_meta()).memory_mode is UNSET


def test_session_meta_originator_only_when_non_empty() -> None:
    assert observe_fresh(session_meta(originator="codex_vscode")).originator == "codex_vscode"
    assert observe_fresh(session_meta(originator="")).originator is UNSET


def test_session_meta_sets_history_mode_of_the_sync() -> None:
    sync = new_sync()
    observe_patch(sync, session_meta(history_mode="paginated"))
    assert sync.history_mode == "paginated"


def test_session_meta_cwd_beats_a_later_turn_context_cwd() -> None:
    patch = observe_fresh(session_meta(cwd="/meta"), turn_context(cwd="/turn"))
    assert patch.cwd == "/meta"


# ==========================================================================================
# 5.2: TurnContext
# ==========================================================================================
def test_turn_context_first_cwd_wins() -> None:
    sync = new_sync()
    patch = observe_patch(sync, turn_context(cwd="/first"), turn_context(cwd="/second"))
    assert patch.cwd == "/first"
    assert sync.cwd_seen is True
    later = observe_patch(sync, turn_context(cwd="/third"))
    assert later.cwd == "/first"  # the pending merge still says /first: nothing new emitted
    sync2 = new_sync()
    sync2.observe_appended_items([turn_context(cwd="/first")])
    taken = sync2.take_pending_update()
    assert taken is not None
    sync2.mark_pending_update_applied(taken)
    assert observe_patch(sync2, turn_context(cwd="/third")).cwd is UNSET


def test_turn_context_sets_model_approval_and_permission_profile() -> None:
    profile = {"type": "workspace_write", "writable_roots": ["/w"]}
    patch = observe_fresh(
        turn_context(
            cwd="/w",
            model="gpt-5.5",
            approval_policy="on-request",
            permission_profile=profile,
        )
    )
    assert patch.model == "gpt-5.5"
    assert patch.approval_mode == "on-request"
    assert patch.permission_profile == profile


def test_turn_context_latest_model_wins() -> None:
    patch = observe_fresh(turn_context(model="gpt-a"), turn_context(model="gpt-b"))
    assert patch.model == "gpt-b"


def test_turn_context_effort_field() -> None:
    assert observe_fresh(turn_context(effort="high")).reasoning_effort == "high"


def test_turn_context_collaboration_mode_reasoning_effort() -> None:
    item = turn_context(
        model="gpt-5.5",
        collaboration_mode={"mode": "default", "settings": {"reasoning_effort": "low"}},
    )
    assert observe_fresh(item).reasoning_effort == "low"


def test_turn_context_without_effort_leaves_reasoning_effort_alone() -> None:
    patch = observe_fresh(turn_context(model="gpt-5.5"))
    assert patch.reasoning_effort is UNSET
    assert patch.approval_mode is UNSET
    assert patch.permission_profile is UNSET


# ==========================================================================================
# 5.2: user messages
# ==========================================================================================
def test_preview_text_strips_request_marker_and_trims() -> None:
    text = "<environment>stuff</environment>\n## My request for Codex:\n   fix the bug  \n"
    assert preview_text(text, False) == "fix the bug"
    assert preview_text("  plain  ", False) == "plain"
    assert preview_text("   ", True) == "[Image]"
    assert preview_text("## My request for Codex:   ", False) is None
    assert preview_text("", False) is None


def test_user_message_sets_preview_title_and_first_user_message() -> None:
    patch = observe_fresh(user_msg("context\n## My request for Codex:\n  do the thing  "))
    assert patch.preview == "do the thing"
    assert patch.title == "do the thing"
    assert patch.first_user_message == "do the thing"
    assert patch.updated_at == T0


def test_image_only_user_message_sets_placeholder_preview_but_no_title() -> None:
    sync = new_sync()
    patch = observe_patch(sync, user_msg("", images=["data:image/png;base64,AAAA"]))
    assert patch.preview == "[Image]"
    assert patch.first_user_message == "[Image]"
    assert patch.title is UNSET

    later = observe_patch(sync, user_msg("now with words"))
    # The title was never taken, so the first text message sets it; preview and
    # first_user_message already were.
    assert later.title == "now with words"
    assert later.preview == "[Image]"
    assert later.first_user_message == "[Image]"


def test_local_images_count_as_images() -> None:
    patch = observe_fresh(user_msg("  ", local_images=["/tmp/shot.png"]))
    assert patch.preview == "[Image]"
    assert patch.title is UNSET


def test_empty_user_message_without_images_sets_nothing() -> None:
    sync = new_sync()
    patch = observe_patch(sync, user_msg("## My request for Codex:   "))
    assert patch.preview is UNSET
    assert patch.title is UNSET
    assert patch.first_user_message is UNSET
    assert patch.updated_at == T0
    # Nothing was seen, so the next real message takes all three.
    nxt = observe_patch(sync, user_msg("real"))
    assert (nxt.preview, nxt.title, nxt.first_user_message) == ("real", "real", "real")


def test_first_user_message_and_title_are_set_once() -> None:
    sync = new_sync()
    first = sync.observe_appended_items([user_msg("one"), user_msg("two")])
    assert first is not None
    assert first.patch.preview == "one"
    assert first.patch.title == "one"
    assert first.patch.first_user_message == "one"
    sync.mark_pending_update_applied(first)
    again = observe_patch(sync, user_msg("three"))
    assert again.present_fields() == ["updated_at"]


def test_item_completed_user_message_form_is_a_user_message() -> None:
    sync = new_sync()
    patch = observe_patch(
        sync,
        completed_user_msg(
            [{"type": "text", "text": "## My request for Codex:\nfrom 0.169", "text_elements": []}]
        ),
    )
    assert patch.preview == "from 0.169"
    assert patch.title == "from 0.169"
    assert patch.first_user_message == "from 0.169"


def test_item_completed_image_only_user_message_gives_placeholder() -> None:
    patch = observe_fresh(completed_user_msg([{"type": "image", "image_url": "data:x"}]))
    assert patch.preview == "[Image]"
    assert patch.first_user_message == "[Image]"
    assert patch.title is UNSET


def test_item_completed_agent_message_derives_nothing() -> None:
    item = RolloutItem.event_msg(
        {
            "type": "item_completed",
            "item": {"type": "AgentMessage", "content": [{"type": "Text", "text": "hi"}]},
        }
    )
    assert observe_fresh(item) == ThreadMetadataPatch(updated_at=T0)


def test_response_item_user_message_derives_nothing() -> None:
    item = RolloutItem.response_item(
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hey"}]}
    )
    assert observe_fresh(item) == ThreadMetadataPatch(updated_at=T0)


# ==========================================================================================
# 5.2: goal, token count, thread settings
# ==========================================================================================
def test_goal_first_owns_preview_in_live_observation() -> None:
    sync = new_sync()
    patch = observe_patch(sync, goal("  ship it  "))
    assert patch.preview == "ship it"
    assert patch.first_user_message is UNSET
    assert patch.title is UNSET
    later = observe_patch(sync, user_msg("user words"))
    assert later.preview == "ship it"
    assert later.first_user_message == "user words"
    assert later.title == "user words"


def test_goal_after_user_message_does_not_override_preview() -> None:
    patch = observe_fresh(user_msg("user first"), goal("late goal"))
    assert patch.preview == "user first"


def test_blank_goal_does_not_take_the_preview() -> None:
    patch = observe_fresh(goal("   "), user_msg("user text"))
    assert patch.preview == "user text"


def test_token_count_latest_wins() -> None:
    patch = observe_fresh(
        token_count({"input_tokens": 10, "output_tokens": 1, "total_tokens": 11}),
        token_count(
            {
                "input_tokens": 20,
                "cached_input_tokens": 5,
                "output_tokens": 3,
                "reasoning_output_tokens": 2,
                "total_tokens": 23,
            }
        ),
    )
    assert patch.token_usage == TokenUsage(
        input_tokens=20,
        cached_input_tokens=5,
        output_tokens=3,
        reasoning_output_tokens=2,
        total_tokens=23,
    )


def test_token_count_across_observations_latest_wins() -> None:
    sync = new_sync()
    observe_patch(sync, token_count({"input_tokens": 1, "total_tokens": 1}))
    patch = observe_patch(sync, token_count({"input_tokens": 7, "total_tokens": 7}))
    assert patch.token_usage == TokenUsage(input_tokens=7, total_tokens=7)


def test_token_count_without_info_sets_no_usage() -> None:
    patch = observe_fresh(token_count(None))
    assert patch.token_usage is UNSET
    assert patch.updated_at == T0


def test_thread_settings_applied_sets_every_setting() -> None:
    profile = {"type": "read_only"}
    sync = new_sync()
    patch = observe_patch(
        sync,
        turn_context(cwd="/first"),
        settings_applied(
            model="gpt-5.5",
            model_provider_id="openai-eu",
            reasoning_effort="xhigh",
            cwd="/settings",
            approval_policy="never",
            permission_profile=profile,
        ),
        turn_context(cwd="/later"),
    )
    assert patch.model == "gpt-5.5"
    assert patch.model_provider == "openai-eu"
    assert patch.reasoning_effort == "xhigh"
    assert patch.cwd == "/settings"  # always applied, even after a cwd was seen
    assert patch.approval_mode == "never"
    assert patch.permission_profile == profile
    assert sync.cwd_seen is True


def test_thread_settings_applied_collaboration_mode_effort() -> None:
    patch = observe_fresh(
        settings_applied(collaboration_mode={"settings": {"reasoning_effort": "medium"}})
    )
    assert patch.reasoning_effort == "medium"


# ==========================================================================================
# 5.3: for_create
# ==========================================================================================
def test_for_create_patch_contents() -> None:
    parent = new_thread_id()
    clock = FakeClock()
    source = SessionSource.thread_spawn(
        parent, depth=2, agent_nickname="Nick", agent_role="reviewer", agent_path="/a/b"
    )
    params = CreateThreadParams(
        source=source,
        thread_source="subagent",
        originator="codex_vscode",
        cli_version="1.2.3",
        git_info=GitInfo(commit_hash="abc", branch="main"),
        metadata=ThreadPersistenceMetadata(
            cwd="/repo", model_provider="azure", memory_mode="disabled"
        ),
    )
    sync = ThreadMetadataSync.for_create(params, clock=clock, monotonic=FakeMonotonic())
    assert sync.thread_id == params.thread_id
    assert sync.generation == 1
    assert sync.cwd_seen is True
    update = sync.take_pending_update()
    assert update is not None
    assert update.generation == 1
    assert update.patch == ThreadMetadataPatch(
        model_provider="azure",
        created_at=T0,
        updated_at=T0,
        source=source,
        thread_source="subagent",
        agent_nickname="Nick",
        agent_role="reviewer",
        agent_path="/a/b",
        cwd="/repo",
        cli_version="1.2.3",
        git_info=GitInfoPatch(sha="abc", branch="main"),
        memory_mode="disabled",
        originator="codex_vscode",
    )


def test_for_create_defaults_clear_and_empty_cwd() -> None:
    params = CreateThreadParams()
    sync = ThreadMetadataSync.for_create(params, clock=FakeClock(), monotonic=FakeMonotonic())
    assert sync.cwd_seen is False
    update = sync.take_pending_update()
    assert update is not None
    patch = update.patch
    assert patch.cwd == ""  # the empty path, not absent
    assert patch.cli_version == __version__
    assert patch.model_provider == "openai"
    assert patch.memory_mode == "enabled"
    assert patch.source == SessionSource.cli()
    for name in ("thread_source", "agent_nickname", "agent_role", "agent_path"):
        assert name in patch.present_fields(), name
        assert getattr(patch, name) is None, name
    assert patch.originator is UNSET
    assert patch.git_info is UNSET


def test_for_create_git_info_argument_overrides_params() -> None:
    params = CreateThreadParams(git_info=GitInfo(commit_hash="from-params"))
    sync = ThreadMetadataSync.for_create(params, git_info=GitInfo(branch="probe"))
    update = sync.take_pending_update()
    assert update is not None
    assert update.patch.git_info == GitInfoPatch(branch="probe")


def test_for_create_empty_git_info_is_not_sent() -> None:
    sync = ThreadMetadataSync.for_create(CreateThreadParams(git_info=GitInfo()))
    update = sync.take_pending_update()
    assert update is not None
    assert update.patch.git_info is UNSET


def test_for_create_is_deferred_until_history_exists() -> None:
    clock = FakeClock()
    sync = ThreadMetadataSync.for_create(
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd="/c")),
        clock=clock,
        monotonic=FakeMonotonic(),
    )
    assert sync.take_pending_update_for_existing_history() is None
    assert sync.take_pending_update() is not None

    appended_at = clock.advance(2)
    update = sync.observe_appended_items([user_msg("hi")])
    assert update is not None
    # The first append sends the create patch merged with the append's facts.
    assert update.patch.created_at == T0
    assert update.patch.updated_at == appended_at
    assert update.patch.cwd == "/c"
    assert update.patch.preview == "hi"
    assert update.generation == 2
    assert sync.take_pending_update_for_existing_history() is not None


def test_for_create_first_metadata_irrelevant_append_still_sends_create_patch() -> None:
    mono = FakeMonotonic()
    sync = ThreadMetadataSync.for_create(
        CreateThreadParams(), clock=FakeClock(), monotonic=mono, touch_interval_s=5.0
    )
    update = sync.observe_appended_items([compacted()])
    assert update is not None
    assert update.patch.created_at == T0


# ==========================================================================================
# 5.3: for_resume
# ==========================================================================================
def test_for_resume_without_history_has_nothing_pending_and_no_deferral() -> None:
    sync = ThreadMetadataSync.for_resume(TID)
    assert sync.take_pending_update() is None
    assert sync.take_pending_update_for_existing_history() is None
    assert sync.generation == 0


def test_for_resume_with_metadata_irrelevant_history_is_not_deferred() -> None:
    clock, mono = FakeClock(), FakeMonotonic()
    sync = ThreadMetadataSync.for_resume(TID, [compacted()], clock=clock, monotonic=mono)
    assert sync.take_pending_update() is None


def test_for_resume_paginated_history_drops_git_and_memory_mode() -> None:
    sync = ThreadMetadataSync.for_resume(
        TID,
        [
            session_meta(
                history_mode="paginated",
                memory_mode="disabled",
                git={"commit_hash": "abc"},
                cwd="/p",
            )
        ],
    )
    assert sync.history_mode == "paginated"
    update = sync.take_pending_update()
    assert update is not None
    assert update.patch.git_info is UNSET
    assert update.patch.memory_mode is UNSET
    assert update.patch.cwd == "/p"


def test_for_resume_legacy_history_keeps_git_and_memory_mode() -> None:
    sync = ThreadMetadataSync.for_resume(
        TID, [session_meta(memory_mode="disabled", git={"commit_hash": "abc"})]
    )
    update = sync.take_pending_update()
    assert update is not None
    assert update.patch.git_info == GitInfoPatch(sha="abc")
    assert update.patch.memory_mode == "disabled"


def test_for_resume_replay_marks_seen_flags() -> None:
    sync = ThreadMetadataSync.for_resume(TID, [session_meta(cwd="/m"), user_msg("old")])
    assert sync.cwd_seen and sync.preview_seen and sync.title_seen
    assert sync.first_user_message_seen


# ==========================================================================================
# 5.3: generations
# ==========================================================================================
def test_mark_applied_with_current_generation_clears_pending() -> None:
    sync = new_sync()
    update = sync.observe_appended_items([user_msg("x")])
    assert update is not None
    assert update.generation == sync.generation == 1
    sync.mark_pending_update_applied(update)
    assert sync.take_pending_update() is None


def test_merge_between_take_and_mark_keeps_pending() -> None:
    clock = FakeClock()
    sync = new_sync(clock=clock)
    taken = sync.observe_appended_items([user_msg("first")])
    assert taken is not None
    later = clock.advance(1)
    sync.observe_appended_items([token_count({"input_tokens": 3, "total_tokens": 3})])
    assert sync.generation == taken.generation + 1

    sync.mark_pending_update_applied(taken)
    still = sync.take_pending_update()
    assert still is not None
    assert still.generation == taken.generation + 1
    # The merged patch carries both the first and the newer facts.
    assert still.patch.preview == "first"
    assert still.patch.token_usage == TokenUsage(input_tokens=3, total_tokens=3)
    assert still.patch.updated_at == later

    sync.mark_pending_update_applied(still)
    assert sync.take_pending_update() is None


def test_take_does_not_bump_generation() -> None:
    sync = new_sync()
    sync.observe_appended_items([user_msg("x")])
    generation = sync.generation
    sync.take_pending_update()
    sync.take_pending_update()
    assert sync.generation == generation


def test_every_merge_bumps_generation_even_when_debounced() -> None:
    mono = FakeMonotonic()
    sync = new_sync(mono=mono)
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)
    before = sync.generation
    assert sync.observe_appended_items([compacted()]) is None
    assert sync.generation == before + 1


# ==========================================================================================
# 5.3: debounce
# ==========================================================================================
def test_default_touch_interval_is_five_seconds() -> None:
    assert DEFAULT_TOUCH_INTERVAL_S == 5.0


def test_touch_after_the_window_is_returned_again() -> None:
    clock, mono = FakeClock(), FakeMonotonic()
    sync = new_sync(clock=clock, mono=mono, interval=5.0)
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)

    mono.advance(4.999)
    clock.advance(4.999)
    assert sync.observe_appended_items([compacted()]) is None

    mono.advance(0.001)  # exactly the interval since the last persisted touch
    now = clock.advance(0.001)
    again = sync.observe_appended_items([compacted()])
    assert again is not None
    assert again.patch == ThreadMetadataPatch(updated_at=now)


def test_touch_interval_is_configurable() -> None:
    mono = FakeMonotonic()
    sync = new_sync(mono=mono, interval=0.05)
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)
    mono.advance(0.01)
    assert sync.observe_appended_items([compacted()]) is None
    mono.advance(0.05)
    assert sync.observe_appended_items([compacted()]) is not None


def test_debounce_window_starts_when_touch_is_applied_not_observed() -> None:
    mono = FakeMonotonic()
    sync = new_sync(mono=mono, interval=5.0)
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    mono.advance(10.0)
    sync.mark_pending_update_applied(first)  # the window starts here
    mono.advance(1.0)
    assert sync.observe_appended_items([compacted()]) is None


def test_unapplied_touch_is_never_debounced() -> None:
    mono = FakeMonotonic()
    sync = new_sync(mono=mono)
    assert sync.observe_appended_items([compacted()]) is not None
    # Nothing was marked applied, so there is no last persisted touch.
    assert sync.observe_appended_items([compacted()]) is not None


def test_metadata_affecting_append_is_never_debounced() -> None:
    sync = new_sync()
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)
    update = sync.observe_appended_items([token_count({"total_tokens": 1})])
    assert update is not None


def test_turn_start_is_never_debounced() -> None:
    sync = new_sync()
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)
    update = sync.observe_appended_items([turn_started("turn_started")])
    assert update is not None
    assert update.patch.advance_recency_at == T0


def test_touch_with_pending_metadata_fact_is_not_debounced() -> None:
    clock, mono = FakeClock(), FakeMonotonic()
    sync = new_sync(clock=clock, mono=mono)
    first = sync.observe_appended_items([compacted()])
    assert first is not None
    sync.mark_pending_update_applied(first)

    failed = sync.observe_appended_items([user_msg("not yet applied")])
    assert failed is not None  # ... and the apply failed: not marked

    now = clock.advance(1)
    mono.advance(1)
    retry = sync.observe_appended_items([compacted()])
    assert retry is not None
    assert retry.patch.preview == "not yet applied"
    assert retry.patch.updated_at == now


def test_pending_name_alone_is_not_a_metadata_fact() -> None:
    assert not ThreadMetadataPatch(updated_at=T0, name="x").has_metadata_fact()
    assert ThreadMetadataPatch(updated_at=T0, advance_recency_at=T0).has_metadata_fact()


def test_mark_applied_without_updated_at_does_not_start_a_window() -> None:
    sync = ThreadMetadataSync.for_resume(
        TID, [session_meta()], clock=FakeClock(), monotonic=FakeMonotonic()
    )
    taken = sync.take_pending_update()
    assert taken is not None
    assert taken.patch.updated_at is UNSET
    sync.mark_pending_update_applied(taken)
    # No touch was ever persisted, so the first touch goes out.
    assert sync.observe_appended_items([compacted()]) is not None


@pytest.mark.parametrize("payload", [None, "text", ["model", "m"], 7])
def test_a_turn_context_whose_payload_is_not_an_object_derives_nothing(payload: Any) -> None:
    sync = new_sync()
    odd = RolloutItem("turn_context", payload)

    update = sync.observe_appended_items([odd, turn_context(model="m-1")])

    assert update is not None
    assert update.patch.model == "m-1"  # the odd item neither failed nor set anything
    alone = new_sync().observe_appended_items([odd])
    assert alone is None or alone.patch.model is UNSET  # alone it sets no model
