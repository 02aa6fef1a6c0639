"""The rollout line kinds Codex keeps in durable history (its `codex-rs/rollout` policy,
widened by what the real CLI 0.169+ writes). The persistence policy (`policy.py`) and
the legacy replay (`protocol/items/legacy.py`) both start from these lists."""

from __future__ import annotations

from typing import Final

__all__ = ["ALWAYS_PERSISTED_KINDS", "PERSISTED_EVENTS", "PERSISTED_RESPONSE_ITEMS"]

ALWAYS_PERSISTED_KINDS: Final = frozenset(
    {
        "session_meta",
        "turn_context",
        "compacted",
        "world_state",
        "token_usage_record",
        "inter_agent_communication",
        "inter_agent_communication_metadata",
    }
)

PERSISTED_RESPONSE_ITEMS: Final = frozenset(
    {
        "message",
        "agent_message",
        "reasoning",
        "local_shell_call",
        "function_call",
        "tool_search_call",
        "function_call_output",
        "tool_search_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "web_search_call",
        "image_generation_call",
        "compaction",
        "context_compaction",
        "additional_tools",
    }
)

PERSISTED_EVENTS: Final = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "patch_apply_end",
        "token_count",
        "thread_goal_updated",
        "context_compacted",
        "entered_review_mode",
        "exited_review_mode",
        "mcp_tool_call_end",
        "thread_rolled_back",
        "turn_aborted",
        "task_started",
        "turn_started",
        "task_complete",
        "turn_complete",
        "web_search_end",
        "image_generation_end",
        "sub_agent_activity",
        "exec_command_end",
        # Written by Codex's local rename and by the real CLI; both must survive a re-append.
        "thread_name_updated",
        "thread_settings_applied",
    }
)
