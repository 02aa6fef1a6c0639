"""The rollout persistence policy (core-api 4.1, 4.2 and the policy tests of core-api 10)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from codex_thread_store import is_persisted_rollout_item, persisted_rollout_items
from codex_thread_store.policy import EXEC_OUTPUT_LIMIT_BYTES, sanitize_rollout_item
from codex_thread_store.protocol import RolloutItem, SessionMeta

MODES = ["legacy", "paginated"]


def event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


def response(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.response_item({"type": kind, **fields})


def item_completed(item_type: str) -> RolloutItem:
    return event(
        "item_completed",
        thread_id="t",
        turn_id="u",
        item={"type": item_type, "id": "i1"},
    )


# -- top-level kinds ---------------------------------------------------------------------

ALWAYS_KEPT_KINDS = [
    "session_meta",
    "turn_context",
    "compacted",
    "inter_agent_communication",
    "inter_agent_communication_metadata",
    "world_state",
    "token_usage_record",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ALWAYS_KEPT_KINDS)
def test_executive_and_state_kinds_are_kept(kind: str, mode: str) -> None:
    item = RolloutItem(kind, {"anything": 1})
    assert is_persisted_rollout_item(item, mode)
    assert persisted_rollout_items([item], mode) == [item]


def test_real_session_meta_item_is_kept() -> None:
    item = RolloutItem.session_meta(SessionMeta(id="a", timestamp="t"))
    assert is_persisted_rollout_item(item)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "kind", ["realtime_item", "retained_context", "security_risk_score", "from_the_future"]
)
def test_unknown_top_level_kinds_are_kept(kind: str, mode: str) -> None:
    item = RolloutItem(kind, {"x": [1, 2]}, {"metadata": {"k": "v"}})
    assert is_persisted_rollout_item(item, mode)
    assert persisted_rollout_items([item], mode) == [item]


# -- response items ----------------------------------------------------------------------

KEPT_RESPONSE_ITEMS = [
    "message",  # Message
    "agent_message",  # AgentMessage
    "reasoning",  # Reasoning
    "local_shell_call",  # LocalShellCall
    "function_call",  # FunctionCall
    "tool_search_call",  # ToolSearchCall
    "function_call_output",  # FunctionCallOutput
    "tool_search_output",  # ToolSearchOutput
    "custom_tool_call",  # CustomToolCall
    "custom_tool_call_output",  # CustomToolCallOutput
    "web_search_call",  # WebSearchCall
    "image_generation_call",  # ImageGenerationCall
    "compaction",  # Compaction
    "context_compaction",  # ContextCompaction
    "additional_tools",  # AdditionalTools (newest)
]

DROPPED_RESPONSE_ITEMS = [
    "compaction_trigger",  # CompactionTrigger
    "other",  # Other (unknown)
    "ghost_snapshot",  # kept only by an older generation
    "brand_new_response_item",  # unknown
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KEPT_RESPONSE_ITEMS)
def test_kept_response_items(kind: str, mode: str) -> None:
    assert is_persisted_rollout_item(response(kind, id="x"), mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", DROPPED_RESPONSE_ITEMS)
def test_dropped_response_items(kind: str, mode: str) -> None:
    assert not is_persisted_rollout_item(response(kind, id="x"), mode)
    assert persisted_rollout_items([response(kind)], mode) == []


@pytest.mark.parametrize("payload", [{}, {"type": None}, {"type": 5}, "message", None, []])
def test_response_item_without_a_string_type_is_dropped(payload: Any) -> None:
    assert not is_persisted_rollout_item(RolloutItem("response_item", payload))


# -- events ----------------------------------------------------------------------------

KEPT_EVENTS = [
    "user_message",  # UserMessage
    "agent_message",  # AgentMessage
    "agent_reasoning",  # AgentReasoning
    "agent_reasoning_raw_content",  # AgentReasoningRawContent
    "patch_apply_end",  # PatchApplyEnd
    "token_count",  # TokenCount
    "thread_goal_updated",  # ThreadGoalUpdated
    "context_compacted",  # ContextCompacted
    "entered_review_mode",  # EnteredReviewMode
    "exited_review_mode",  # ExitedReviewMode
    "mcp_tool_call_end",  # McpToolCallEnd
    "thread_rolled_back",  # ThreadRolledBack
    "turn_aborted",  # TurnAborted
    "task_started",  # TurnStarted (wire name in Codex 0.169 rollouts)
    "turn_started",  # TurnStarted
    "task_complete",  # TurnComplete (wire name in Codex 0.169 rollouts)
    "turn_complete",  # TurnComplete
    "web_search_end",  # WebSearchEnd
    "image_generation_end",  # ImageGenerationEnd
    "sub_agent_activity",  # SubAgentActivity
    "exec_command_end",  # ExecCommandEnd (sanitizing variant)
    "thread_name_updated",  # ThreadNameUpdated (older Limited list; Codex's local rename)
    # Listed as dropped in core-api 4.1, but the real CLI 0.169 persists it (it is in every
    # thread of ../shared/codex-corpus); docs/design.md records keeping it on purpose.
    "thread_settings_applied",
]

DROPPED_EVENTS = [
    "error",
    "guardian_assessment",
    "view_image_tool_call",
    "collab_agent_spawn_begin",
    "collab_agent_spawn_end",
    "collab_agent_interaction_begin",
    "collab_agent_interaction_end",
    "collab_waiting_begin",
    "collab_waiting_end",
    "collab_close_begin",
    "collab_close_end",
    "dynamic_tool_call_request",
    "dynamic_tool_call_response",
    "warning",
    "guardian_warning",
    "realtime_conversation_started",
    "realtime_conversation_realtime",
    "realtime_conversation_closed",
    "safety_buffering",
    "model_reroute",
    "model_verification",
    "turn_moderation_metadata",
    "agent_reasoning_section_break",
    "raw_response_item",
    "session_configured",
    "mcp_tool_call_begin",
    "exec_command_begin",
    "terminal_interaction",
    "exec_command_output_delta",
    "exec_approval_request",
    "request_permissions",
    "request_user_input",
    "elicitation_request",
    "apply_patch_approval_request",
    "stream_error",
    "patch_apply_begin",
    "patch_apply_updated",
    "turn_diff",
    "mcp_startup_update",
    "mcp_startup_complete",
    "web_search_begin",
    "plan_update",
    "shutdown_complete",
    "deprecation_notice",
    "item_started",
    "hook_started",
    "hook_completed",
    "agent_message_delta",
    "agent_message_content_delta",
    "plan_delta",
    "reasoning_content_delta",
    "reasoning_raw_content_delta",
    "agent_reasoning_delta",
    "image_generation_begin",
    "brand_new_event",  # unknown
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KEPT_EVENTS)
def test_kept_events(kind: str, mode: str) -> None:
    assert is_persisted_rollout_item(event(kind), mode)
    assert len(persisted_rollout_items([event(kind)], mode)) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", DROPPED_EVENTS)
def test_dropped_events(kind: str, mode: str) -> None:
    assert not is_persisted_rollout_item(event(kind), mode)
    assert persisted_rollout_items([event(kind)], mode) == []


@pytest.mark.parametrize("payload", [{}, {"type": None}, "user_message", None])
def test_event_without_a_string_type_is_dropped(payload: Any) -> None:
    assert not is_persisted_rollout_item(RolloutItem("event_msg", payload))


# -- item_completed ----------------------------------------------------------------------


def test_item_completed_plan_is_kept_in_legacy_mode() -> None:
    assert is_persisted_rollout_item(item_completed("Plan"), "legacy")


def test_legacy_is_the_default_mode() -> None:
    assert is_persisted_rollout_item(item_completed("Plan"))
    assert not is_persisted_rollout_item(item_completed("UserMessage"))
    assert persisted_rollout_items([item_completed("AgentMessage")]) == []


@pytest.mark.parametrize(
    "item_type",
    ["UserMessage", "AgentMessage", "CommandExecution", "Reasoning", "WebSearch", "Unknown"],
)
def test_other_item_completed_are_dropped_in_legacy_mode(item_type: str) -> None:
    assert not is_persisted_rollout_item(item_completed(item_type), "legacy")


@pytest.mark.parametrize(
    "item_type",
    ["Plan", "UserMessage", "AgentMessage", "CommandExecution", "Reasoning", "Unknown"],
)
def test_every_item_completed_is_kept_in_paginated_mode(item_type: str) -> None:
    assert is_persisted_rollout_item(item_completed(item_type), "paginated")


@pytest.mark.parametrize("mode", MODES)
def test_item_completed_without_an_item_in_legacy_is_dropped(mode: str) -> None:
    bare = event("item_completed")
    assert is_persisted_rollout_item(bare, mode) is (mode == "paginated")


def test_item_started_is_dropped_in_both_modes() -> None:
    started = event("item_started", item={"type": "Plan"})
    assert not is_persisted_rollout_item(started, "legacy")
    assert not is_persisted_rollout_item(started, "paginated")


# -- the older inventory tests -----------------------------------------------------------


def test_persists_image_generation_end_events() -> None:
    end = event("image_generation_end", call_id="c", status="completed", result="aGk=")
    assert persisted_rollout_items([end]) == [end]
    assert persisted_rollout_items([end], "paginated") == [end]


def test_persists_thread_name_updates() -> None:
    renamed = event("thread_name_updated", thread_id="t", thread_name="A sharper name")
    assert persisted_rollout_items([renamed]) == [renamed]
    assert persisted_rollout_items([renamed], "paginated") == [renamed]


# -- sanitizing exec_command_end ----------------------------------------------------------


def _exec_end(aggregated: str, **extra: Any) -> RolloutItem:
    return event(
        "exec_command_end",
        call_id="call_1",
        turn_id="turn_1",
        command=["bash", "-lc", "ls"],
        cwd="/repo",
        stdout="out" * 5000,
        stderr="err" * 5000,
        aggregated_output=aggregated,
        exit_code=3,
        duration={"secs": 1, "nanos": 5},
        formatted_output="fmt" * 5000,
        parsed_cmd=[{"type": "list_files", "cmd": "ls"}],
        **extra,
    )


SANITIZED_KEYS = {"stdout", "stderr", "formatted_output", "aggregated_output"}


def _check_sanitized(original: RolloutItem, kept: RolloutItem) -> str:
    assert kept.type == "event_msg"
    payload, before = kept.payload, original.payload
    assert payload["stdout"] == ""
    assert payload["stderr"] == ""
    assert payload["formatted_output"] == ""
    aggregated = payload["aggregated_output"]
    assert isinstance(aggregated, str)
    assert len(aggregated.encode("utf-8")) <= EXEC_OUTPUT_LIMIT_BYTES
    # Every other field is unchanged, key order included.
    assert list(payload) == list(before)
    for key in before:
        if key not in SANITIZED_KEYS:
            assert payload[key] == before[key], key
    assert kept.extra == original.extra
    return aggregated


def test_persists_sanitized_exec_command_completion() -> None:
    assert EXEC_OUTPUT_LIMIT_BYTES == 10_000
    aggregated = "".join(f"line {i}\n" for i in range(5000))  # ~38 KB
    original = _exec_end(aggregated)
    snapshot = copy.deepcopy(original.payload)
    [kept] = persisted_rollout_items([original])
    out = _check_sanitized(original, kept)
    assert out != aggregated
    # Middle-truncated: it keeps the start and the end of the output.
    assert out.startswith("line 0\nline 1\n")
    assert out.endswith("line 4998\nline 4999\n")
    # The input item is not modified.
    assert original.payload == snapshot


@pytest.mark.parametrize(
    "unit",
    ["é", "€", "😀", "a€😀é"],  # 2, 3, 4 and mixed UTF-8 bytes per character
)
def test_exec_output_truncation_counts_utf8_bytes(unit: str) -> None:
    # Fewer characters than the limit but more bytes: only a byte count truncates it.
    aggregated = unit * (9_000 // len(unit))
    assert len(aggregated) < EXEC_OUTPUT_LIMIT_BYTES < len(aggregated.encode())
    original = _exec_end(aggregated)
    out = _check_sanitized(original, sanitize_rollout_item(original))
    assert len(out.encode("utf-8")) <= EXEC_OUTPUT_LIMIT_BYTES
    # Not truncated to nothing: most of the byte budget is used.
    assert len(out.encode("utf-8")) >= EXEC_OUTPUT_LIMIT_BYTES - 64
    assert out.startswith(unit[0])
    assert out.endswith(unit[-1])
    # Whole characters only (a str cannot hold half a character, but it must also
    # encode cleanly).
    out.encode("utf-8", errors="strict")


@pytest.mark.parametrize("size", [0, 1, 9_999, 10_000])
def test_exec_output_within_the_limit_is_unchanged(size: int) -> None:
    aggregated = "x" * size
    original = _exec_end(aggregated)
    [kept] = persisted_rollout_items([original], "paginated")
    assert _check_sanitized(original, kept) == aggregated


def test_exec_output_of_exactly_the_limit_in_multibyte_chars_is_unchanged() -> None:
    aggregated = "€" * (EXEC_OUTPUT_LIMIT_BYTES // 3) + "a"  # 9,999 + 1 bytes
    assert len(aggregated.encode()) == EXEC_OUTPUT_LIMIT_BYTES
    original = _exec_end(aggregated)
    assert _check_sanitized(original, sanitize_rollout_item(original)) == aggregated


def test_exec_output_one_byte_over_the_limit_is_truncated() -> None:
    aggregated = "x" * (EXEC_OUTPUT_LIMIT_BYTES + 1)
    original = _exec_end(aggregated)
    out = _check_sanitized(original, sanitize_rollout_item(original))
    assert out != aggregated


def test_sanitize_does_not_add_missing_output_keys() -> None:
    original = event("exec_command_end", call_id="c", exit_code=0, aggregated_output="ok")
    kept = sanitize_rollout_item(original)
    assert kept.payload == {
        "type": "exec_command_end",
        "call_id": "c",
        "exit_code": 0,
        "aggregated_output": "ok",
    }


def test_sanitize_leaves_other_items_alone() -> None:
    big = "x" * 50_000
    others = [
        event("agent_message", message=big, stdout=big),
        response("function_call_output", output=big, stdout=big),
        RolloutItem("exec_command_end", {"stdout": big}),
    ]
    for item in others:
        assert sanitize_rollout_item(item) == item
    assert persisted_rollout_items(others[:2]) == others[:2]


# -- ordering --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_order_is_preserved_and_dropped_items_removed(mode: str) -> None:
    meta = RolloutItem.session_meta(SessionMeta(id="a", timestamp="t"))
    started = event("task_started", turn_id="u")
    begin = event("exec_command_begin", call_id="c")
    delta = event("agent_message_delta", delta="h")
    user = event("user_message", message="hi")
    fc = response("function_call", name="exec", call_id="c")
    trigger = response("compaction_trigger")
    end = _exec_end("done")
    future = RolloutItem("future_kind", {"n": 1})
    completed = item_completed("AgentMessage")
    plan = item_completed("Plan")
    done = event("task_complete", turn_id="u")
    items = [meta, started, begin, delta, user, fc, trigger, end, future, completed, plan, done]

    out = persisted_rollout_items(items, mode)
    expected = [meta, started, user, fc, end, future]
    expected += [completed, plan] if mode == "paginated" else [plan]
    expected.append(done)
    assert [i.type for i in out] == [i.type for i in expected]
    assert [i.payload_type for i in out] == [i.payload_type for i in expected]
    for got, want in zip(out, expected, strict=True):
        if want is end:
            _check_sanitized(end, got)
        else:
            assert got == want


def test_persisted_rollout_items_accepts_any_iterable() -> None:
    items = (i for i in [event("user_message", message="a"), event("exec_command_begin")])
    assert persisted_rollout_items(items) == [event("user_message", message="a")]


@pytest.mark.parametrize("kind", ["Plan", "plan", "Sleep", "sleep"])
def test_legacy_history_keeps_plan_and_sleep_items(kind: str) -> None:
    assert is_persisted_rollout_item(item_completed(kind), "legacy")
