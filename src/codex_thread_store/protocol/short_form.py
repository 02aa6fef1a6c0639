"""The Responses API's short form of a message, `{"role": "user", "content": "Hi"}`.

Agent code (the OpenAI Agents SDK among it) hands messages over in this form, without a
`"type"`. Codex would not read it and the persistence policy would drop it as an unknown
kind, so it is stored as what it means: a `message` whose content is one text part
(`input_text`, or `output_text` for the assistant). The caller's own spelling rides along
under `ORIGINAL_KEY`, which Codex ignores, so it can be given back exactly.
"""

from __future__ import annotations

from typing import Any, Final

from ..ids import new_thread_id
from .messages import content_texts
from .rollout import RolloutItem

__all__ = [
    "MESSAGE_ROLES",
    "ORIGINAL_KEY",
    "expand_short_form",
    "is_short_form",
    "with_turn_events",
]

ORIGINAL_KEY: Final = "codex_thread_store_original"
"""Where a stored item keeps the caller's spelling: `{"input": item}` for a Responses item,
`{"chat": message}` for the Chat Completions message it came from (`{"chat": None}` on
the further items one chat message became)."""

MESSAGE_ROLES: Final = frozenset({"user", "assistant", "system", "developer"})


def is_short_form(payload: Any) -> bool:
    """A message without `"type"`: a known role and string or list content."""
    return (
        isinstance(payload, dict)
        and "type" not in payload
        and payload.get("role") in MESSAGE_ROLES
        and isinstance(payload.get("content"), str | list)
    )


def expand_short_form(payload: dict[str, Any]) -> dict[str, Any]:
    """The `message` a short-form payload stands for (string content becomes one text
    part; list content is kept), with the original under `ORIGINAL_KEY`."""
    content = payload["content"]
    if isinstance(content, str):
        kind = "output_text" if payload["role"] == "assistant" else "input_text"
        content = [{"type": kind, "text": content}]
    return {**payload, "type": "message", "content": content, ORIGINAL_KEY: {"input": payload}}


def with_turn_events(item: RolloutItem, history_mode: str, thread_id: str) -> list[RolloutItem]:
    """`item`, and for a short-form message the event Codex shows it by: a user message
    becomes a turn (`user_message`, or in a paginated thread a one-message turn of typed
    items), an assistant message an `agent_message` in a legacy thread. Raw appends
    (`LiveThread.append_items`) use it; `Conversation` writes whole turns itself."""
    if item.type != "response_item" or not is_short_form(item.payload):
        return [item]
    role, content = item.payload["role"], item.payload["content"]
    text = content if isinstance(content, str) else "\n".join(content_texts(content)[0])
    if role == "user" and history_mode == "paginated":
        turn = new_thread_id()
        typed = {
            "type": "UserMessage",
            "id": new_thread_id(),
            "content": [{"type": "text", "text": text, "text_elements": []}],
        }
        return [
            RolloutItem.event_msg({"type": "task_started", "turn_id": turn}),
            item,
            RolloutItem.event_msg(
                {"type": "item_completed", "thread_id": thread_id, "turn_id": turn, "item": typed}
            ),
            RolloutItem.event_msg(
                {"type": "task_complete", "turn_id": turn, "last_agent_message": None}
            ),
        ]
    if role == "user":
        event: dict[str, Any] = {
            "type": "user_message",
            "message": text,
            "images": None,
            "local_images": [],
        }
        return [item, RolloutItem.event_msg(event)]
    if role == "assistant" and history_mode != "paginated":
        return [item, RolloutItem.event_msg({"type": "agent_message", "message": text})]
    return [item]
