"""Reading user and agent message text out of rollout items of every Codex vintage.

Old rollouts carry `event_msg` `user_message` / `agent_message`; 0.169 carries
`event_msg` `item_completed` with `UserMessage` / `AgentMessage` turn items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rollout import RolloutItem

__all__ = [
    "UserMessage",
    "agent_message_text",
    "content_texts",
    "message_texts",
    "user_message",
]


@dataclass(frozen=True, slots=True)
class UserMessage:
    text: str
    has_images: bool


def content_texts(content: Any) -> tuple[list[str], bool]:
    """The text parts of message content (every vintage's part kinds), and whether it
    holds an image."""
    texts: list[str] = []
    images = False
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind in ("text", "Text", "input_text", "output_text") and isinstance(
                part.get("text"), str
            ):
                texts.append(part["text"])
            elif kind in ("image", "local_image", "Image", "LocalImage", "input_image"):
                images = True
    return texts, images


def user_message(item: RolloutItem) -> UserMessage | None:
    """The user message an item carries, from either event form; else None."""
    if item.type != "event_msg" or not isinstance(item.payload, dict):
        return None
    payload = item.payload
    tag = payload.get("type")
    if tag == "user_message":
        message = payload.get("message")
        images = bool(payload.get("images")) or bool(payload.get("local_images"))
        return UserMessage(message if isinstance(message, str) else "", images)
    if tag == "item_completed":
        inner = payload.get("item")
        if isinstance(inner, dict) and inner.get("type") == "UserMessage":
            texts, images = content_texts(inner.get("content"))
            return UserMessage("\n".join(texts), images)
    return None


def agent_message_text(item: RolloutItem) -> str | None:
    """The assistant text an item carries, from either event form; else None."""
    if item.type != "event_msg" or not isinstance(item.payload, dict):
        return None
    payload = item.payload
    tag = payload.get("type")
    if tag == "agent_message":
        message = payload.get("message")
        return message if isinstance(message, str) else None
    if tag == "item_completed":
        inner = payload.get("item")
        if isinstance(inner, dict) and inner.get("type") == "AgentMessage":
            texts, _ = content_texts(inner.get("content"))
            return "\n".join(texts)
    return None


def message_texts(items: list[RolloutItem]) -> list[str]:
    """User and agent message texts in order: what full-text search indexes."""
    out: list[str] = []
    for item in items:
        user = user_message(item)
        if user is not None:
            if user.text:
                out.append(user.text)
            continue
        agent = agent_message_text(item)
        if agent:
            out.append(agent)
    return out
